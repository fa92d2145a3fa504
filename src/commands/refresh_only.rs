//! `plan -refresh-only`, `apply -refresh-only` and `refresh`: read every
//! recorded object, show what changed outside dumcel, and (apply) record it
//! in the state without changing anything real, as Terraform does.

use anyhow::Result;

use dumcel_planner::{Plan, render};

use crate::session::report;
use crate::ui::Ui;

/// Refuses the flags that make no sense with `-refresh-only`.
pub fn check_flags(refresh: bool, destroy: bool) -> Result<()> {
    if destroy {
        return Err(report(
            "-refresh-only and -destroy cannot be used together: a refresh-only run changes nothing real",
        ));
    }
    if !refresh {
        return Err(report(
            "-refresh=false is not valid with -refresh-only: reading the real objects is all it does",
        ));
    }
    Ok(())
}

/// Prints the drift and what a refresh-only run does with it; true when
/// something changed outside dumcel.
pub fn print_plan(ui: &Ui, plan: &Plan) -> bool {
    if plan.drift.is_empty() {
        println!(
            "\n{}\n\nDumcel has checked that the real remote objects still match the result of your most recent changes, and found no differences.",
            ui.green("No changes. Your infrastructure still matches the configuration.")
        );
        return false;
    }
    print!("{}", render::human_drift(plan, &ui.render_options()));
    println!(
        "\nThis is a refresh-only plan, so dumcel will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the state without changing any remote objects."
    );
    true
}
