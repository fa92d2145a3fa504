//! `dumcel show`: the state, or a saved plan.

use std::path::PathBuf;

use anyhow::Result;

use dumcel_engine::plan::state_value;
use dumcel_planner::{InstanceAddr, InstanceKey, Mode, Value, render};
use dumcel_state::State;

use super::planning::load_plan;
use crate::backends::open_state_of_config;
use crate::session::LockFlags;
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A saved plan file; the current state when left out.
    pub path: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ui: &Ui, args: ShowArgs) -> Result<u8> {
    if let Some(path) = &args.path {
        let plan = load_plan(path)?;
        if args.json {
            println!("{}", render::json_plan(&plan));
        } else {
            print!("{}", render::human_plan(&plan, &ui.render_options()));
        }
        return Ok(0);
    }
    let state = open_state_of_config(ui, "show", &LockFlags::none())
        .await?
        .state;
    if args.json {
        println!("{}", state_json(&state));
        return Ok(0);
    }
    if state.resources.is_empty() && state.outputs.is_empty() {
        println!("The state file is empty. No resources are represented.");
        return Ok(0);
    }
    for (address, inst) in &state.resources {
        print!(
            "{}",
            render::human_resource(
                address,
                &inst.resource_type,
                &state_value(inst),
                &ui.render_options()
            )
        );
        println!();
    }
    super::output::print_all(&state);
    Ok(0)
}

/// The state as JSON in Terraform's `show -json` shape, sensitive values as null.
pub fn state_json(state: &State) -> serde_json::Value {
    let resources: Vec<serde_json::Value> = state
        .resources
        .iter()
        .map(|(address, inst)| {
            let value = state_value(inst);
            let (mode, name, index) = match address.parse::<InstanceAddr>() {
                Ok(a) => (
                    if a.resource.mode == Mode::Data { "data" } else { "managed" },
                    a.resource.name.clone(),
                    match a.key {
                        InstanceKey::None => serde_json::Value::Null,
                        InstanceKey::Int(i) => serde_json::json!(i),
                        InstanceKey::Str(s) => serde_json::json!(s),
                    },
                ),
                Err(_) => ("managed", String::new(), serde_json::Value::Null),
            };
            let mut obj = serde_json::json!({
                "address": address,
                "mode": mode,
                "type": inst.resource_type,
                "name": name,
                "provider_name": inst.provider,
                "values": redacted(&value),
                "sensitive_values": inst.sensitive_attributes.iter().map(|a| (a.clone(), serde_json::Value::Bool(true))).collect::<serde_json::Map<_, _>>(),
                "depends_on": inst.dependencies,
                "tainted": inst.tainted,
            });
            if !index.is_null() {
                obj["index"] = index;
            }
            obj
        })
        .collect();
    let outputs: serde_json::Map<String, serde_json::Value> = state
        .outputs
        .iter()
        .map(|(k, o)| {
            let value = if o.sensitive {
                serde_json::Value::Null
            } else {
                o.value.clone()
            };
            (
                k.clone(),
                serde_json::json!({ "sensitive": o.sensitive, "value": value }),
            )
        })
        .collect();
    serde_json::json!({
        "format_version": "1.0",
        "dumcel_version": env!("CARGO_PKG_VERSION"),
        "serial": state.serial,
        "lineage": state.lineage,
        "values": { "outputs": outputs, "root_module": { "resources": resources } },
    })
}

fn redacted(v: &Value) -> serde_json::Value {
    match v {
        Value::Sensitive(_) => serde_json::Value::Null,
        Value::List(items) => serde_json::Value::Array(items.iter().map(redacted).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), redacted(v))).collect())
        }
        other => other.to_json_lossy(),
    }
}
