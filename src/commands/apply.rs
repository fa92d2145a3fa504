//! `dumcel apply` and `dumcel destroy`: make the infrastructure match the
//! configuration (or remove it), recording every completed change.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use dumcel_engine::apply::{ApplyOptions, apply};
use dumcel_planner::{Plan, render};

use super::planning::{load_plan, make_plan};
use crate::interrupt;
use crate::session::{
    LockFlags, PlanFlags, VarFlags, build_stack_and_open_state, can_prompt, free_at_exit,
    load_config, prepare, report, variables,
};
use crate::ui::{ProgressHooks, Ui};

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    /// Apply without asking for approval.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Destroy everything the state records.
    #[arg(long)]
    pub destroy: bool,
    #[command(flatten)]
    pub planning: PlanFlags,
    /// A plan saved with `dumcel plan -out=FILE`: apply exactly it, without asking.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
}

pub async fn run(ui: &Ui, mut args: ApplyArgs) -> Result<u8> {
    let saved = match &args.plan_file {
        Some(path) => Some(load_plan(path)?),
        None => None,
    };
    if let Some(plan) = &saved {
        if !args.vars.var.is_empty() || !args.vars.var_file.is_empty() {
            return Err(report(
                "a saved plan already holds its variable values; -var and -var-file cannot be given with a plan file (sensitive values may be given through DUMCEL_VAR_name)",
            ));
        }
        args.destroy = plan.destroy;
        // Values given at plan time come first; later sources may only add the
        // sensitive ones the plan file does not hold.
        for (name, value) in &plan.variables {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            args.vars.var.insert(0, format!("{name}={text}"));
        }
    }
    let (module, mut sources) = load_config(ui)?;
    let vars = variables(ui, &module, &mut sources, &args.vars)?;
    let operation = if args.destroy { "destroy" } else { "apply" };
    let (stack, mut locked) =
        build_stack_and_open_state(ui, module, sources, vars, operation, &args.lock).await?;
    prepare(ui, &stack, &mut locked).await?;
    locked.refuse_pending().map_err(report)?;
    if locked.lock.is_none() {
        return Err(report(
            "apply cannot run with -lock=false: it must hold the state lock to record changes",
        ));
    }
    if let Some(plan) = &saved {
        check_saved_plan(plan, &locked.state, &stack.config_hash())?;
    }

    if args.planning.refresh_only {
        super::refresh_only::check_flags(args.planning.refresh, args.destroy)?;
        if saved.is_some() {
            return Err(report(
                "a saved plan cannot be applied with -refresh-only; run `dumcel apply -refresh-only`",
            ));
        }
    }
    let hooks = Arc::new(ProgressHooks { quiet: false });
    let opts = args.planning.options(args.destroy, false);
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
    let planned = make_plan(ui, &stack, &mut locked.state, &opts, hooks.as_ref()).await?;
    if args.planning.refresh_only {
        if !super::refresh_only::print_plan(ui, &planned.plan) {
            return Ok(0);
        }
        if !args.auto_approve && !approve_refresh(ui, args.vars.input).await? {
            println!("\nApply cancelled.");
            return Ok(1);
        }
        // Objects found gone are dropped; the rest take what refresh read.
        let mut state =
            dumcel_engine::plan_json::refreshed_state(&locked.state, &planned.refreshed.current);
        state.serial = locked.state.serial + 1;
        locked.persist(&state).await?;
        println!(
            "\n{}",
            ui.green("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.")
        );
        super::output::print_all(&state);
        return Ok(0);
    }
    if let Some(plan) = &saved {
        if actions(plan) != actions(&planned.plan) {
            return Err(report(
                "the saved plan no longer matches what is real: objects changed since it was made. Run `dumcel plan -out=FILE` again and review it.",
            ));
        }
    } else {
        if !locked.state.resources.is_empty() && args.planning.refresh {
            println!();
        }
        print!(
            "{}",
            render::human_plan(&planned.plan, &ui.render_options())
        );
    }
    let verb = if args.destroy { "Destroy" } else { "Apply" };
    if !planned.plan.has_changes() {
        println!(
            "\n{}",
            ui.green(&format!(
                "{verb} complete! Resources: 0 added, 0 changed, 0 destroyed."
            ))
        );
        return Ok(0);
    }
    if saved.is_none() && !args.auto_approve && !approve(ui, args.destroy, args.vars.input).await? {
        println!("\n{verb} cancelled.");
        return Ok(1);
    }
    println!();

    let journal = locked.open_journal(operation).map_err(report)?;
    let apply_opts = ApplyOptions {
        parallelism: args.planning.parallelism,
        destroy: args.destroy,
        stop: interrupt::stop_flag(),
        ..ApplyOptions::default()
    };
    let walk = {
        let _graceful = interrupt::graceful();
        if interrupt::received() {
            // Interrupted before the walk began: nothing was changed.
            println!("\n{verb} cancelled.");
            return Ok(1);
        }
        let applying = apply(
            stack.clone(),
            planned,
            locked.state.clone(),
            Some(journal.clone()),
            hooks,
            &apply_opts,
        );
        let walked = tokio::select! {
            walked = applying => Some(walked),
            () = interrupt::second() => None,
        };
        // Its progress lines come before the summary or the errors.
        crate::progress_lines::flush();
        walked
    };
    let Some((mut state, report_)) = walk else {
        // The walk was dropped with operations in flight: they stay in the
        // journal as intents, recorded now as pending for the next command
        // to read back, and the lock is let go.
        let _ = journal.sync().await;
        drop(journal);
        let pending = locked.abandon().await.map_err(report)?;
        eprintln!(
            "Error: the apply was stopped with {pending} operation(s) in flight; they are recorded as pending and the next command reads them back."
        );
        return Ok(1);
    };
    drop(journal);
    state.serial = locked.state.serial + 1;
    locked.persist(&state).await?;
    if !report_.checks.0.is_empty() {
        ui.diagnostics(&stack.sources, &report_.checks);
    }
    if !report_.interrupted.is_empty() {
        eprintln!(
            "\nError: the {} was interrupted; everything that completed is recorded in the state. Not started:",
            operation
        );
        for a in &report_.interrupted {
            eprintln!("  - {a}");
        }
    }

    if !report_.failed.is_empty() {
        eprintln!(
            "\nError: {} resource(s) failed; everything that completed is recorded in the state.",
            report_.failed.len()
        );
        for (address, message) in &report_.failed {
            eprintln!("  - {address}: {}", message.replace('\n', "\n    "));
        }
        if !report_.skipped.is_empty() {
            eprintln!("Not attempted, because something they depend on failed:");
            for a in &report_.skipped {
                eprintln!("  - {a}");
            }
        }
        eprintln!(
            "\n{verb} incomplete: {} added, {} changed, {} destroyed.",
            report_.added, report_.changed, report_.destroyed
        );
        return Ok(1);
    }
    if !report_.interrupted.is_empty() {
        eprintln!(
            "\n{verb} interrupted: {} added, {} changed, {} destroyed.",
            report_.added, report_.changed, report_.destroyed
        );
        return Ok(1);
    }
    if args.destroy {
        println!(
            "\n{}",
            ui.green(&format!(
                "Destroy complete! Resources: {} destroyed.",
                report_.destroyed
            ))
        );
    } else {
        println!(
            "\n{}",
            ui.green(&format!(
                "Apply complete! Resources: {} added, {} changed, {} destroyed.",
                report_.added, report_.changed, report_.destroyed
            ))
        );
        super::output::print_all(&state);
    }
    drop(locked);
    free_at_exit((state, stack));
    Ok(0)
}

