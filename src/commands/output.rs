//! `dumcel output`: the stack's outputs from state.

use anyhow::Result;

use dumcel_planner::{Value, render};
use dumcel_state::State;

use crate::backends::open_state_of_config;
use crate::session::{LockFlags, report};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// One output; all when left out.
    pub name: Option<String>,
    /// As JSON.
    #[arg(long)]
    pub json: bool,
    /// A string output's raw text, for scripts.
    #[arg(long)]
    pub raw: bool,
}

/// The outputs under an `Outputs:` heading, after apply and in `show`.
pub fn print_all(state: &State) {
    if state.outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    print_lines(state);
}

/// `name = value` lines, sensitive ones hidden.
fn print_lines(state: &State) {
    for (name, o) in &state.outputs {
        if o.sensitive {
            println!("{name} = <sensitive>");
        } else {
            println!(
                "{name} = {}",
                render::human_value(&Value::from_json(&o.value), 0)
            );
        }
    }
}

pub async fn run(ui: &Ui, args: OutputArgs) -> Result<u8> {
    let state = open_state_of_config(ui, "output", &LockFlags::none())
        .await?
        .state;
    match &args.name {
        None if args.json => {
            let all: serde_json::Map<String, serde_json::Value> = state
                .outputs
                .iter()
                .map(|(k, o)| {
                    (
                        k.clone(),
                        serde_json::json!({ "sensitive": o.sensitive, "value": o.value }),
                    )
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        None => {
            if state.outputs.is_empty() {
                eprintln!(
                    "Warning: no outputs found. The state has no outputs; declare output blocks and apply."
                );
                return Ok(0);
            }
            print_lines(&state);
        }
        Some(name) => {
            let Some(o) = state.outputs.get(name) else {
                return Err(report(format!(
                    "output \"{name}\" not found; the state has: {}",
                    state.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            };
            // Asking for one output by name shows it, as Terraform does.
            if args.raw {
                match &o.value {
                    serde_json::Value::String(s) => print!("{s}"),
                    serde_json::Value::Number(n) => print!("{n}"),
                    serde_json::Value::Bool(b) => print!("{b}"),
                    _ => {
                        return Err(report(
                            "-raw works only for string, number and bool outputs; use -json",
                        ));
                    }
                }
            } else if args.json {
                println!("{}", o.value);
            } else {
                println!("{}", render::human_value(&Value::from_json(&o.value), 0));
            }
        }
    }
    Ok(0)
}
