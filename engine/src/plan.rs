//! Making a plan: refresh what state records, evaluate every block in
//! dependency order, diff each resource instance against its refreshed prior.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use dumcel_planner::{
    Action, InstanceAddr, InstanceKey, OutputChange, Plan, ResourceChange, Value,
    diff_resource_with,
};
use dumcel_state::State;

use crate::body::eval_body;
use crate::config::{Diagnostic, Diagnostics, ResourceDecl};
use crate::eval::Scope;
use crate::hooks::Hooks;
use crate::lifecycle;
use crate::provider::{ProviderRef, ProviderResult, Registry, ResourceType};
use crate::stack::{ModuleInstance, Node, NodeKind, Stack, Values, static_key};
use dumcel_planner::{Mode, ResourceAddr};

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub destroy: bool,
    pub refresh: bool,
    pub parallelism: usize,
    /// `-replace=ADDR`: instances to replace even if nothing changed.
    pub replace: Vec<String>,
    /// `-target=ADDR`: plan only these (resources or instances) and what they depend on.
    pub targets: Vec<String>,
    /// `-exclude=ADDR`: plan all but these and what depends on them.
    pub excludes: Vec<String>,
    /// Keep in the plan what only a plan that leaves the process needs: the
    /// configuration and the prior state that Terraform's plan JSON shows
    /// (each a copy of the stack's size), and the configuration's hash that
    /// `apply FILE` checks. `plan -json` and `plan -out` need them; a plan
    /// printed for people or applied at once does not.
    pub saved_or_json: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            destroy: false,
            refresh: true,
            parallelism: 10,
            replace: Vec::new(),
            targets: Vec::new(),
            excludes: Vec::new(),
            saved_or_json: true,
        }
    }
}

/// A recorded instance as a value, with its sensitive marks restored.
pub fn state_value(inst: &dumcel_state::ResourceInstance) -> Value {
    Value::from_json(&inst.attributes).with_sensitive_attributes(&inst.sensitive_attributes)
}

/// What the plan walk's steps read.
struct Walk<'a> {
    priors: Priors<'a>,
    opts: &'a PlanOptions,
    /// By block id: whether the block planned anything but a no-op so far.
    /// The walk goes dependencies first, so a block's dependencies are done.
    changed: Vec<bool>,
}

/// What each recorded instance was before the plan, by address.
struct Priors<'a> {
    state: &'a State,
    refreshed: &'a Refreshed,
    /// The state's instances by hash, when refresh did not read them: a
    /// lookup in the state's BTreeMap compares the address against a key on
    /// every level, and in a large state each of those keys is a cache miss.
    recorded: HashMap<&'a str, &'a dumcel_state::ResourceInstance>,
    /// The addresses of tainted instances (most often none).
    tainted: HashSet<&'a str>,
}

impl<'a> Priors<'a> {
    fn new(state: &'a State, refreshed: &'a Refreshed) -> Self {
        let recorded = if refreshed.current.is_empty() {
            state
                .resources
                .iter()
                .map(|(address, inst)| (address.as_str(), &**inst))
                .collect()
        } else {
            // A refresh that succeeded read every recorded instance.
            HashMap::new()
        };
        Priors {
            state,
            refreshed,
            recorded,
            tainted: state
                .resources
                .iter()
                .filter(|(_, inst)| inst.tainted)
                .map(|(address, _)| address.as_str())
                .collect(),
        }
    }

    /// The instance's value: as refresh read it (`None`: gone), or as
    /// recorded when it was not refreshed.
    fn value(&self, address: &str) -> Option<Value> {
        match self.refreshed.current.get(address) {
            Some(current) => current.clone(),
            None if self.refreshed.current.is_empty() => {
                self.recorded.get(address).map(|inst| state_value(inst))
            }
            // Not recorded, or recorded and not refreshed: neither is the
            // common case after a refresh.
            None => self
                .state
                .resources
                .get(address)
                .map(|inst| state_value(inst)),
        }
    }

    fn tainted(&self, address: &str) -> bool {
        self.tainted.contains(address)
    }
}

/// A plan with what apply needs to carry it out: the planned value of every
/// instance and what refresh found.
pub struct Planned {
    pub plan: Plan,
    pub values: Values,
    pub refreshed: Refreshed,
}

/// What refresh found: the current value of every recorded instance (`None`:
/// gone) and the drift from what state recorded.
#[derive(Debug, Default)]
pub struct Refreshed {
    pub current: HashMap<String, Option<Value>>,
    pub drift: Vec<ResourceChange>,
}

/// A recorded instance to refresh: its address and the names of its
/// sensitive attributes. Its prior value, unmarked, goes beside it in the
/// batch handed to the provider, and is marked again only after the read:
/// building it plain from the state saves copying every prior to strip marks
/// that most instances do not have.
type Recorded = (String, Vec<String>);

/// Recorded instances of one type with their plain priors, read in one call.
type Batch = Vec<(Recorded, Value)>;

