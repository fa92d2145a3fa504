//! The part plan, apply and destroy share: `moved` blocks, refresh, then plan.

use std::sync::Arc;

use dumcel_engine::config::{Diagnostic, Diagnostics};
use dumcel_engine::hooks::Hooks;
use dumcel_engine::moves::{apply_moves, apply_removed};
use dumcel_engine::plan::{PlanOptions, Planned, Refreshed, plan, refresh};
use dumcel_engine::stack::Stack;
use dumcel_state::State;

/// Applies `moved` blocks to `state` (in memory), refreshes, and plans.
pub async fn make_plan(
    stack: &Arc<Stack>,
    state: &mut State,
    opts: &PlanOptions,
    hooks: &dyn Hooks,
) -> Result<Planned, Diagnostics> {
    if !opts.destroy && !has_configuration(stack) {
        // Terraform's rule: an empty directory would plan to destroy
        // everything, which is rarely what was meant.
        return Err(Diagnostic::error(
            "No configuration files",
            "Plan requires configuration to be present. Planning without a configuration would mark everything for destruction, which is normally not what is desired. If you would like to destroy everything, run plan with the -destroy option. Otherwise, create a configuration file (.tf or .hcl) and try again.",
            None,
        )
        .into());
    }
    let moved = apply_moves(&stack.module, state)?;
    let forgotten = apply_removed(&stack.module, state)?;
    let state = &*state;
    let refreshed = if opts.refresh && !state.resources.is_empty() {
        refresh(&stack.registry, state, opts.parallelism, hooks).await?
    } else {
        Refreshed::default()
    };
    let (mut plan, values) = plan(stack, state, &refreshed, opts).await?;
    plan.moved = moved;
    plan.forgotten = forgotten;
    Ok(Planned {
        plan,
        values,
        refreshed,
    })
}

/// Whether the stack's directory holds any configuration file.
fn has_configuration(stack: &Stack) -> bool {
    dumcel_engine::config::load::config_files(&stack.module.dir).is_ok_and(|f| !f.is_empty())
}