/// The (address, action) pairs of a plan, to tell whether two plans agree.
fn actions(plan: &Plan) -> BTreeSet<(String, String)> {
    plan.changes
        .iter()
        .map(|c| (c.address.clone(), format!("{:?}", c.action)))
        .collect()
}

fn check_saved_plan(plan: &Plan, state: &dumcel_state::State, config_hash: &str) -> Result<()> {
    // A plan made before any state existed carries a lineage nobody kept.
    let made_on_empty = plan.serial == 0;
    if made_on_empty && state.serial == 0 {
        // Still nothing recorded: the plan applies.
    } else if plan.lineage != state.lineage && !made_on_empty {
        return Err(report(format!(
            "Saved plan is for a different state (lineage {} vs {}): it cannot be applied here. Run `dumcel plan -out=FILE` again.",
            plan.lineage, state.lineage
        )));
    } else if plan.serial != state.serial || plan.lineage != state.lineage {
        return Err(report(format!(
            "Saved plan is stale: the state changed since the plan was made (serial {} then, {} now). Run `dumcel plan -out=FILE` again and review it.",
            plan.serial, state.serial
        )));
    }
    if plan.config_hash != config_hash {
        return Err(report(
            "Saved plan is stale: the configuration files changed since the plan was made. Run `dumcel plan -out=FILE` again and review it.",
        ));
    }
    Ok(())
}

async fn approve(ui: &Ui, destroy: bool, input: bool) -> Result<bool> {
    let question = if destroy {
        "Do you really want to destroy all resources?\n  Dumcel will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm."
    } else {
        "Do you want to perform these actions?\n  Dumcel will perform the actions described above.\n  Only 'yes' will be accepted to approve."
    };
    ask(ui, question, input).await
}

async fn approve_refresh(ui: &Ui, input: bool) -> Result<bool> {
    ask(
        ui,
        "Would you like to update the state to reflect these detected changes?\n  Dumcel will write these changes to the state without modifying any real infrastructure.\n  There is no undo. Only 'yes' will be accepted to confirm.",
        input,
    )
    .await
}

/// Asks on the terminal; true only for "yes".
async fn ask(ui: &Ui, question: &str, input: bool) -> Result<bool> {
    if !can_prompt(input) {
        return Err(report(
            "apply needs approval, and there is no terminal to ask on (stdin is not a terminal, or -input=false). Run with -auto-approve, or apply a saved plan file.",
        ));
    }
    print!("\n{}\n\n  Enter a value: ", ui.bold(question));
    let _ = std::io::stdout().flush();
    // Read on a blocking thread, so an interrupt at the prompt can cancel the
    // command (and release the lock) while the read waits.
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await??;
    Ok(line.trim() == "yes")
}
