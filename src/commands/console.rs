//! `dumcel console`: evaluate expressions against the configuration and the
//! current state, one per line (a prompt on a terminal, a script otherwise).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

use dumcel_engine::config::Diagnostic;
use dumcel_engine::config::lower::Lowerer;
use dumcel_engine::eval::eval;
use dumcel_engine::plan::state_value;
use dumcel_engine::stack::{ModuleInstance, Values};
use dumcel_planner::{InstanceAddr, render};
use dumcel_state::State;

use crate::session::{LockFlags, VarFlags, build_stack, load_config, variables};
use crate::ui::{Ui, render_diagnostics};

#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub vars: VarFlags,
}

/// The recorded objects as values expressions can refer to.
fn values_from_state(state: &State) -> Values {
    let mut values = Values::default();
    for (address, inst) in &state.resources {
        let Ok(addr) = address.parse::<InstanceAddr>() else {
            continue;
        };
        for depth in 1..=addr.resource.module.len() {
            let steps = addr.resource.module[..depth].to_vec();
            let all = values
                .modules
                .entry(dumcel_engine::stack::static_prefix(&steps))
                .or_default();
            if !all.iter().any(|m| m.steps == steps) {
                all.push(ModuleInstance {
                    steps,
                    each: dumcel_planner::Value::Null,
                });
            }
        }
        values
            .instances
            .entry(addr.resource.to_string())
            .or_default()
            .insert(addr.key.clone(), state_value(inst));
    }
    values
}

pub async fn run(ui: &Ui, args: ConsoleArgs) -> Result<u8> {
    let (module, mut sources) = load_config(ui)?;
    let vars = variables(ui, &module, &mut sources, &args.vars)?;
    let stack = build_stack(ui, module, sources, vars)?;
    let state = crate::backends::open_state(Some(&stack.module), "console", &LockFlags::none())
        .await?
        .state;
    let values = values_from_state(&state);
    let interactive = std::io::stdin().is_terminal();
    let mut sources = stack.sources.clone();
    let mut failed = false;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            print!("> ");
            let _ = std::io::stdout().flush();
        }
        let Some(Ok(line)) = lines.next() else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "exit" {
            break;
        }
        let file = sources.add(
            std::path::Path::new("<console>"),
            "<console>".into(),
            line.to_owned(),
        );
        let result = hcl_edit::parser::parse_expr(line)
            .map_err(|e| {
                Diagnostic::error(format!("Invalid expression: {}", e.message()), "", None).into()
            })
            .and_then(|parsed| {
                let expr = Lowerer::new(file).expr(&parsed);
                let scope = stack.scope_for(
                    &expr.references(),
                    &values,
                    &ModuleInstance::root(),
                    None,
                    true,
                )?;
                eval(&expr, &scope).map_err(|e| Diagnostic::from(e).into())
            });
        match result {
            Ok(v) => println!("{}", render::human_value(&v, 0)),
            Err(d) => {
                failed = true;
                eprint!("{}", render_diagnostics(&sources, &d));
            }
        }
    }
    Ok(if failed && !interactive { 1 } else { 0 })
}
