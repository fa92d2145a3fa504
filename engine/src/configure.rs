//! Configuring providers: each `provider "NAME" { ... }` block is evaluated
//! (it may use variables and locals) and handed to its provider, once, before
//! any of its resource types is used.

use std::collections::BTreeSet;

use dumcel_planner::Value;
use dumcel_state::State;

use crate::body::eval_body;
use crate::config::{Diagnostic, Diagnostics};
use crate::stack::{ModuleInstance, Stack, Values};

/// Configures every provider the configuration or the state uses.
pub async fn configure_providers(stack: &Stack, state: &State) -> Result<(), Diagnostics> {
    let mut used: BTreeSet<String> = stack
        .resources()
        .filter_map(|(_, d)| stack.registry.provider_of(&d.addr.resource_type))
        .map(str::to_owned)
        .collect();
    used.extend(state.resources.values().map(|r| r.provider.clone()));
    used.extend(stack.module.providers.keys().cloned());

    let mut diags = Diagnostics::new();
    for name in used {
        let Some(provider) = stack.registry.provider(&name).cloned() else {
            continue;
        };
        let block = stack.module.providers.get(&name);
        let config = match block {
            Some(decl) => {
                let key = format!("provider.{name}");
                let evaluated = stack
                    .scope_for(
                        stack.refs(&key),
                        &Values::default(),
                        &ModuleInstance::root(),
                        None,
                        true,
                    )
                    .and_then(|scope| {
                        eval_body(
                            &provider.config_schema(),
                            &decl.body,
                            &scope,
                            &format!("provider \"{name}\""),
                            decl.span,
                        )
                    });
                match evaluated {
                    Ok(v) => v,
                    Err(d) => {
                        diags.extend(d);
                        continue;
                    }
                }
            }
            None => Value::Map(Default::default()),
        };
        if let Err(e) = provider.configure(&config.deep_unmark()).await {
            diags.push(Diagnostic::error(
                format!("Cannot configure provider \"{name}\""),
                e.message,
                block.map(|b| b.span),
            ));
        }
    }
    diags.into_result().map(|_| ())
}
