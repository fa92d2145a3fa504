//! `check` blocks: their assertions are evaluated once plan has its values
//! (or apply its results) and reported as warnings; they never stop a run.
//! An assertion that is still unknown at plan time is left for apply, as
//! Terraform does.

use crate::config::{Diagnostic, Diagnostics, Severity};
use crate::eval::{eval, to_bool};
use crate::lifecycle::failure_message;
use crate::stack::{Stack, Values};

/// Every failing assertion of every check block, in every instance of its
/// module, as a warning. `fresh` is true after apply.
pub fn evaluate(stack: &Stack, values: &Values, fresh: bool) -> Diagnostics {
    let mut warnings = Diagnostics::new();
    for (prefix, node) in &stack.modules {
        for (name, check) in &node.module.checks {
            let key = format!("{prefix}check.{name}");
            for mi in values.module_instances(prefix) {
                let address = format!("{}check.{name}", mi.prefix());
                let scope = match stack.scope_for(stack.refs(&key), values, &mi, None, fresh) {
                    Ok(scope) => scope,
                    Err(d) => {
                        warnings.extend(as_warnings(d));
                        continue;
                    }
                };
                for assert in &check.asserts {
                    match eval(&assert.condition, &scope) {
                        Ok(v) if !v.is_wholly_known() => {}
                        Ok(v) => match to_bool(&v) {
                            Some(true) => {}
                            Some(false) => warnings.push(Diagnostic::warning(
                                "Check block assertion failed",
                                format!("{address}: {}", failure_message(assert, &scope)),
                                Some(assert.condition.span),
                            )),
                            None => warnings.push(Diagnostic::warning(
                                format!("Invalid condition in {address}"),
                                format!("The condition must be a bool, got {}.", v.type_name()),
                                Some(assert.condition.span),
                            )),
                        },
                        Err(e) => warnings.extend(as_warnings(Diagnostic::from(e).into())),
                    }
                }
            }
        }
    }
    warnings
}

/// A check never fails a run: what went wrong evaluating it is a warning.
fn as_warnings(d: Diagnostics) -> Diagnostics {
    Diagnostics(
        d.0.into_iter()
            .map(|d| Diagnostic {
                severity: Severity::Warning,
                ..d
            })
            .collect(),
    )
}
