//! `moved` blocks: an object recorded under an old address keeps its identity
//! under the new one, instead of being destroyed and created again.

use dumcel_planner::{InstanceAddr, Moved};
use dumcel_state::State;

use crate::config::{Diagnostic, Diagnostics, Module};

/// Takes out of `state` (in memory) what `removed { lifecycle { destroy =
/// false } }` blocks name, returning their addresses: applying the plan
/// forgets them. A `removed` block whose resource is still declared is an
/// error, as in Terraform; with `destroy = true` the objects are planned
/// for deletion like any resource gone from the configuration.
pub fn apply_removed(module: &Module, state: &mut State) -> Result<Vec<String>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut forgotten = Vec::new();
    for r in &module.removed {
        let declared = r.from.parse::<InstanceAddr>().is_ok_and(|a| {
            module
                .resources
                .contains_key(&crate::stack::static_key(&a.resource))
        });
        if declared {
            diags.push(Diagnostic::error(
                "Removed resource block still exists",
                format!(
                    "This removed block says {} left the configuration, but it is still declared. Remove the resource block, or the removed block.",
                    r.from
                ),
                Some(r.span),
            ));
            continue;
        }
        if r.destroy {
            continue;
        }
        let gone: Vec<String> = state
            .resources
            .keys()
            .filter(|a| {
                *a == &r.from
                    || a.strip_prefix(&r.from)
                        .is_some_and(|rest| rest.starts_with('[') || rest.starts_with(" ("))
            })
            .cloned()
            .collect();
        for address in gone {
            state.resources.remove(&address);
            forgotten.push(address);
        }
    }
    diags.into_result()?;
    Ok(forgotten)
}

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
