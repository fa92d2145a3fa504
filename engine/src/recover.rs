//! After a crash: operations the journal shows as started but not finished are
//! read back from their providers and recorded as they really are.

use dumcel_planner::Value;
use dumcel_state::{InFlight, Operation, ResourceInstance, State};

use crate::provider::Registry;

/// What became of one interrupted operation, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub address: String,
    pub operation: Operation,
    /// A sentence: what was found and what is recorded now.
    pub outcome: String,
}

/// Reads each in-flight object back and records it in `state`: found objects
/// are kept (a create that finished is recorded; an update is recorded as
/// read), missing ones are removed.
pub async fn reconcile(
    registry: &Registry,
    state: &mut State,
    in_flight: &[InFlight],
) -> Vec<Reconciled> {
    let mut out = Vec::new();
    for item in in_flight {
        let Some(rt) = registry.get(&item.resource_type) else {
            out.push(Reconciled {
                address: item.address.clone(),
                operation: item.operation,
                outcome: format!(
                    "resource type \"{}\" is unknown; left as recorded — check it by hand",
                    item.resource_type
                ),
            });
            continue;
        };
        // Read what the state had, else what was planned (a create in flight).
        let probe = state
            .resources
            .get(&item.address)
            .map(|r| Value::from_json(&r.attributes))
            .or_else(|| item.planned.as_ref().map(Value::from_json))
            .unwrap_or(Value::Null);
        let outcome = match rt.read(&probe).await {
            Ok(Some(found)) => {
                let previous = state.resources.get(&item.address).cloned();
                state.resources.insert(
                    item.address.clone(),
                    ResourceInstance {
                        resource_type: item.resource_type.clone(),
                        provider: item.provider.clone(),
                        attributes: found.to_json_lossy(),
                        sensitive_attributes: previous
                            .as_ref()
                            .map(|p| p.sensitive_attributes.clone())
                            .unwrap_or_default(),
                        dependencies: previous
                            .as_ref()
                            .map(|p| p.dependencies.clone())
                            .unwrap_or_default(),
                        // A create cut off may have left it half configured.
                        tainted: item.operation == Operation::Create && previous.is_none(),
                    },
                );
                "it exists; recorded as found".to_owned()
            }
            Ok(None) => {
                state.resources.remove(&item.address);
                "it does not exist; removed from state".to_owned()
            }
            Err(e) => format!("reading it back failed ({}); left as recorded", e.message),
        };
        out.push(Reconciled {
            address: item.address.clone(),
            operation: item.operation,
            outcome,
        });
    }
    out
}
