//! Configuring providers: each `provider "NAME" { ... }` block is evaluated
//! (it may use variables and locals) and handed to its provider instance,
//! once, before any of its resource types is used. A block with `alias`
//! configures its own instance (made by [`crate::provider::Registry::add_alias`]).

use std::collections::BTreeSet;

use dumcel_planner::Value;
use dumcel_state::State;

use crate::body::eval_body;
use crate::config::{Diagnostic, Diagnostics};
use crate::provider::ProviderRef;
use crate::stack::{ModuleInstance, Stack, Values};

/// Configures every provider configuration the configuration or the state
/// uses. One that state records but no block declares any more (an alias) is
/// left alone: refresh and plan say it is missing, naming the address.
pub async fn configure_providers(stack: &Stack, state: &State) -> Result<(), Diagnostics> {
    let mut used: BTreeSet<ProviderRef> = stack.providers_in_use().cloned().collect();
    used.extend(
        state
            .resources
            .values()
            .filter_map(|r| ProviderRef::parse_recorded(&r.provider)),
    );
    used.extend(stack.module.providers.values().map(|d| d.reference()));

    let mut diags = Diagnostics::new();
    for pref in used {
        let Some(provider) = stack.registry.instance(&pref).cloned() else {
            continue;
        };
        let key = pref.to_string();
        let block = stack.module.providers.get(&key);
        let config = match block {
            Some(decl) => {
                let evaluated = stack
                    .scope_for(
                        stack.refs(&format!("provider.{key}")),
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
                            &format!("provider \"{}\"", decl.name),
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
                format!("Cannot configure provider \"{key}\""),
                e.message,
                block.map(|b| b.span),
            ));
        }
    }
    diags.into_result().map(|_| ())
}
