//! `dumcel plan`: show what apply would do.

use std::path::PathBuf;

use anyhow::Result;

use dumcel_planner::render;

use super::planning::{make_plan, save_plan};
use crate::session::{
    LockFlags, PlanFlags, VarFlags, build_stack_and_open_state, free_at_exit, load_config, prepare,
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
    let (stack, mut locked) =
        build_stack_and_open_state(ui, module, sources, vars, "plan", &args.lock).await?;
    prepare(ui, &stack, &mut locked).await?;
    let hooks = ProgressHooks { quiet: args.json };
    if args.planning.refresh_only {
        super::refresh_only::check_flags(args.planning.refresh, args.destroy)?;
    }
    let opts = args
        .planning
        .options(args.destroy, args.json || args.out.is_some());
    if !opts.targets.is_empty() {
        eprintln!(
            "Warning: resource targeting is in effect: the plan covers only {} and what they depend on. Use it for exceptional cases, not routinely.",
            opts.targets.join(", ")
        );
    }
    if !opts.excludes.is_empty() {
        eprintln!(
            "Warning: resource exclusion is in effect: the plan leaves out {} and what depends on them. Use it for exceptional cases, not routinely.",
            opts.excludes.join(", ")
        );
    }
    let planned = make_plan(ui, &stack, &mut locked.state, &opts, &hooks).await?;
    let plan = &planned.plan;
    if args.planning.refresh_only {
        if args.out.is_some() || args.json {
            return Err(crate::session::report(
                "-refresh-only plans cannot be saved or printed as JSON yet; run `dumcel apply -refresh-only`",
            ));
        }
        let drifted = super::refresh_only::print_plan(ui, plan);
        return Ok(if args.detailed_exitcode && drifted {
            2
        } else {
            0
        });
    }
    if args.json {
        println!("{}", render::json_plan(plan));
    } else {
        if !locked.state.resources.is_empty() && args.planning.refresh {
            println!();
        }
        print!("{}", render::human_plan(plan, &ui.render_options()));
    }
    let checks = dumcel_engine::checks::evaluate(&stack, &planned.values, false);
    if !checks.0.is_empty() {
        ui.diagnostics(&stack.sources, &checks);
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
    let code = if args.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    };
    drop(locked);
    free_at_exit((planned, stack));
    Ok(code)
}
