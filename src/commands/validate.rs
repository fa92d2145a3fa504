//! `dumcel validate`: check the configuration without touching state or
//! anything real.

use std::path::Path;

use anyhow::Result;

use dumcel_engine::config::load::load_module;
use dumcel_engine::config::{Diagnostics, Module, SourceMap, Span};
use dumcel_engine::plan::{PlanOptions, Refreshed, plan};
use dumcel_engine::stack::Stack;
use dumcel_planner::Value;
use dumcel_state::State;

use crate::session::registry;
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ui: &Ui, args: ValidateArgs) -> Result<u8> {
    let mut sources = SourceMap::default();
    let result = match load_module(Path::new("."), &mut sources) {
        Ok(module) => check(module, &sources).await,
        Err(d) => Err(d),
    };
    let diags = match &result {
        Ok(()) => Diagnostics::new(),
        Err(d) => d.clone(),
    };
    let errors = diags.0.iter().filter(|x| x.is_error()).count();
    if args.json {
        println!("{}", json_report(&sources, &diags, errors));
    } else if errors == 0 {
        println!("{}", ui.green("Success! The configuration is valid."));
    } else {
        ui.diagnostics(&sources, &diags);
    }
    Ok(if errors == 0 { 0 } else { 1 })
}

/// Plans the stack against an empty state without touching anything real.
async fn check(module: Module, sources: &SourceMap) -> Result<(), Diagnostics> {
    // Variables without defaults are unknown: validation holds for any value.
    let mut vars = dumcel_planner::Map::new();
    for (name, decl) in &module.variables {
        let v = match &decl.default {
            Some(expr) => {
                dumcel_engine::eval::eval(expr, &dumcel_engine::eval::Scope::new(&module.dir))
                    .unwrap_or(Value::Unknown)
            }
            None => Value::Unknown,
        };
        vars.insert(name.clone(), v.mark_if(decl.sensitive));
    }
    let stack = Stack::new(module, sources.clone(), registry(), vars, "default")?;
    let opts = PlanOptions {
        refresh: false,
        saved_or_json: false,
        ..PlanOptions::default()
    };
    plan(&stack, &State::new(), &Refreshed::default(), &opts)
        .await
        .map(|_| ())
}

/// Terraform's `validate -json` document: every diagnostic, loading
/// errors included, with its file and range.
fn json_report(sources: &SourceMap, diags: &Diagnostics, errors: usize) -> serde_json::Value {
    let position = |span: Span, offset: u32| {
        let at = Span {
            start: offset,
            ..span
        };
        let (line, column) = sources.line_col(at).unwrap_or((0, 0));
        serde_json::json!({ "line": line, "column": column, "byte": offset })
    };
    let items: Vec<serde_json::Value> = diags
        .0
        .iter()
        .map(|x| {
            let range = x.span.map(|s| {
                serde_json::json!({
                    "filename": sources.get(s.file).map(|f| f.name.clone()),
                    "start": position(s, s.start),
                    "end": position(s, s.end),
                })
            });
            let mut d = serde_json::json!({
                "severity": if x.is_error() { "error" } else { "warning" },
                "summary": x.summary,
                "detail": x.detail,
            });
            if let Some(range) = range {
                d["range"] = range;
            }
            d
        })
        .collect();
    serde_json::json!({
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": diags.0.len() - errors,
        "diagnostics": items,
    })
}