/// A batch's reads: its instances, their priors and what the provider found.
type BatchRead = (
    Vec<Recorded>,
    Vec<Value>,
    Vec<ProviderResult<Option<Value>>>,
);

/// Reads `batch` through `rt` in a task of `tasks`, once `sem` lets it.
fn spawn_read(
    tasks: &mut JoinSet<BatchRead>,
    sem: &Arc<Semaphore>,
    rt: &Arc<dyn ResourceType>,
    batch: Batch,
) {
    let (batch, priors): (Vec<Recorded>, Vec<Value>) = batch.into_iter().unzip();
    let (sem, rt) = (sem.clone(), rt.clone());
    tasks.spawn(async move {
        let _permit = sem.acquire_owned().await;
        let reads = rt.read_many(&priors).await;
        (batch, priors, reads)
    });
}

/// Reads every recorded instance from its provider, at most `parallelism`
/// calls at once. Instances are read in batches of their type's
/// [`ResourceType::read_batch_size`], so an API that describes many objects
/// in one call is asked once per batch instead of once per object.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refresh(
    registry: &Registry,
    state: &State,
    parallelism: usize,
    hooks: &dyn Hooks,
) -> Result<Refreshed, Diagnostics> {
    let mut out = Refreshed {
        current: HashMap::with_capacity(state.resources.len()),
        drift: Vec::new(),
    };
    let mut diags = Diagnostics::new();
    let sem = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut tasks = JoinSet::new();
    // By the configured type that reads them (one per provider
    // configuration), the batch being filled. A full batch is sent at once:
    // gathering every instance first grew a vector as large as the state.
    let mut filling: Vec<(Arc<dyn ResourceType>, Batch)> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (address, inst) in &state.resources {
        let rt = match registry.recorded_resource_type(address, &inst.provider, &inst.resource_type)
        {
            Ok(rt) => rt,
            Err((summary, detail)) => {
                diags.error(summary, detail, None);
                continue;
            }
        };
        let prior = Value::from_json(&inst.attributes);
        hooks.refreshing(address, prior.get("id").and_then(Value::as_str));
        let group = *group_of
            .entry(Arc::as_ptr(&rt) as *const () as usize)
            .or_insert_with(|| {
                filling.push((rt, Vec::new()));
                filling.len() - 1
            });
        let (rt, batch) = &mut filling[group];
        let size = rt.read_batch_size().max(1);
        if batch.capacity() == 0 {
            batch.reserve_exact(size.min(state.resources.len()));
        }
        batch.push(((address.clone(), inst.sensitive_attributes.clone()), prior));
        if batch.len() == size {
            spawn_read(&mut tasks, &sem, rt, std::mem::take(batch));
        }
    }
    for (rt, batch) in &mut filling {
        if !batch.is_empty() {
            spawn_read(&mut tasks, &sem, rt, std::mem::take(batch));
        }
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok((batch, priors, reads)) = joined else {
            diags.error("A refresh task failed unexpectedly", "", None);
            continue;
        };
        if reads.len() != batch.len() {
            let addresses: Vec<&str> = batch.iter().map(|(a, _)| a.as_str()).collect();
            diags.error(
                "Provider returned a wrong number of objects",
                format!(
                    "Asked to read {} objects ({}), it answered {}. This is a bug in the provider.",
                    batch.len(),
                    addresses.join(", "),
                    reads.len()
                ),
                None,
            );
            continue;
        }
        for (((address, sensitive), prior), read) in batch.into_iter().zip(priors).zip(reads) {
            match read {
                Ok(current) => {
                    let prior = prior.with_sensitive_attributes(&sensitive);
                    let current = current.map(|v| v.with_sensitive_attributes(&sensitive));
                    if let Some(change) = drift_of(&address, state, &prior, current.as_ref()) {
                        out.drift.push(change);
                    }
                    out.current.insert(address, current);
                }
                Err(e) => diags.error(format!("Error refreshing {address}"), e.message, None),
            }
        }
    }
    diags.into_result()?;
    out.drift.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(out)
}

fn drift_of(
    address: &str,
    state: &State,
    prior: &Value,
    current: Option<&Value>,
) -> Option<ResourceChange> {
    let action = match current {
        None => Action::Delete,
        Some(now) if dumcel_planner::diff::same(now, prior) => return None,
        Some(_) => Action::Update,
    };
    // Looked up only for a drift: in a large state each lookup is costly.
    let inst = state.resources.get(address)?;
    Some(ResourceChange {
        address: address.to_owned(),
        resource_type: inst.resource_type.clone(),
        provider: inst.provider.clone(),
        action,
        before: Some(prior.clone()),
        after: current.cloned(),
        replace_because: Vec::new(),
        reason: None,
        depends_on: Vec::new(),
        importing: None,
    })
}

