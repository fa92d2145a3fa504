//! The part plan, apply and destroy share: `moved` blocks, refresh, then plan.

use std::sync::Arc;

use dumcel_engine::config::Diagnostics;
use dumcel_engine::hooks::Hooks;
use dumcel_engine::moves::apply_moves;
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
    let moved = apply_moves(&stack.module, state)?;
    let state = &*state;
    let refreshed = if opts.refresh && !state.resources.is_empty() {
        refresh(&stack.registry, state, opts.parallelism, hooks).await?
    } else {
        Refreshed::default()
    };
    let (mut plan, values) = plan(stack, state, &refreshed, opts).await?;
    plan.moved = moved;
    Ok(Planned {
        plan,
        values,
        refreshed,
    })
}
