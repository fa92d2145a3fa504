//! Applying a plan: walk its changes in dependency order with at most
//! `parallelism` provider calls at once. Each node re-evaluates its
//! configuration now that its dependencies are known, records its intent in the
//! journal before calling the provider and its outcome after. A failed node
//! stops its dependents, not its siblings.
//!
//! A create_before_destroy replacement keeps the old object, recorded as
//! `ADDRESS (deposed)`, until everything that depends on it has been applied
//! (as Terraform orders it): a route switches to a new container before the
//! old one goes. When a dependent fails, the old object stays, still serving.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use dumcel_planner::{Action, InstanceAddr, ResourceChange, Value};
use dumcel_state::{
    HeldIntent, InFlight, Journal, Operation, Outcome, OutputValue, ResourceInstance, State,
    StateError,
};

use crate::hooks::Hooks;
use crate::lifecycle;
use crate::plan::{Planned, data_config, diff_instance, instance_config, state_value};
use crate::provider::{ProviderError, ResourceType};
use crate::stack::{ModuleInstance, Stack, Values, static_key};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// A destroy run: outputs are removed rather than re-evaluated.
    pub destroy: bool,
    /// How often a long operation reports it is still running.
    pub progress_interval: Duration,
    /// Set on an interrupt (Ctrl-C, SIGTERM): no new operation starts, those
    /// in flight finish and are recorded.
    pub stop: Arc<AtomicBool>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            destroy: false,
            progress_interval: Duration::from_secs(10),
            stop: Arc::default(),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// (address, message) of every node that failed.
    pub failed: Vec<(String, String)>,
    /// Addresses not attempted because something they depend on failed.
    pub skipped: Vec<String>,
    /// Addresses not attempted because the apply was interrupted.
    pub interrupted: Vec<String>,
    /// Failed `check` assertions, against the applied values (warnings).
    pub checks: crate::config::Diagnostics,
}

/// How one node of the walk ended.
enum NodeEnd {
    Done,
    Failed(String),
    /// Not started: the apply was interrupted first.
    NotStarted,
}

/// The old object of a create_before_destroy replacement, deleted once the
/// walk is over if everything downstream of `address` was applied.
struct Deposed {
    address: String,
    old: Value,
}

struct Shared {
    stack: Arc<Stack>,
    deposed: Mutex<Vec<Deposed>>,
    values: Mutex<Values>,
    state: Mutex<State>,
    journal: Option<Journal>,
    hooks: Arc<dyn Hooks>,
    progress_interval: Duration,
}