/// Makes the plan. Returns it with the planned values of every instance.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn plan(
    stack: &Stack,
    state: &State,
    refreshed: &Refreshed,
    opts: &PlanOptions,
) -> Result<(Plan, Values), Diagnostics> {
    let mut values = Values::default();
    // Grown one resource at a time, the map rehashed every key it held at
    // each doubling, reading address strings from all over the heap.
    values.instances.reserve(stack.id_count());
    // Room for a change per recorded instance or per block, whichever is
    // more: grown by doubling, a vector of 100,000 changes was copied through
    // fresh pages sixteen times (bench/README.md, "Eighth pass").
    let mut changes = Vec::with_capacity(state.resources.len().max(stack.id_count()));
    let mut diags = Diagnostics::new();
    let mut walk = Walk {
        priors: Priors::new(state, refreshed),
        opts,
        changed: vec![false; stack.id_count()],
    };

    if !opts.destroy {
        // Blocks that failed, or depend on one that did: they are not
        // evaluated (they would only repeat the error), but every block
        // independent of them still is, so one run reports every error.
        // By block id.
        let mut failed = vec![false; stack.id_count()];
        // By block id, the range of its changes: the walk plans a block's
        // instances one after another.
        let mut block_changes = vec![0..0; stack.id_count()];
        for &id in stack.order() {
            if stack.dependency_ids(id).any(|d| failed[d]) {
                failed[id] = true;
                continue;
            }
            let Some(node) = stack.node_at(id) else {
                continue;
            };
            let first = changes.len();
            let planned = plan_node(
                stack,
                stack.key_of(id),
                node,
                &walk,
                &mut values,
                &mut changes,
            )
            .await;
            walk.changed[id] = changes[first..].iter().any(|c| c.action != Action::NoOp);
            block_changes[id] = first..changes.len();
            fill_depends_on(node, id, &mut changes, &block_changes);
            if let Err(d) = planned {
                if d.has_errors() {
                    failed[id] = true;
                }
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
    }

    // What state records and the configuration no longer declares is deleted.
    let planned: HashSet<&str> = changes.iter().map(|c| c.address.as_str()).collect();
    let mut orphans = Vec::new();
    for (address, inst) in &state.resources {
        if planned.contains(address.as_str()) {
            continue;
        }
        let reason = if opts.destroy {
            None
        } else {
            Some(orphan_reason(stack, address))
        };
        let before = walk.priors.value(address);
        if before.is_none() && !opts.destroy {
            // Already gone outside dumcel: refresh shows it, nothing to do.
            continue;
        }
        // Destroying it needs the configuration that made it.
        if let Err((summary, detail)) =
            stack
                .registry
                .recorded_resource_type(address, &inst.provider, &inst.resource_type)
        {
            diags.error(summary, detail, None);
            continue;
        }
        orphans.push(ResourceChange {
            address: address.clone(),
            resource_type: inst.resource_type.clone(),
            provider: inst.provider.clone(),
            action: if before.is_some() {
                Action::Delete
            } else {
                Action::NoOp
            },
            before,
            after: None,
            replace_because: Vec::new(),
            reason,
            depends_on: Vec::new(),
            importing: None,
        });
    }
    drop(planned);
    changes.extend(orphans);

    if !opts.targets.is_empty() {
        changes = restrict_to_targets(stack, changes, &opts.targets);
    }
    if !opts.excludes.is_empty() {
        changes = leave_out_excluded(stack, changes, &opts.excludes);
    }
    if let Err(d) = lifecycle::prevent_destroy(stack, &changes) {
        diags.extend(d);
    }
    let outputs = if !opts.targets.is_empty() || !opts.excludes.is_empty() {
        // A targeted or excluding plan leaves outputs as recorded.
        Vec::new()
    } else if opts.destroy {
        state
            .outputs
            .iter()
            .map(|(name, o)| OutputChange {
                name: name.clone(),
                action: Action::Delete,
                before: Some(Value::from_json(&o.value).mark_if(o.sensitive)),
                after: None,
                sensitive: o.sensitive,
            })
            .collect()
    } else {
        plan_outputs(stack, state, &values, &mut diags)
    };
    diags.into_result()?;

    let variables = stack
        .variables
        .iter()
        .filter(|(_, v)| !v.contains_sensitive())
        .filter_map(|(k, v)| Some((k.clone(), v.to_json()?)))
        .collect();
    let plan = Plan {
        format_version: dumcel_planner::plan::PLAN_FORMAT_VERSION,
        dumcel_version: env!("CARGO_PKG_VERSION").to_owned(),
        lineage: state.lineage.clone(),
        serial: state.serial,
        destroy: opts.destroy,
        config_hash: if opts.saved_or_json {
            stack.config_hash()
        } else {
            String::new()
        },
        variables,
        drift: refreshed.drift.clone(),
        changes,
        outputs,
        moved: Vec::new(),
        forgotten: Vec::new(),
        prior_state: opts
            .saved_or_json
            .then(|| crate::plan_json::refreshed_state(state, &refreshed.current)),
        configuration: opts
            .saved_or_json
            .then(|| crate::plan_json::configuration(stack)),
        timestamp: Some(
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        ),
        targeted: !opts.targets.is_empty() || !opts.excludes.is_empty(),
    };
    Ok((plan, values))
}

/// Plans one block in every instance of its module.
async fn plan_node(
    stack: &Stack,
    key: &str,
    node: &Node,
    walk: &Walk<'_>,
    values: &mut Values,
    changes: &mut Vec<ResourceChange>,
) -> Result<(), Diagnostics> {
    let Some(module) = stack.modules.get(&node.prefix).map(|m| m.module.clone()) else {
        return Ok(());
    };
    for mi in values.module_instances(&node.prefix) {
        let prefix = mi.prefix();
        match &node.kind {
            NodeKind::Var(name) if !mi.steps.is_empty() => {
                let v = stack.compute_var(&mi, name, values, false)?;
                values.named.insert(format!("{prefix}var.{name}"), v);
            }
            NodeKind::Local(name) => {
                if let Some(local) = module.locals.get(name) {
                    let v = stack.eval_in(key, &local.expr, values, &mi, None, false)?;
                    values.named.insert(format!("{prefix}local.{name}"), v);
                }
            }
            NodeKind::Output(name) if !mi.steps.is_empty() => {
                if let Some(out) = module.outputs.get(name) {
                    let v = stack.eval_in(key, &out.value, values, &mi, None, false)?;
                    values
                        .named
                        .insert(format!("{prefix}output.{name}"), v.mark_if(out.sensitive));
                }
            }
            NodeKind::Call(name) => {
                if let Some(call) = module.calls.get(name) {
                    let children = expand_call(stack, key, call, &mi, values)?;
                    values
                        .modules
                        .entry(format!("{}module.{name}.", node.prefix))
                        .or_default()
                        .extend(children);
                }
            }
            NodeKind::Resource(_) => {
                let Some((_, decl)) = module.resources.get_index(node.index) else {
                    continue;
                };
                if decl.addr.mode == Mode::Data {
                    plan_data(stack, node, decl, &mi, walk, values, changes).await?;
                } else {
                    plan_resource(stack, node, decl, &mi, walk, values, changes).await?;
                }
            }
            NodeKind::Var(_) | NodeKind::Output(_) | NodeKind::Provider(_) | NodeKind::Check(_) => {
            }
        }
    }
    Ok(())
}

/// The instances a module call makes in `parent`, from its count / for_each.
fn expand_call(
    stack: &Stack,
    key: &str,
    call: &crate::config::ModuleCallDecl,
    parent: &ModuleInstance,
    values: &Values,
) -> Result<Vec<ModuleInstance>, Diagnostics> {
    let keys = expand_keys(
        stack,
        key,
        call.count.as_ref(),
        call.for_each.as_ref(),
        values,
        parent,
        false,
    )?;
    Ok(keys
        .into_iter()
        .map(|(k, each)| {
            let mut steps = parent.steps.clone();
            steps.push(dumcel_planner::ModuleStep {
                name: call.name.clone(),
                key: k,
            });
            ModuleInstance { steps, each }
        })
        .collect())
}

/// Sets `depends_on` on the changes of `block`: the addresses of the changes
/// of every resource it depends on. `of_block` holds, by block id, the range
/// of the block's changes (ranges rather than a list per block: at 100,000
/// blocks those lists were 100,000 allocations). Called as soon as the block
/// is planned, while its node and its changes are still in the cache: done in
/// one pass after the walk, at 100,000 resources nearly every read here missed
/// (bench/README.md, "Eighth pass" and "Ninth pass").
fn fill_depends_on(
    node: &Node,
    block: usize,
    changes: &mut [ResourceChange],
    of_block: &[Range<usize>],
) {
    let range = of_block[block].clone();
    if range.is_empty() {
        return;
    }
    let deps: Vec<String> = node
        .resource_deps
        .iter()
        .flat_map(|&d| of_block[d].clone())
        .map(|i| changes[i].address.clone())
        .collect();
    if let Some((last, others)) = changes[range].split_last_mut() {
        for c in others {
            c.depends_on = deps.clone();
        }
        last.depends_on = deps;
    }
}

fn orphan_reason(stack: &Stack, address: &str) -> String {
    let Ok(addr) = address.parse::<InstanceAddr>() else {
        return "its address is not in configuration".into();
    };
    let key = addr.resource.to_string();
    match (stack.resource(&static_key(&addr.resource)), &addr.key) {
        (None, _) => format!("{key} is not in configuration"),
        (Some(_), InstanceKey::Int(i)) => format!("index [{i}] is out of range for count"),
        (Some(_), InstanceKey::Str(k)) => format!("key [\"{k}\"] is not in for_each map"),
        (Some(_), InstanceKey::None) => format!("{key} now uses count or for_each"),
    }
}

/// The instance keys of a resource in module instance `mi`, from count / for_each.
pub fn expand(
    stack: &Stack,
    decl: &ResourceDecl,
    mi: &ModuleInstance,
    values: &Values,
    fresh: bool,
) -> Result<Vec<(InstanceKey, Value)>, Diagnostics> {
    let key = format!("{}{}", mi.static_prefix(), decl.key());
    expand_keys(
        stack,
        &key,
        decl.count.as_ref(),
        decl.for_each.as_ref(),
        values,
        mi,
        fresh,
    )
}

/// Instance keys (with `each.value`) from a block's count or for_each;
/// `fresh` evaluates with the values of the apply so far.
fn expand_keys(
    stack: &Stack,
    key: &str,
    count: Option<&crate::config::ast::Expr>,
    for_each: Option<&crate::config::ast::Expr>,
    values: &Values,
    mi: &ModuleInstance,
    fresh: bool,
) -> Result<Vec<(InstanceKey, Value)>, Diagnostics> {
    if let Some(count) = count {
        let v = stack.eval_in(key, count, values, mi, None, fresh)?;
        if !v.is_wholly_known() {
            return Err(Diagnostic::error(
                "Invalid count argument",
                "The count value depends on values that are not known until apply. Use values known at plan time, or apply the resources it depends on first with -target.",
                Some(count.span),
            )
            .into());
        }
        let n = crate::eval::to_number(&v)
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 1_000_000.0)
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Invalid count argument",
                    format!(
                        "count must be a whole number from 0 to 1000000, got {}.",
                        if v.contains_sensitive() {
                            "(sensitive value)".to_string()
                        } else {
                            v.to_string()
                        }
                    ),
                    Some(count.span),
                ))
            })?;
        return Ok((0..n as i64)
            .map(|i| (InstanceKey::Int(i), Value::Null))
            .collect());
    }
    if let Some(for_each) = for_each {
        let v = stack.eval_in(key, for_each, values, mi, None, fresh)?;
        if v.contains_sensitive() {
            return Err(Diagnostic::error(
                "Invalid for_each argument",
                "Sensitive values cannot be used as for_each keys, because the keys appear in resource addresses. Use nonsensitive() if the keys are not secret.",
                Some(for_each.span),
            )
            .into());
        }
        // Only the keys make addresses, so a map's values may wait for apply
        // (Terraform's rule): the documented `{ for dvo in
        // aws_acm_certificate.x.domain_validation_options : dvo.domain_name
        // => {...} }` has known names and unknown record values.
        let keys_known = match &v {
            Value::Map(_) => true,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            other => other.is_wholly_known(),
        };
        if !keys_known {
            return Err(Diagnostic::error(
                "Invalid for_each argument",
                "The for_each keys depend on values that are not known until apply. Use keys known at plan time, or apply the resources they depend on first with -target.",
                Some(for_each.span),
            )
            .into());
        }
        return match v {
            Value::Map(map) => Ok(map
                .into_iter()
                .map(|(k, v)| (InstanceKey::Str(k), v))
                .collect()),
            Value::List(items) => {
                let mut out = BTreeMap::new();
                for item in items {
                    let Some(s) = item.as_str() else {
                        return Err(Diagnostic::error(
                            "Invalid for_each argument",
                            format!(
                                "for_each takes a map or a set of strings; this list holds a {}.",
                                item.type_name()
                            ),
                            Some(for_each.span),
                        )
                        .into());
                    };
                    out.insert(InstanceKey::Str(s.to_owned()), Value::string(s));
                }
                Ok(out.into_iter().collect())
            }
            Value::Null => Err(Diagnostic::error(
                "Invalid for_each argument",
                "for_each is null; use {} or [] for none.",
                Some(for_each.span),
            )
            .into()),
            other => Err(Diagnostic::error(
                "Invalid for_each argument",
                format!(
                    "for_each takes a map or a set of strings, got {}.",
                    other.type_name()
                ),
                Some(for_each.span),
            )
            .into()),
        };
    }
    Ok(vec![(InstanceKey::None, Value::Null)])
}

