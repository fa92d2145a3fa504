//! The `lifecycle` block's rules: what a plan may not destroy, which
//! attributes it ignores, what forces a replacement, and the conditions a
//! resource must meet before and after it changes.

use dumcel_planner::{Action, InstanceAddr, ResourceChange, Value};

use crate::config::{Condition, Diagnostic, Diagnostics, Lifecycle};
use crate::eval::{Scope, eval, to_bool};
use crate::stack::{ModuleInstance, Stack, static_key};

/// Configuration with ignored attributes taken from the prior object, so
/// changes to them made outside dumcel are left alone.
pub fn ignore_changes(lifecycle: &Lifecycle, config: Value, prior: Option<&Value>) -> Value {
    // Most resources ignore nothing: hand their configuration back untouched
    // rather than copying it (at 100,000 resources the copy was a visible
    // share of the plan's memory traffic).
    let Some(prior) = prior.and_then(Value::as_map) else {
        return config;
    };
    if lifecycle.ignore_changes.is_empty() {
        return config;
    }
    let Value::Map(mut map) = config else {
        return config;
    };
    for (name, old) in prior {
        if lifecycle.ignores(name) && map.contains_key(name) {
            map.insert(name.clone(), old.clone());
        }
    }
    Value::Map(map)
}

/// The resource `replace_triggered_by` names whose change (create, update or
/// replace) in this plan forces a replacement; `None` when nothing triggers.
pub fn replace_trigger(
    lifecycle: &Lifecycle,
    mi: &ModuleInstance,
    changes: &[ResourceChange],
) -> Option<String> {
    for expr in &lifecycle.replace_triggered_by {
        let Some(r) = expr.references().into_iter().next() else {
            continue;
        };
        let key = format!("{}{}.{}", mi.prefix(), r.root, r.name.unwrap_or_default());
        let hit = changes.iter().find(|c| {
            matches!(c.action, Action::Create | Action::Update | Action::Replace)
                && c.address
                    .parse::<InstanceAddr>()
                    .is_ok_and(|a| a.resource.to_string() == key)
        });
        if let Some(c) = hit {
            return Some(c.address.clone());
        }
    }
    None
}

/// Checks conditions in `scope` (with `self` bound for postconditions).
/// Unknown conditions pass for now: they are checked again when known.
pub fn check(
    conditions: &[Condition],
    scope: &Scope,
    kind: &str,
    address: &str,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for c in conditions {
        match eval(&c.condition, scope) {
            Ok(v) if v.is_unknown() => {}
            Ok(v) => match to_bool(&v) {
                Some(true) => {}
                Some(false) => {
                    diags.push(Diagnostic::error(
                        format!("Resource {kind} failed for {address}"),
                        failure_message(c, scope),
                        Some(c.condition.span),
                    ));
                }
                None => diags.push(Diagnostic::error(
                    format!("Invalid {kind} condition"),
                    format!("The condition must be a bool, got {}.", v.type_name()),
                    Some(c.condition.span),
                )),
            },
            Err(e) => diags.push(e.into()),
        }
    }
    diags.into_result().map(|_| ())
}

/// A false condition's `error_message`, unless it is sensitive or cannot
/// be evaluated.
pub(crate) fn failure_message(c: &Condition, scope: &Scope) -> String {
    eval(&c.error_message, scope)
        .ok()
        .filter(|m| !m.contains_sensitive())
        .and_then(|m| m.as_str().map(str::to_owned))
        .unwrap_or_else(|| "The condition is false.".to_owned())
}

/// Refuses a plan that would destroy a resource marked `prevent_destroy`.
pub fn prevent_destroy(stack: &Stack, changes: &[ResourceChange]) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for c in changes {
        if !matches!(c.action, Action::Delete | Action::Replace) {
            continue;
        }
        let Ok(addr) = c.address.parse::<InstanceAddr>() else {
            continue;
        };
        let Some(decl) = stack.resource(&static_key(&addr.resource)) else {
            continue;
        };
        if decl.lifecycle.prevent_destroy {
            diags.push(Diagnostic::error(
                format!("Instance cannot be destroyed: {}", c.address),
                format!(
                    "{} has lifecycle.prevent_destroy set, but the plan would {} it. Nothing was changed. To go on, remove prevent_destroy, or leave it out of the plan with -target.",
                    c.address,
                    if c.action == Action::Replace { "replace" } else { "destroy" }
                ),
                decl.lifecycle.span.or(Some(decl.span)),
            ));
        }
    }
    diags.into_result().map(|_| ())
}