/// Folds what refresh found into state (objects gone or changed outside
/// dumcel), applies every change, evaluates outputs, and returns the new state
/// with everything that completed recorded. The caller bumps the serial and
/// persists.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn apply(
    stack: Arc<Stack>,
    planned: Planned,
    mut state: State,
    journal: Option<Journal>,
    hooks: Arc<dyn Hooks>,
    opts: &ApplyOptions,
) -> (State, ApplyReport) {
    let Planned {
        plan,
        values,
        refreshed,
    } = planned;
    let changes = &plan.changes;
    for (address, current) in &refreshed.current {
        match current {
            None => {
                state.resources.remove(address);
            }
            Some(v) => {
                if let Some(inst) = state.resources.get_mut(address) {
                    inst.attributes = v.clone().deep_unmark().to_json_lossy();
                }
            }
        }
    }

    if let Err(e) = adopt_imports(&stack, changes, &mut state, journal.as_ref()).await {
        // The journal is unusable: starting provider calls now would make
        // objects nothing could record.
        let report = ApplyReport {
            failed: vec![("(state journal)".into(), e)],
            ..ApplyReport::default()
        };
        return (state, report);
    }

    let nodes: Vec<ResourceChange> = changes
        .iter()
        .filter(|c| {
            matches!(
                c.action,
                Action::Create | Action::Update | Action::Replace | Action::Delete | Action::Read
            )
        })
        .cloned()
        .collect();
    let deps = node_dependencies(&nodes, &state);

    let shared = Arc::new(Shared {
        stack,
        deposed: Mutex::default(),
        values: Mutex::new(values),
        state: Mutex::new(state),
        journal,
        hooks,
        progress_interval: opts.progress_interval,
    });

    let n = nodes.len();
    let mut pending: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let nodes = Arc::new(nodes);
    let sem = Arc::new(Semaphore::new(opts.parallelism.max(1)));
    let mut tasks: JoinSet<NodeEnd> = JoinSet::new();
    // Which node each task runs, so a task that panicked is still known.
    let mut running: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut report = ApplyReport::default();
    let mut blocked = vec![false; n];
    let mut done = vec![false; n];

    let spawn =
        |i: usize, tasks: &mut JoinSet<NodeEnd>, running: &mut HashMap<tokio::task::Id, usize>| {
            let shared = shared.clone();
            let nodes = nodes.clone();
            let sem = sem.clone();
            let stop = opts.stop.clone();
            let handle = tasks.spawn(async move {
                let _permit = sem.acquire_owned().await;
                // Checked after the wait for a permit: an interrupt that came
                // meanwhile must not let queued operations start.
                if stop.load(Ordering::Acquire) {
                    return NodeEnd::NotStarted;
                }
                match run_node(&shared, &nodes[i]).await {
                    Ok(()) => NodeEnd::Done,
                    Err(message) => NodeEnd::Failed(message),
                }
            });
            running.insert(handle.id(), i);
        };
    for (i, _) in pending.iter().enumerate().filter(|(_, p)| **p == 0) {
        spawn(i, &mut tasks, &mut running);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        let (i, end) = match joined {
            Ok((id, end)) => (running.remove(&id), end),
            Err(e) => (
                running.remove(&e.id()),
                NodeEnd::Failed(format!(
                    "the operation stopped unexpectedly ({e}); whether it took effect is unknown until the next command reads it back"
                )),
            ),
        };
        let Some(i) = i else { continue };
        match end {
            NodeEnd::Done => {
                done[i] = true;
                match nodes[i].action {
                    Action::Create => report.added += 1,
                    Action::Update => report.changed += 1,
                    Action::Replace => {
                        report.added += 1;
                        report.destroyed += 1
                    }
                    Action::Delete => report.destroyed += 1,
                    _ => {}
                }
                for &d in &dependents[i] {
                    pending[d] -= 1;
                    if pending[d] == 0 && !blocked[d] {
                        if opts.stop.load(Ordering::Acquire) {
                            blocked[d] = true;
                            report.interrupted.push(nodes[d].address.clone());
                        } else {
                            spawn(d, &mut tasks, &mut running);
                        }
                    }
                }
            }
            NodeEnd::NotStarted => {
                report.interrupted.push(nodes[i].address.clone());
                block_dependents(
                    i,
                    &dependents,
                    &mut blocked,
                    &nodes,
                    &mut report.interrupted,
                );
            }
            NodeEnd::Failed(message) => {
                report.failed.push((nodes[i].address.clone(), message));
                block_dependents(i, &dependents, &mut blocked, &nodes, &mut report.skipped);
            }
        }
    }

    let deposed = std::mem::take(&mut *shared.deposed.lock().unwrap_or_else(|p| p.into_inner()));
    for d in deposed {
        let Some(i) = nodes.iter().position(|c| c.address == d.address) else {
            continue;
        };
        let downstream_applied = downstream(i, &dependents).all(|j| done[j]);
        if !downstream_applied || opts.stop.load(Ordering::Acquire) {
            // What depends on it may still use the old object: it stays
            // recorded as deposed, and the next apply deletes it.
            continue;
        }
        if let Err(message) = delete_deposed(&shared, &nodes[i], &d.old).await {
            report
                .failed
                .push((format!("{} (deposed)", d.address), message));
        }
    }

    // Every task has finished; take the results out of the shared cells.
    if let Some(j) = &shared.journal
        && let Err(e) = j.sync().await
    {
        report
            .failed
            .push(("(state journal)".into(), e.to_string()));
    }
    let values = std::mem::take(&mut *shared.values.lock().unwrap_or_else(|p| p.into_inner()));
    let mut state = std::mem::take(&mut *shared.state.lock().unwrap_or_else(|p| p.into_inner()));
    record_outputs(&shared.stack, &values, &mut state, opts.destroy);
    if !opts.destroy {
        report.checks = crate::checks::evaluate(&shared.stack, &values, true);
    }
    report.failed.sort();
    report.skipped.sort();
    report.interrupted.sort();
    (state, report)
}