/// Diffs one instance, letting its resource type fill in plan-time values.
pub fn diff_instance(
    rt: &Arc<dyn ResourceType>,
    prior: Option<&Value>,
    config: &Value,
    force_replace: bool,
) -> Result<dumcel_planner::diff::Planned, String> {
    let prior_plain = prior.map(plain);
    diff_resource_with(rt.schema(), prior, config, force_replace, &mut |proposed| {
        // The provider sees plain values; the marks come back on the same attributes.
        let marked = proposed.sensitive_attributes();
        rt.plan(prior_plain.as_deref(), proposed.deep_unmark())
            .map(|v| v.with_sensitive_attributes(&marked))
    })
}

/// `value` without sensitive marks, copied only when it has some.
fn plain(value: &Value) -> Cow<'_, Value> {
    if value.contains_sensitive() {
        Cow::Owned(value.clone().deep_unmark())
    } else {
        Cow::Borrowed(value)
    }
}

/// Evaluates one instance's body against its type's schema: the configuration object.
pub fn instance_config(
    stack: &Stack,
    decl: &ResourceDecl,
    mi: &ModuleInstance,
    key: &InstanceKey,
    each: &Value,
    values: &Values,
    fresh: bool,
) -> Result<Value, Diagnostics> {
    let skey = format!("{}{}", mi.static_prefix(), decl.key());
    let uses = stack.provider_for(&skey, &decl.addr.resource_type);
    let rt = resource_type_of(stack, &uses, decl)?;
    let scope = stack.scope_for(stack.refs(&skey), values, mi, Some((key, each)), fresh)?;
    config_in(rt, decl, &scope)
}

