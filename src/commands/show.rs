//! `dumcel show`: the state, or a saved plan.

use std::path::PathBuf;

use anyhow::Result;

use dumcel_engine::plan::state_value;
use dumcel_planner::render;

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
        println!("{}", render::json_state(&state));
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
