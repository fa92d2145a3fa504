//! The part plan, apply and destroy share: refresh, then plan.

use std::sync::Arc;

use anyhow::Result;

use dumcel_engine::hooks::Hooks;
use dumcel_engine::moves::apply_moves;
use dumcel_engine::plan::{PlanOptions, Planned, Refreshed, plan, refresh};
use dumcel_engine::stack::Stack;
use dumcel_planner::Plan;
use dumcel_state::State;

use crate::session::report;
use crate::ui::Ui;

/// Applies `moved` blocks to `state` (in memory), refreshes, and plans.
pub async fn make_plan(
    ui: &Ui,
    stack: &Arc<Stack>,
    state: &mut State,
    opts: &PlanOptions,
    hooks: &dyn Hooks,
) -> Result<Planned> {
    let moved = match apply_moves(&stack.module, state) {
        Ok(m) => m,
        Err(d) => return Err(ui.fail(&stack.sources, &d)),
    };
    let state = &*state;
    let refreshed = if opts.refresh && !state.resources.is_empty() {
        match refresh(&stack.registry, state, opts.parallelism, hooks).await {
            Ok(r) => r,
            Err(d) => return Err(ui.fail(&stack.sources, &d)),
        }
    } else {
        Refreshed::default()
    };
    match plan(stack, state, &refreshed, opts).await {
        Ok((mut plan, values)) => Ok(Planned {
            plan: {
                plan.moved = moved;
                plan
            },
            values,
            refreshed,
        }),
        Err(d) => Err(ui.fail(&stack.sources, &d)),
    }
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
