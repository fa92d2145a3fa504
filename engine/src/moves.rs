//! `moved` blocks: an object recorded under an old address keeps its identity
//! under the new one, instead of being destroyed and created again.

use dumcel_planner::{InstanceAddr, Moved};
use dumcel_state::State;

use crate::config::{Diagnostic, Diagnostics, Module};

/// Renames what each `moved` block names in `state` (one instance, or every
/// instance of a resource, keys kept). A block whose `from` is not recorded
/// has already been applied and does nothing.
pub fn apply_moves(module: &Module, state: &mut State) -> Result<Vec<Moved>, Diagnostics> {
    let mut moved = Vec::new();
    let mut diags = Diagnostics::new();
    for m in &module.moves {
        let whole_resource = m
            .from
            .parse::<InstanceAddr>()
            .is_ok_and(|a| a.key == dumcel_planner::InstanceKey::None)
            && !state.resources.contains_key(&m.from);
        let pairs: Vec<(String, String)> = state
            .resources
            .keys()
            .filter_map(|a| {
                if *a == m.from {
                    Some((a.clone(), m.to.clone()))
                } else if whole_resource
                    && a.strip_prefix(&m.from)
                        .is_some_and(|rest| rest.starts_with('['))
                {
                    Some((a.clone(), format!("{}{}", m.to, &a[m.from.len()..])))
                } else {
                    None
                }
            })
            .collect();
        for (from, to) in pairs {
            if state.resources.contains_key(&to) {
                diags.push(Diagnostic::error(
                    format!("Cannot move {from} to {to}"),
                    format!("{to} is already recorded; remove the moved block, or one of the objects with `dumcel state rm`."),
                    Some(m.span),
                ));
                continue;
            }
            if let Some(inst) = state.resources.remove(&from) {
                state.resources.insert(to.clone(), inst);
                moved.push(Moved { from, to });
            }
        }
    }
    diags.into_result()?;
    Ok(moved)
}