/// The type that serves the managed resource `decl`, from the provider
/// configuration it uses.
fn resource_type_of<'s>(
    stack: &'s Stack,
    uses: &ProviderRef,
    decl: &ResourceDecl,
) -> Result<&'s Arc<dyn ResourceType>, Diagnostics> {
    stack
        .registry
        .resource_type(uses, &decl.addr.resource_type)
        .ok_or_else(|| {
            Diagnostic::error(
                format!("Unknown resource type \"{}\"", decl.addr.resource_type),
                "No provider offers this type.",
                Some(decl.span),
            )
            .into()
        })
}

/// One instance's configuration object: its body evaluated in `scope` (the
/// instance's, `count.index` and `each.*` included), checked by its type.
fn config_in(
    rt: &Arc<dyn ResourceType>,
    decl: &ResourceDecl,
    scope: &Scope,
) -> Result<Value, Diagnostics> {
    let config = eval_body(
        rt.schema(),
        &decl.body,
        scope,
        &decl.addr.resource_type,
        decl.span,
    )?;
    let mut diags = Diagnostics::new();
    for (attr, message) in rt.validate(&plain(&config)) {
        let span = decl
            .body
            .attributes
            .get(&attr)
            .map(|a| a.span)
            .unwrap_or(decl.span);
        diags.error(
            format!("Invalid value for \"{attr}\""),
            format!("{}: {attr} {message}", decl.addr),
            Some(span),
        );
    }
    diags.into_result()?;
    Ok(config)
}