/// Every node downstream of node `i`, each once.
fn downstream(i: usize, dependents: &[Vec<usize>]) -> impl Iterator<Item = usize> {
    let mut seen = vec![false; dependents.len()];
    let mut stack = dependents[i].clone();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        if !std::mem::replace(&mut seen[d], true) {
            out.push(d);
            stack.extend(dependents[d].iter().copied());
        }
    }
    out.into_iter()
}

/// Deletes the old object of a create_before_destroy replacement once the
/// walk is over, reported as `ADDRESS (deposed)`.
async fn delete_deposed(
    shared: &Shared,
    change: &ResourceChange,
    old: &Value,
) -> Result<(), String> {
    let address = format!("{} (deposed)", change.address);
    let started = Instant::now();
    let hooks = &shared.hooks;
    hooks.applying(&address, Action::Delete);
    let result = delete_recorded(shared, change, &address, old).await;
    match &result {
        Ok(()) => hooks.applied(&address, Action::Delete, started.elapsed(), None),
        Err(message) => hooks.failed(&address, Action::Delete, started.elapsed(), message),
    }
    result
}

/// Deletes the object recorded at `address` (a deposed one: its address is
/// not an instance's), journaled; on failure it stays recorded.
async fn delete_recorded(
    shared: &Shared,
    change: &ResourceChange,
    address: &str,
    old: &Value,
) -> Result<(), String> {
    let rt = shared
        .stack
        .registry
        .recorded_resource_type(address, &change.provider, &change.resource_type)
        .map_err(|(summary, detail)| format!("{summary}: {detail}"))?;
    let intent = journal_intent(
        shared,
        rt.as_ref(),
        address,
        change,
        Operation::Delete,
        None,
    )
    .await?;
    rt.delete(old).await.map_err(|e| {
        format!(
            "{}; it is still recorded as \"{address}\" and the next apply deletes it",
            e.message
        )
    })?;
    shared
        .state
        .lock()
        .map_err(|_| "state lock poisoned".to_owned())?
        .resources
        .remove(address);
    if let (Some(j), Some(intent)) = (&shared.journal, intent) {
        intent
            .done(j, address, &Outcome::Remove)
            .map_err(|e| format!("recording the outcome in the state journal: {e}"))?;
    }
    Ok(())
}

/// An operation's intent in the journal.
enum Intent {
    /// Durable before the provider was called.
    Durable(u64),
    /// To be written with the outcome: the type makes nothing outside the
    /// state, so there is nothing to read back if the outcome never comes.
    Held(HeldIntent),
}

impl Intent {
    fn seq(&self) -> u64 {
        match self {
            Intent::Durable(seq) => *seq,
            Intent::Held(held) => held.seq(),
        }
    }

    /// Records the outcome, with the intent when it was held.
    fn done(self, journal: &Journal, address: &str, outcome: &Outcome) -> Result<(), StateError> {
        match self {
            Intent::Durable(seq) => journal.done(seq, address, outcome),
            Intent::Held(held) => journal.complete(held, address, outcome),
        }
    }
}

/// Journals that `operation` on `address` is about to be attempted, before
/// the provider is called: durably first when the type makes objects outside
/// the state, held for its outcome otherwise (see
/// [`ResourceType::makes_outside_objects`]). `None` without a journal.
async fn journal_intent(
    shared: &Shared,
    rt: &dyn ResourceType,
    address: &str,
    change: &ResourceChange,
    operation: Operation,
    planned: Option<serde_json::Value>,
) -> Result<Option<Intent>, String> {
    let Some(j) = &shared.journal else {
        return Ok(None);
    };
    let (resource_type, provider) = (&change.resource_type, &change.provider);
    let intent = if rt.makes_outside_objects() {
        j.intent(address, resource_type, provider, operation, planned)
            .await
            .map(Intent::Durable)
    } else {
        j.intent_held(address, resource_type, provider, operation, planned)
            .map(Intent::Held)
    };
    intent
        .map(Some)
        .map_err(|e| format!("recording the intent in the state journal: {e}"))
}

