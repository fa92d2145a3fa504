//! `dumcel plan`: show what apply would do.

use std::path::PathBuf;

use anyhow::Result;

use dumcel_planner::render;

use super::planning::{make_plan, save_plan};
use crate::session::{
    LockFlags, PlanFlags, VarFlags, backend, build_stack, load_config, lock_and_load, prepare,
    variables,
};
use crate::ui::{ProgressHooks, Ui};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    /// Save the plan to FILE, for `dumcel apply FILE`.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON (see the README for the format).
    #[arg(long)]
    pub json: bool,
    /// Exit 0 with no changes, 1 on error, 2 when there are changes.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Plan to destroy everything the state records.
    #[arg(long)]
    pub destroy: bool,
    #[command(flatten)]
    pub planning: PlanFlags,
}

pub async fn run(ui: &Ui, args: PlanArgs) -> Result<u8> {
    let (module, mut sources) = load_config(ui)?;
    let vars = variables(ui, &module, &mut sources, &args.vars)?;
    let stack = build_stack(ui, module, sources, vars)?;
    let mut locked = lock_and_load(backend(Some(&stack.module))?, "plan", &args.lock).await?;
    prepare(ui, &stack, &mut locked).await?;
    let hooks = ProgressHooks { quiet: args.json };
    let opts = args.planning.options(args.destroy);
    if !opts.targets.is_empty() {
        eprintln!(
            "Warning: resource targeting is in effect: the plan covers only {} and what they depend on. Use it for exceptional cases, not routinely.",
            opts.targets.join(", ")
        );
    }
    let planned = make_plan(ui, &stack, &mut locked.state, &opts, &hooks).await?;
    let plan = &planned.plan;
    if args.json {
        println!("{}", render::json_plan(plan));
    } else {
        if !locked.state.resources.is_empty() && args.planning.refresh {
            println!();
        }
        print!("{}", render::human_drift(plan, &ui.render_options()));
        print!("{}", render::human_plan(plan, &ui.render_options()));
    }
    if let Some(out) = &args.out {
        save_plan(out, plan)?;
        if !args.json {
            println!(
                "\nSaved the plan to: {0}\n\nTo perform exactly these actions, run the following command to apply:\n    dumcel apply \"{0}\"",
                out.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    })
}