async fn plan_resource(
    stack: &Stack,
    node: &Node,
    decl: &ResourceDecl,
    mi: &ModuleInstance,
    walk: &Walk<'_>,
    values: &mut Values,
    changes: &mut Vec<ResourceChange>,
) -> Result<(), Diagnostics> {
    let Walk { priors, opts, .. } = walk;
    let key = format!("{}{}", mi.prefix(), decl.key());
    let instances = expand(stack, decl, mi, values, false)?;
    let uses = stack.provider_of(Some(node), &decl.addr.resource_type);
    let rt = resource_type_of(stack, &uses, decl)?;
    let provider = stack.registry.recorded(&uses);
    let addr = ResourceAddr {
        module: mi.steps.clone(),
        ..decl.addr.clone()
    };
    let rules = &decl.lifecycle;
    let mut diags = Diagnostics::new();
    for (ikey, each) in instances {
        let address = addr.instance(ikey.clone()).to_string();
        // Only for_each instances have one; apply reads a missing one as null.
        if !each.is_null() {
            values.each.insert(address.clone(), each.clone());
        }
        // One scope for the body and the conditions: they see the same names.
        let config = stack
            .scope_for(&decl.references, values, mi, Some((&ikey, &each)), false)
            .and_then(|scope| Ok((config_in(rt, decl, &scope)?, scope)));
        let (config, scope) = match config {
            Ok(found) => found,
            Err(d) => {
                diags.extend(d);
                continue;
            }
        };
        let (prior, importing) = match priors.value(&address) {
            Some(p) => (Some(p), None),
            None => match import_for(stack, rt, &address, values).await {
                Ok(Some((found, id))) => (Some(found), Some(id)),
                Ok(None) => (None, None),
                Err(d) => {
                    diags.extend(d);
                    continue;
                }
            },
        };
        let config = lifecycle::ignore_changes(rules, config, prior.as_ref());
        if let Err(d) = lifecycle::check(&rules.preconditions, &scope, "precondition", &address) {
            diags.extend(d);
            continue;
        }
        let tainted = priors.tainted(&address);
        let requested = opts.replace.contains(&address);
        let triggered = lifecycle::replace_trigger(rules, mi, changes);
        let reason = if tainted {
            Some("tainted".to_owned())
        } else if requested {
            Some("requested with -replace".to_owned())
        } else {
            triggered
                .as_ref()
                .map(|t| format!("replace_triggered_by: {t} changes"))
        };
        let force = prior.is_some() && (tainted || requested || triggered.is_some());
        let p = match diff_instance(rt, prior.as_ref(), &config, force) {
            Ok(p) => p,
            Err(message) => {
                diags.push(Diagnostic::error(
                    format!("Cannot plan {address}"),
                    message,
                    Some(decl.span),
                ));
                continue;
            }
        };
        if !rules.postconditions.is_empty() {
            let mut post = scope;
            post.set("self", p.after.clone());
            if let Err(d) =
                lifecycle::check(&rules.postconditions, &post, "postcondition", &address)
            {
                diags.extend(d);
            }
        }
        values
            .instances
            .entry(key.clone())
            .or_default()
            .insert(ikey, p.after.clone());
        if p.action == Action::Create && config.is_wholly_known() {
            values.known_creates.insert(address.clone());
        }
        changes.push(ResourceChange {
            address,
            resource_type: decl.addr.resource_type.clone(),
            provider: provider.clone(),
            action: p.action,
            before: prior,
            after: Some(p.after),
            replace_because: p.replace_because,
            reason: reason.filter(|_| p.action == Action::Replace),
            depends_on: Vec::new(),
            importing,
        });
    }
    diags.into_result().map(|_| ())
}