/// Marks everything downstream of node `i` as not attempted, listing it in `out`.
fn block_dependents(
    i: usize,
    dependents: &[Vec<usize>],
    blocked: &mut [bool],
    nodes: &[ResourceChange],
    out: &mut Vec<String>,
) {
    let mut stack = dependents[i].clone();
    while let Some(d) = stack.pop() {
        if !blocked[d] {
            blocked[d] = true;
            out.push(nodes[d].address.clone());
            stack.extend(dependents[d].iter().copied());
        }
    }
}

/// Records the objects `import` blocks bring under management, as read at
/// plan time; their changes, if any, then apply like any other.
async fn adopt_imports(
    stack: &Stack,
    changes: &[ResourceChange],
    state: &mut State,
    journal: Option<&Journal>,
) -> Result<(), String> {
    for c in changes.iter().filter(|c| c.importing.is_some()) {
        let Some(found) = &c.before else { continue };
        let rkey = c
            .address
            .parse::<InstanceAddr>()
            .map(|a| static_key(&a.resource))
            .unwrap_or_default();
        let inst = ResourceInstance {
            resource_type: c.resource_type.clone(),
            provider: c.provider.clone(),
            attributes: found.clone().deep_unmark().to_json_lossy(),
            sensitive_attributes: found.sensitive_attributes(),
            dependencies: stack.resource_deps(&rkey),
            tainted: false,
        };
        if let Some(j) = journal {
            record_at_once(j, &c.address, &c.resource_type, &c.provider, inst.clone()).await?;
        }
        state.resources.insert(c.address.clone(), Box::new(inst));
    }
    Ok(())
}

/// Journals an object that is known already (imported, or deposed), as an
/// intent and its outcome together.
async fn record_at_once(
    journal: &Journal,
    address: &str,
    resource_type: &str,
    provider: &str,
    inst: ResourceInstance,
) -> Result<(), String> {
    let journaled = async {
        let seq = journal
            .intent(address, resource_type, provider, Operation::Read, None)
            .await?;
        journal.done(seq, address, &Outcome::Put(inst))
    };
    journaled
        .await
        .map_err(|e| format!("recording {address} in the state journal: {e}"))
}

