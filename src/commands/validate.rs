//! `dumcel validate`: check the configuration without touching state or
//! anything real.

use anyhow::Result;

use dumcel_engine::plan::{PlanOptions, Refreshed, plan};
use dumcel_engine::stack::Stack;
use dumcel_planner::Value;
use dumcel_state::State;

use crate::session::{load_config, registry};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ui: &Ui, args: ValidateArgs) -> Result<u8> {
    let (module, sources) = load_config(ui)?;
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
    let result = match Stack::new(module, sources.clone(), registry(), vars, "default") {
        Ok(stack) => {
            let opts = PlanOptions {
                refresh: false,
                ..PlanOptions::default()
            };
            plan(&stack, &State::new(), &Refreshed::default(), &opts)
                .await
                .map(|_| ())
        }
        Err(d) => Err(d),
    };
    match result {
        Ok(()) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "valid": true, "error_count": 0, "diagnostics": [] })
                );
            } else {
                println!("{}", ui.green("Success! The configuration is valid."));
            }
            Ok(0)
        }
        Err(d) => {
            if args.json {
                let diags: Vec<serde_json::Value> = d
                    .0
                    .iter()
                    .map(|x| {
                        let range = x.span.map(|s| {
                            let (line, column) = sources.line_col(s).unwrap_or((0, 0));
                            serde_json::json!({ "filename": sources.get(s.file).map(|f| f.name.clone()), "start": { "line": line, "column": column, "byte": s.start } })
                        });
                        serde_json::json!({ "severity": if x.is_error() { "error" } else { "warning" }, "summary": x.summary, "detail": x.detail, "range": range })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({ "valid": false, "error_count": d.0.iter().filter(|x| x.is_error()).count(), "diagnostics": diags })
                );
            } else {
                ui.diagnostics(&sources, &d);
            }
            Ok(1)
        }
    }
}