fn plan_outputs(
    stack: &Stack,
    state: &State,
    values: &Values,
    diags: &mut Diagnostics,
) -> Vec<OutputChange> {
    let mut out = Vec::new();
    for (name, decl) in &stack.module.outputs {
        let after = match stack.eval_in(
            &format!("output.{name}"),
            &decl.value,
            values,
            &ModuleInstance::root(),
            None,
            false,
        ) {
            Ok(v) => v,
            Err(d) => {
                diags.extend(d);
                continue;
            }
        };
        if after.contains_sensitive() && !decl.sensitive {
            diags.push(Diagnostic::error(
                format!("Output \"{name}\" refers to sensitive values"),
                "To reduce the risk of showing a secret, outputs that use sensitive values must be marked sensitive = true.",
                Some(decl.value.span),
            ));
            continue;
        }
        let after = after.mark_if(decl.sensitive);
        let before = state
            .outputs
            .get(name)
            .map(|o| Value::from_json(&o.value).mark_if(o.sensitive));
        let action = match &before {
            None => Action::Create,
            Some(b) if dumcel_planner::diff::same(b, &after) => Action::NoOp,
            Some(_) => Action::Update,
        };
        out.push(OutputChange {
            name: name.clone(),
            action,
            before,
            after: Some(after),
            sensitive: decl.sensitive,
        });
    }
    for (name, o) in &state.outputs {
        if !stack.module.outputs.contains_key(name) {
            out.push(OutputChange {
                name: name.clone(),
                action: Action::Delete,
                before: Some(Value::from_json(&o.value).mark_if(o.sensitive)),
                after: None,
                sensitive: o.sensitive,
            });
        }
    }
    out
}

/// Evaluates one data source instance's arguments against its schema.
pub fn data_config(
    stack: &Stack,
    decl: &ResourceDecl,
    mi: &ModuleInstance,
    key: &InstanceKey,
    each: &Value,
    values: &Values,
    fresh: bool,
) -> Result<Value, Diagnostics> {
    let skey = format!("{}{}", mi.static_prefix(), decl.key());
    let ds = stack
        .data_source_for(&skey, &decl.addr.resource_type)
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                format!("Unknown data source type \"{}\"", decl.addr.resource_type),
                "",
                Some(decl.span),
            ))
        })?;
    let scope = stack.scope_for(stack.refs(&skey), values, mi, Some((key, each)), fresh)?;
    eval_body(
        ds.schema(),
        &decl.body,
        &scope,
        &format!("data \"{}\"", decl.addr.resource_type),
        decl.span,
    )
}

/// Reads a data source now when its arguments are known; otherwise plans the
/// read for apply, its results unknown until then.
async fn plan_data(
    stack: &Stack,
    node: &Node,
    decl: &ResourceDecl,
    mi: &ModuleInstance,
    walk: &Walk<'_>,
    values: &mut Values,
    changes: &mut Vec<ResourceChange>,
) -> Result<(), Diagnostics> {
    let uses = stack.provider_of(Some(node), &decl.addr.resource_type);
    let Some(ds) = stack
        .registry
        .data_source_of(&uses, &decl.addr.resource_type)
        .cloned()
    else {
        return Ok(());
    };
    let key = format!("{}{}", mi.prefix(), decl.key());
    let provider = stack.registry.recorded(&uses);
    // As in Terraform: a data source waits for apply when something it
    // depends on is about to change, even if its arguments look known.
    let deps_change = node.resource_deps.iter().any(|&d| walk.changed[d]);
    let addr = ResourceAddr {
        module: mi.steps.clone(),
        ..decl.addr.clone()
    };
    for (ikey, each) in expand(stack, decl, mi, values, false)? {
        let address = addr.instance(ikey.clone()).to_string();
        // Only for_each instances have one; apply reads a missing one as null.
        if !each.is_null() {
            values.each.insert(address.clone(), each.clone());
        }
        let config = data_config(stack, decl, mi, &ikey, &each, values, false)?;
        let value = if config.is_wholly_known() && !deps_change {
            let read = ds.read(&config.clone().deep_unmark()).await.map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    format!("Error reading {address}"),
                    e.message,
                    Some(decl.span),
                ))
            })?;
            read.with_sensitive_attributes(&config.sensitive_attributes())
        } else {
            let after = dumcel_planner::diff_resource(ds.schema(), None, &config, false).after;
            changes.push(ResourceChange {
                address,
                resource_type: decl.addr.resource_type.clone(),
                provider: provider.clone(),
                action: Action::Read,
                before: None,
                after: Some(after.clone()),
                replace_because: Vec::new(),
                reason: Some(if deps_change {
                    "it depends on resources with changes pending".into()
                } else {
                    "its arguments depend on values not known until apply".into()
                }),
                depends_on: Vec::new(),
                importing: None,
            });
            after
        };
        values
            .instances
            .entry(key.clone())
            .or_default()
            .insert(ikey, value);
    }
    Ok(())
}

