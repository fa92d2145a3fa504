//! The part plan, apply and destroy share: refresh, then plan.

use std::sync::Arc;

use anyhow::Result;

use dumcel_engine::hooks::Hooks;
use dumcel_engine::plan::{PlanOptions, Planned};
use dumcel_engine::stack::Stack;
use dumcel_planner::Plan;
use dumcel_state::State;

use crate::session::report;
use crate::ui::Ui;

/// Applies `moved` blocks to `state` (in memory), refreshes, and plans;
/// diagnostics printed on failure.
pub async fn make_plan(
    ui: &Ui,
    stack: &Arc<Stack>,
    state: &mut State,
    opts: &PlanOptions,
    hooks: &dyn Hooks,
) -> Result<Planned> {
    let planned = dumcel_session::make_plan(stack, state, opts, hooks).await;
    // The refresh's progress lines come before the plan or its errors.
    crate::progress_lines::flush();
    planned.map_err(|d| ui.fail(&stack.sources, &d))
}

/// Writes a plan file readable only by its owner (it may name secrets' places).
pub fn save_plan(path: &std::path::Path, plan: &Plan) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            report(format!(
                "cannot write the plan file {}: {e}",
                path.display()
            ))
        })?;
    f.write_all(&plan.to_file_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            report(format!(
                "cannot write the plan file {}: {e}",
                path.display()
            ))
        })?;
    Ok(())
}

pub fn load_plan(path: &std::path::Path) -> Result<Plan> {
    let bytes = std::fs::read(path)
        .map_err(|e| report(format!("cannot read the plan file {}: {e}", path.display())))?;
    Plan::from_file_bytes(&bytes).map_err(|e| report(format!("{}: {e}", path.display())))
}
