//! After a crash: operations the journal shows as started but not finished are
//! read back from their providers and recorded as they really are.
//!
//! Each one ends in one of three ways, never silently cleared:
//! - found: the object exists and is recorded (tainted when a create was cut
//!   off, since it may be half configured, so the next apply replaces it);
//! - gone: the object does not exist and is dropped from the state;
//! - unknown: the provider could not tell (an error, or a type that cannot
//!   look objects up); the operation stays in `State::pending`, every later
//!   command tries again, and `dumcel import` / `dumcel state rm` settle it.

use dumcel_planner::Value;
use dumcel_state::{InFlight, Operation, ResourceInstance, State};

use crate::provider::{ProviderRef, Registry, ResourceType};

/// How long a create that was not found is given to appear: requests the
/// crashed process sent are still being carried out by the service.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(3);

/// What became of one interrupted operation, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub address: String,
    pub operation: Operation,
    /// A sentence: what was found and what is recorded now.
    pub outcome: String,
    /// Still unknown: kept in `State::pending`.
    pub pending: bool,
}

/// Reads back every operation in `in_flight` and every one an earlier
/// command left pending, and records what exists in `state`. Those whose
/// outcome is still unknown are (re)recorded in `state.pending`.
pub async fn reconcile(
    registry: &Registry,
    state: &mut State,
    in_flight: &[InFlight],
) -> Vec<Reconciled> {
    let mut items = std::mem::take(&mut state.pending);
    items.extend(in_flight.iter().cloned());
    let mut out = Vec::with_capacity(items.len());
    if any_create_missing(registry, state, &items).await {
        tokio::time::sleep(SETTLE).await;
    }
    for item in items {
        let result = match registry.recorded_resource_type(
            &item.address,
            &item.provider,
            &item.resource_type,
        ) {
            Ok(rt) => settle(rt.as_ref(), state, &item).await,
            Err((summary, detail)) => Err(format!("{summary}: {detail}")),
        };
        let (outcome, pending) = match result {
            Ok(sentence) => (sentence, false),
            Err(why) => (
                format!(
                    "could not be read back ({why}); kept as pending: every command tries again. If it exists, run `dumcel import {address} ID`; if not, `dumcel state rm {address}`",
                    address = item.address
                ),
                true,
            ),
        };
        out.push(Reconciled {
            address: item.address.clone(),
            operation: item.operation,
            outcome,
            pending,
        });
        if pending {
            state.pending.push(item);
        }
    }
    out
}

/// Whether some create in flight finds no object yet. A request sent just
/// before the crash may still be carried out by the service after the
/// client died (a daemon works through its queue), so such a create is
/// looked for again a little later before it is called never made.
/// Built-in types run in the process itself: nothing of theirs goes on after
/// it died.
async fn any_create_missing(registry: &Registry, state: &State, items: &[InFlight]) -> bool {
    for item in items.iter().filter(|i| {
        ProviderRef::parse_recorded(&i.provider).is_none_or(|p| p.name != crate::builtin::PROVIDER)
            && i.operation == Operation::Create
            && !state.resources.contains_key(&i.address)
    }) {
        if let (Ok(rt), Some(planned)) = (
            registry.recorded_resource_type(&item.address, &item.provider, &item.resource_type),
            &item.planned,
        ) && let Ok(None) = rt.find(&Value::from_json(planned)).await
        {
            return true;
        }
    }
    false
}

/// Settles one operation: `Ok(sentence)` when its outcome is known and
/// recorded, `Err(why)` when it is not.
async fn settle(
    rt: &dyn ResourceType,
    state: &mut State,
    item: &InFlight,
) -> Result<String, String> {
    let prior = state.resources.get(&item.address).cloned();
    let planned = item.planned.as_ref().map(Value::from_json);
    let message = |e: crate::provider::ProviderError| e.message;
    match (item.operation, prior) {
        // A create (or a data source read) with nothing recorded: look the
        // object up by what was planned.
        (Operation::Create | Operation::Replace, None) => {
            let Some(planned) = &planned else {
                return Err("the journal holds no planned attributes to look it up by".into());
            };
            match rt.find(planned).await.map_err(message)? {
                Some(found) => {
                    record(state, item, &found, None, true);
                    Ok(
                        "it exists; recorded as found (tainted: the create may not have finished)"
                            .into(),
                    )
                }
                None => Ok("it was never made; nothing to record".into()),
            }
        }
        (Operation::Read, _) => Ok("a data source read; nothing to record".into()),
        // A replacement: the new object may exist beside (or instead of) the old one.
        (Operation::Replace, Some(old)) => {
            let old_value = Value::from_json(&old.attributes);
            let new = match &planned {
                Some(p) => rt.find(p).await.map_err(message)?,
                None => None,
            };
            let old_now = rt.read(&old_value).await.map_err(message)?;
            let new = new.filter(|n| n.get("id") != old_value.get("id"));
            match (new, old_now) {
                (Some(new), old_now) => {
                    if let Some(old_now) = old_now {
                        let mut deposed = old.clone();
                        deposed.attributes = old_now.to_json_lossy();
                        state
                            .resources
                            .insert(format!("{} (deposed)", item.address), deposed);
                    }
                    record(state, item, &new, Some(&old), true);
                    Ok("the replacement exists; recorded as found (tainted), the old object (if still there) as deposed".into())
                }
                (None, Some(old_now)) => {
                    record(state, item, &old_now, Some(&old), false);
                    Ok("the old object still exists and no replacement was made; recorded as found".into())
                }
                (None, None) => {
                    state.resources.remove(&item.address);
                    Ok(
                        "neither the old object nor a replacement exists; removed from state"
                            .into(),
                    )
                }
            }
        }
        // An update or a delete, or a create of something already recorded:
        // read the recorded object back.
        (_, Some(prior)) => match rt
            .read(&Value::from_json(&prior.attributes))
            .await
            .map_err(message)?
        {
            Some(found) => {
                record(state, item, &found, Some(&prior), prior.tainted);
                Ok("it exists; recorded as found".into())
            }
            None => {
                state.resources.remove(&item.address);
                Ok("it does not exist; removed from state".into())
            }
        },
        (Operation::Update | Operation::Delete, None) => Ok(
            "nothing was recorded for it and nothing was planned to be made; nothing to record"
                .into(),
        ),
    }
}

fn record(
    state: &mut State,
    item: &InFlight,
    found: &Value,
    previous: Option<&ResourceInstance>,
    tainted: bool,
) {
    state.resources.insert(
        item.address.clone(),
        Box::new(ResourceInstance {
            resource_type: item.resource_type.clone(),
            provider: item.provider.clone(),
            attributes: found.to_json_lossy(),
            sensitive_attributes: previous
                .map(|p| p.sensitive_attributes.clone())
                .unwrap_or_default(),
            dependencies: previous.map(|p| p.dependencies.clone()).unwrap_or_default(),
            tainted,
        }),
    );
}