/// Whether `address` is `target` or inside it: `null_resource.a` covers its
/// instances, `module.web` everything in it.
fn covers(address: &str, target: &str) -> bool {
    address == target
        || address
            .strip_prefix(target)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
}

/// Drops the changes an `-exclude` names, and those of every resource that
/// depends on one of them, directly or not (Terraform's `-exclude`).
fn leave_out_excluded(
    stack: &Stack,
    changes: Vec<ResourceChange>,
    excludes: &[String],
) -> Vec<ResourceChange> {
    let static_of = |address: &str| {
        address
            .parse::<InstanceAddr>()
            .ok()
            .map(|a| static_key(&a.resource))
    };
    // Resources with an excluded instance: what depends on them is left out.
    let mut excluded: HashSet<String> = changes
        .iter()
        .filter(|c| excludes.iter().any(|e| covers(&c.address, e)))
        .filter_map(|c| static_of(&c.address))
        .collect();
    loop {
        let more: Vec<String> = stack
            .resource_ids()
            .map(|id| (stack.key_of(id), stack.node_at(id)))
            .filter(|(k, node)| {
                !excluded.contains(*k)
                    && node.is_some_and(|n| {
                        n.resource_deps
                            .iter()
                            .any(|&d| excluded.contains(stack.key_of(d)))
                    })
            })
            .map(|(k, _)| k.to_owned())
            .collect();
        if more.is_empty() {
            break;
        }
        excluded.extend(more);
    }
    changes
        .into_iter()
        .filter(|c| {
            let named = excludes.iter().any(|e| covers(&c.address, e));
            let dependent = static_of(&c.address).is_some_and(|k| {
                excluded.contains(&k)
                    && stack.resource_deps(&k).iter().any(|d| excluded.contains(d))
            });
            !named && !dependent
        })
        .collect()
}

/// Keeps the changes a `-target` names, and those of every resource the
/// targets depend on, directly or not.
fn restrict_to_targets(
    stack: &Stack,
    changes: Vec<ResourceChange>,
    targets: &[String],
) -> Vec<ResourceChange> {
    let matches = covers;
    // Resource keys the targets need, following dependencies transitively.
    let mut needed: HashSet<String> = HashSet::new();
    let mut stack_keys: Vec<String> = targets
        .iter()
        .filter_map(|t| {
            t.parse::<InstanceAddr>()
                .ok()
                .map(|a| static_key(&a.resource))
        })
        .collect();
    while let Some(k) = stack_keys.pop() {
        if needed.insert(k.clone()) {
            stack_keys.extend(stack.resource_deps(&k));
        }
    }
    changes
        .into_iter()
        .filter(|c| {
            if targets.iter().any(|t| matches(&c.address, t)) {
                return true;
            }
            let Ok(addr) = c.address.parse::<InstanceAddr>() else {
                return false;
            };
            let resource = addr.resource.to_string();
            // A dependency of a target, but not a sibling instance of a targeted one.
            needed.contains(&static_key(&addr.resource))
                && !targets
                    .iter()
                    .any(|t| t.starts_with(&resource) && t.len() > resource.len())
        })
        .collect()
}

/// For an `import` block naming `address`: the existing object it brings under
/// management, read from its provider, and the id it was imported by.
async fn import_for(
    stack: &Stack,
    rt: &Arc<dyn ResourceType>,
    address: &str,
    values: &Values,
) -> Result<Option<(Value, String)>, Diagnostics> {
    let Some(decl) = stack.module.imports.iter().find(|i| i.to == address) else {
        return Ok(None);
    };
    let scope = stack.scope_for(
        &decl.id.references(),
        values,
        &ModuleInstance::root(),
        None,
        false,
    )?;
    let id =
        crate::eval::eval(&decl.id, &scope).map_err(|e| Diagnostics::from(Diagnostic::from(e)))?;
    let Some(id) = id
        .as_str()
        .map(str::to_owned)
        .filter(|_| id.is_wholly_known())
    else {
        return Err(Diagnostic::error(
            "Invalid import id",
            "The id must be a string known at plan time.",
            Some(decl.id.span),
        )
        .into());
    };
    let failed = |message: String| {
        Diagnostics::from(Diagnostic::error(
            format!("Cannot import {address}"),
            message,
            Some(decl.span),
        ))
    };
    let imported = rt.import(&id).await.map_err(|e| failed(e.message))?;
    let found = rt
        .read(&imported)
        .await
        .map_err(|e| failed(e.message))?
        .ok_or_else(|| failed(format!("no object with id \"{id}\" exists")))?;
    // What was read is the plan's `before`: its secrets stay marked.
    let sensitive: Vec<String> = rt
        .schema()
        .attributes
        .iter()
        .filter(|(_, a)| a.sensitive)
        .map(|(name, _)| name.clone())
        .collect();
    Ok(Some((found.with_sensitive_attributes(&sensitive), id)))
}