/// For each node, the indices of the nodes it must wait for.
fn node_dependencies(nodes: &[ResourceChange], state: &State) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address.as_str(), i))
        .collect();
    let resource_of = |address: &str| {
        address
            .parse::<InstanceAddr>()
            .map(|a| static_key(&a.resource))
            .unwrap_or_default()
    };
    nodes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut out: Vec<usize> = Vec::new();
            if c.action != Action::Delete {
                out.extend(
                    c.depends_on
                        .iter()
                        .filter_map(|d| index.get(d.as_str()).copied())
                        .filter(|&d| nodes[d].action != Action::Delete),
                );
            }
            // A replacement deposes its old object only once an earlier
            // deposed one is gone: each address records one.
            if c.action == Action::Replace
                && let Some(&j) = index.get(format!("{} (deposed)", c.address).as_str())
            {
                out.push(j);
            }
            // A deposed object goes after what depended on it moved on
            // (unless its address is replaced again now: then it goes first).
            if let Some(base) = c.address.strip_suffix(" (deposed)")
                && index
                    .get(base)
                    .is_none_or(|&b| nodes[b].action != Action::Replace)
            {
                out.extend(nodes.iter().enumerate().filter_map(|(j, other)| {
                    (other.action != Action::Delete && other.depends_on.iter().any(|d| d == base))
                        .then_some(j)
                }));
            }
            if matches!(c.action, Action::Delete | Action::Replace) {
                // Delete after whatever depended on this has been deleted.
                let me = resource_of(&c.address);
                for (addr, inst) in &state.resources {
                    if inst.dependencies.contains(&me)
                        && let Some(&j) = index.get(addr.as_str())
                        && nodes[j].action == Action::Delete
                        && j != i
                    {
                        out.push(j);
                    }
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect()
}

fn operation(action: Action) -> Operation {
    match action {
        Action::Create => Operation::Create,
        Action::Update => Operation::Update,
        Action::Replace => Operation::Replace,
        Action::Read => Operation::Read,
        Action::Delete | Action::NoOp => Operation::Delete,
    }
}

async fn run_node(shared: &Shared, change: &ResourceChange) -> Result<(), String> {
    let started = Instant::now();
    let hooks = &shared.hooks;
    hooks.applying(&change.address, change.action);
    let result = run_node_inner(shared, change, started).await;
    match &result {
        Ok(id) => hooks.applied(
            &change.address,
            change.action,
            started.elapsed(),
            id.as_deref(),
        ),
        Err(message) => hooks.failed(&change.address, change.action, started.elapsed(), message),
    }
    result.map(|_| ())
}

/// Returns the id of the resulting object, if any.
async fn run_node_inner(
    shared: &Shared,
    change: &ResourceChange,
    started: Instant,
) -> Result<Option<String>, String> {
    let stack = &shared.stack;
    if change.action == Action::Delete && change.address.ends_with(" (deposed)") {
        let old = shared
            .state
            .lock()
            .map_err(|_| "state lock poisoned")?
            .resources
            .get(&change.address)
            .map(|inst| state_value(inst).deep_unmark());
        if let Some(old) = old {
            delete_recorded(shared, change, &change.address, &old).await?;
        }
        return Ok(None);
    }
    let addr: InstanceAddr = change.address.parse().map_err(|e| format!("{e}"))?;
    // Values are kept by module instance; declarations by static key.
    let rkey = addr.resource.to_string();
    let skey = static_key(&addr.resource);
    if change.action == Action::Read {
        return read_data(shared, &addr).await;
    }
    let rt = stack
        .registry
        .recorded_resource_type(&change.address, &change.provider, &change.resource_type)
        .map_err(|(summary, detail)| format!("{summary}: {detail}"))?;
    let prior = shared
        .state
        .lock()
        .map_err(|_| "state lock poisoned")?
        .resources
        .get(&change.address)
        .map(|inst| state_value(inst));
    let prior_plain = prior.clone().map(Value::deep_unmark);

    let known_create = change.action == Action::Create
        && prior.is_none()
        && shared
            .values
            .lock()
            .map_err(|_| "values lock poisoned")?
            .known_creates
            .contains(&change.address);
    let planned = if change.action == Action::Delete {
        None
    } else if known_create {
        // Its configuration had no unknown values while planning, so it is
        // the same now: the planned object, without evaluating it again.
        change.after.clone()
    } else {
        let decl = stack
            .resource(&skey)
            .ok_or_else(|| format!("{rkey} is no longer in the configuration"))?;
        let config = {
            let values = shared.values.lock().map_err(|_| "values lock poisoned")?;
            let mi = values.module_instance(&addr.resource.module);
            let each = each_value(stack, &values, &mi, &addr)?;
            instance_config(stack, decl, &mi, &addr.key, &each, &values, true)
                .map_err(|d| d.render_plain(&stack.sources).trim_end().to_owned())?
        };
        let config = lifecycle::ignore_changes(&decl.lifecycle, config, prior.as_ref());
        let replace = change.action == Action::Replace;
        let p = diff_instance(
            &rt,
            if replace { None } else { prior.as_ref() },
            &config,
            false,
        )?;
        Some(p.after)
    };
    let planned_plain = planned.clone().map(Value::deep_unmark);
    let decl = stack.resource(&skey);
    let create_before_destroy = decl.is_some_and(|d| d.lifecycle.create_before_destroy);

    let intent = journal_intent(
        shared,
        rt.as_ref(),
        &change.address,
        change,
        operation(change.action),
        planned_plain.as_ref().map(Value::to_json_known),
    )
    .await?;

    let call = async {
        match change.action {
            Action::Create => rt
                .create(planned_plain.as_ref().unwrap_or(&Value::Null))
                .await
                .map(Some),
            Action::Update => rt
                .update(
                    prior_plain.as_ref().unwrap_or(&Value::Null),
                    planned_plain.as_ref().unwrap_or(&Value::Null),
                )
                .await
                .map(Some),
            Action::Replace if create_before_destroy => {
                let new = rt
                    .create(planned_plain.as_ref().unwrap_or(&Value::Null))
                    .await?;
                if let Some(old) = &prior_plain {
                    // Deleted after the walk, once what depends on it moved on.
                    if let Err(message) = record_deposed(shared, change, old).await {
                        return Err(ProviderError {
                            message,
                            partial: Some(new),
                        });
                    }
                    shared
                        .deposed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(Deposed {
                            address: change.address.clone(),
                            old: old.clone(),
                        });
                }
                Ok(Some(new))
            }
            Action::Replace => {
                if let Some(p) = &prior_plain {
                    rt.delete(p).await?;
                }
                rt.create(planned_plain.as_ref().unwrap_or(&Value::Null))
                    .await
                    .map(Some)
            }
            Action::Delete => rt
                .delete(prior_plain.as_ref().unwrap_or(&Value::Null))
                .await
                .map(|_| None),
            Action::NoOp | Action::Read => Ok(prior_plain.clone()),
        }
    };
    let sink: crate::progress::Sink = {
        let hooks = shared.hooks.clone();
        let address = change.address.clone();
        Arc::new(move |line: &str| hooks.progress(&address, line))
    };
    let outcome: Result<Option<Value>, ProviderError> =
        crate::progress::scope(sink, with_progress(call, shared, change, started)).await;

    let marks_from = planned
        .as_ref()
        .map(Value::sensitive_attributes)
        .unwrap_or_default();
    let record = |value: &Value, tainted: bool| -> ResourceInstance {
        let mut sensitive = marks_from.clone();
        for (name, a) in &rt.schema().attributes {
            if a.sensitive && !sensitive.contains(name) {
                sensitive.push(name.clone());
            }
        }
        sensitive.sort();
        ResourceInstance {
            resource_type: change.resource_type.clone(),
            provider: change.provider.clone(),
            // JSON has no marks: `sensitive_attributes` keeps them.
            attributes: value.to_json_lossy(),
            sensitive_attributes: sensitive,
            dependencies: stack.resource_deps(&skey),
            tainted,
        }
    };

    let (result, record_outcome) = match outcome {
        Ok(Some(value)) => {
            let inst = record(&value, false);
            let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
            let marked = value.with_sensitive_attributes(&inst.sensitive_attributes);
            if let Ok(mut values) = shared.values.lock() {
                values
                    .instances
                    .entry(rkey.clone())
                    .or_default()
                    .insert(addr.key.clone(), marked);
            }
            (Ok(id), Some(Outcome::Put(inst)))
        }
        Ok(None) => {
            if let Ok(mut values) = shared.values.lock()
                && let Some(m) = values.instances.get_mut(&rkey)
            {
                m.remove(&addr.key);
            }
            (Ok(None), Some(Outcome::Remove))
        }
        Err(e) => {
            let outcome = match (&e.partial, change.action) {
                // The replacement was half made beside the old object: the
                // old one stays known (deposed), the new one tainted.
                (Some(partial), Action::Replace) if create_before_destroy => {
                    if let Some(old) = &prior_plain {
                        record_deposed(shared, change, old).await?;
                    }
                    Some(Outcome::Put(record(partial, true)))
                }
                // Half made: record it tainted, so the next apply replaces it.
                (Some(partial), _) => Some(Outcome::Put(record(partial, true))),
                // A create whose answer was lost (a timeout, a dropped
                // connection) may still have made the object: look for it.
                (None, Action::Create) => {
                    match rt
                        .find(planned_plain.as_ref().unwrap_or(&Value::Null))
                        .await
                    {
                        Ok(Some(found)) => Some(Outcome::Put(record(&found, true))),
                        Ok(None) => None,
                        Err(_) => {
                            if let Some(intent) = &intent {
                                let seq = intent.seq();
                                keep_pending(shared, change, seq, planned_plain.as_ref())?;
                            }
                            None
                        }
                    }
                }
                // The replacement's answer never came: if it was made, the
                // old object is deposed beside it; if not, the old one stays.
                (None, Action::Replace) if create_before_destroy => {
                    match rt
                        .find(planned_plain.as_ref().unwrap_or(&Value::Null))
                        .await
                    {
                        Ok(Some(found)) => {
                            if let Some(old) = &prior_plain {
                                record_deposed(shared, change, old).await?;
                            }
                            Some(Outcome::Put(record(&found, true)))
                        }
                        Ok(None) => None,
                        Err(find) => {
                            return Err(format!(
                                "{}; whether the replacement was made is unknown ({}): look for it before the next apply",
                                e.message, find.message
                            ));
                        }
                    }
                }
                // The old object was deleted before the create failed.
                (None, Action::Replace) => Some(Outcome::Remove),
                _ => None,
            };
            (Err(e.message), outcome)
        }
    };
    let postcondition = match (&result, &record_outcome, decl) {
        (Ok(_), Some(Outcome::Put(inst)), Some(decl))
            if !decl.lifecycle.postconditions.is_empty() =>
        {
            check_postconditions(shared, decl, &addr, &inst.attributes).err()
        }
        _ => None,
    };
    if let Some(o) = record_outcome {
        let journaled = match (&shared.journal, intent) {
            (Some(j), Some(intent)) => intent.done(j, &change.address, &o),
            _ => Ok(()),
        };
        // Recorded in memory even when the journal failed: the object
        // exists, and the snapshot written at the end must say so.
        {
            let mut state = shared.state.lock().map_err(|_| "state lock poisoned")?;
            match o {
                Outcome::Put(inst) => {
                    state
                        .resources
                        .insert(change.address.clone(), Box::new(inst));
                }
                Outcome::Remove => {
                    state.resources.remove(&change.address);
                }
            }
        }
        journaled.map_err(|e| format!("recording the outcome in the state journal: {e}"))?;
    }
    // A failed postcondition fails the node after the object is recorded.
    match postcondition {
        Some(message) => Err(message),
        None => result,
    }
}

/// Records a failed create whose object could not be looked up as pending:
/// it may exist, and the next command reads it back.
fn keep_pending(
    shared: &Shared,
    change: &ResourceChange,
    seq: u64,
    planned: Option<&Value>,
) -> Result<(), String> {
    let mut state = shared.state.lock().map_err(|_| "state lock poisoned")?;
    state.pending.push(InFlight {
        seq,
        address: change.address.clone(),
        operation: Operation::Create,
        planned: planned.map(Value::to_json_known),
        resource_type: change.resource_type.clone(),
        provider: change.provider.clone(),
    });
    Ok(())
}

/// `each.value` of an instance. The plan recorded it; where part of it was
/// unknown then (a for_each map whose values come from objects this apply
/// makes first), for_each is evaluated again with the values known now.
fn each_value(
    stack: &Stack,
    values: &Values,
    mi: &ModuleInstance,
    addr: &InstanceAddr,
) -> Result<Value, String> {
    let recorded = values.each.get(&addr.to_string()).cloned();
    if let Some(v) = recorded.as_ref().filter(|v| v.is_wholly_known()) {
        return Ok(v.clone());
    }
    let Some(decl) = stack.resource(&static_key(&addr.resource)) else {
        return Ok(recorded.unwrap_or(Value::Null));
    };
    if decl.for_each.is_none() {
        return Ok(recorded.unwrap_or(Value::Null));
    }
    let instances = crate::plan::expand(stack, decl, mi, values, true)
        .map_err(|d| d.render_plain(&stack.sources).trim_end().to_owned())?;
    instances
        .into_iter()
        .find(|(k, _)| *k == addr.key)
        .map(|(_, v)| v)
        .ok_or_else(|| format!("{addr}: its for_each key is gone from the for_each value at apply"))
}

/// Checks postconditions with `self` bound to the object just made.
fn check_postconditions(
    shared: &Shared,
    decl: &crate::config::ResourceDecl,
    addr: &InstanceAddr,
    attributes: &serde_json::Value,
) -> Result<(), String> {
    let stack = &shared.stack;
    let values = shared.values.lock().map_err(|_| "values lock poisoned")?;
    let mi = values.module_instance(&addr.resource.module);
    let each = each_value(stack, &values, &mi, addr)?;
    let mut scope = stack
        .scope_for(
            stack.refs(&static_key(&addr.resource)),
            &values,
            &mi,
            Some((&addr.key, &each)),
            true,
        )
        .map_err(|d| d.render_plain(&stack.sources))?;
    scope.set("self", Value::from_json(attributes));
    lifecycle::check(
        &decl.lifecycle.postconditions,
        &scope,
        "postcondition",
        &addr.to_string(),
    )
    .map_err(|d| d.render_plain(&stack.sources).trim_end().to_owned())
}

/// Records an old object a create-before-destroy replacement could not
/// delete, under `ADDRESS (deposed)`, so the next plan deletes it.
async fn record_deposed(
    shared: &Shared,
    change: &ResourceChange,
    old: &Value,
) -> Result<(), String> {
    let address = format!("{} (deposed)", change.address);
    let inst = {
        let mut state = shared.state.lock().map_err(|_| "state lock poisoned")?;
        let Some(mut inst) = state.resources.get(&change.address).cloned() else {
            return Ok(());
        };
        inst.attributes = old.to_json_lossy();
        state.resources.insert(address.clone(), inst.clone());
        *inst
    };
    match &shared.journal {
        Some(j) => record_at_once(j, &address, &change.resource_type, &change.provider, inst).await,
        None => Ok(()),
    }
}

/// A data source read deferred to apply: its arguments are known now.
async fn read_data(shared: &Shared, addr: &InstanceAddr) -> Result<Option<String>, String> {
    let stack = &shared.stack;
    let rkey = addr.resource.to_string();
    let decl = stack
        .resource(&static_key(&addr.resource))
        .ok_or_else(|| format!("{rkey} is no longer in the configuration"))?;
    let ds = stack
        .data_source_for(&static_key(&addr.resource), &decl.addr.resource_type)
        .cloned()
        .ok_or_else(|| format!("no data source \"{}\"", decl.addr.resource_type))?;
    let config = {
        let values = shared.values.lock().map_err(|_| "values lock poisoned")?;
        let mi = values.module_instance(&addr.resource.module);
        let each = each_value(stack, &values, &mi, addr)?;
        data_config(stack, decl, &mi, &addr.key, &each, &values, true)
            .map_err(|d| d.render_plain(&stack.sources).trim_end().to_owned())?
    };
    let value = ds
        .read(&config.clone().deep_unmark())
        .await
        .map_err(|e| e.message)?
        .with_sensitive_attributes(&config.sensitive_attributes());
    let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
    if let Ok(mut values) = shared.values.lock() {
        values
            .instances
            .entry(rkey.clone())
            .or_default()
            .insert(addr.key.clone(), value);
    }
    Ok(id)
}

/// Runs a provider call, reporting "Still creating..." while it runs.
async fn with_progress<F, T>(
    call: F,
    shared: &Shared,
    change: &ResourceChange,
    started: Instant,
) -> T
where
    F: std::future::Future<Output = T>,
{
    tokio::pin!(call);
    // A call that finishes at once (a built-in type's) needs no timer: a
    // timer is registered with the runtime's clock and taken out again.
    if let Poll::Ready(out) = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await {
        return out;
    }
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + shared.progress_interval,
        shared.progress_interval,
    );
    loop {
        tokio::select! {
            out = &mut call => return out,
            _ = ticker.tick() => shared.hooks.still_applying(&change.address, change.action, started.elapsed()),
        }
    }
}

/// Outputs from the final values. An output that cannot be evaluated (a
/// resource it needs failed) keeps its recorded value.
fn record_outputs(stack: &Stack, values: &Values, state: &mut State, destroy: bool) {
    if destroy {
        state.outputs.clear();
        return;
    }
    state
        .outputs
        .retain(|name, _| stack.module.outputs.contains_key(name));
    for (name, decl) in &stack.module.outputs {
        if let Ok(v) = stack.eval_in(
            &format!("output.{name}"),
            &decl.value,
            values,
            &ModuleInstance::root(),
            None,
            true,
        ) && let Some(json) = v.clone().deep_unmark().to_json()
        {
            state.outputs.insert(
                name.clone(),
                OutputValue {
                    value: json,
                    sensitive: decl.sensitive || v.contains_sensitive(),
                },
            );
        }
    }
}
