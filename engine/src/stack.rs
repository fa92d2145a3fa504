//! A loaded, validated stack: the configuration of the root module and every
//! module it calls, resolved root variables, and the dependency graph between
//! their blocks.
//!
//! Graph nodes are named by *static* keys: a module's path without instance
//! keys, then the block (`module.web.local.x`, `module.web.null_resource.a`,
//! `module.web` for the call itself). Values are kept per *module instance*
//! (`module.web["blue"].`), see [`Values`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};
use sha2::{Digest, Sha256};

use dumcel_planner::{DependencyGraph, InstanceKey, Map, Mode, ModuleStep, ResourceAddr, Value};

use crate::config::ast::Reference;
use crate::config::{
    Diagnostic, Diagnostics, Module, ModuleCallDecl, ResourceDecl, SourceMap, Span,
};
use crate::provider::{ProviderRef, Registry, ResourceType};

/// One module of the tree, at its static path.
pub struct ModuleNode {
    /// `""` for the root, `module.web.` for a module called `web` by the root.
    pub prefix: String,
    pub module: Arc<Module>,
    /// How the parent calls it (`None` for the root).
    pub call: Option<ModuleCallDecl>,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Var(String),
    Local(String),
    /// `TYPE.NAME` or `data.TYPE.NAME` within the module.
    Resource(String),
    Output(String),
    /// A call of a child module, by name.
    Call(String),
    /// A `provider` block, by its key (`aws`, `aws.use1`).
    Provider(String),
    /// A `check` block, by name: a node so its references are checked and
    /// resolved like any block's; evaluated once the walk is done.
    Check(String),
}

#[derive(Debug, Clone)]
pub struct Node {
    /// The static prefix of the module the node is in.
    pub prefix: String,
    pub kind: NodeKind,
    /// What the block's expressions refer to; empty for a resource, whose
    /// references are on its declaration ([`Stack::refs`] reads either).
    pub refs: Vec<Reference>,
    /// The block's position in its module's map of blocks of its kind
    /// (`Module::resources` for a resource): found there without hashing.
    pub index: usize,
    /// For a resource or data source: the root module's provider
    /// configuration it uses, through `provider =` and modules' `providers`
    /// (`None` when that is wrong, which validation reports).
    pub provider: Option<ProviderRef>,
    /// For a resource: the ids of the resources it depends on, directly or
    /// through locals, variables, outputs and module calls, ordered by key.
    pub resource_deps: Vec<usize>,
}

pub struct Stack {
    /// The root module, shared with `modules[""]`.
    pub module: Arc<Module>,
    /// Every module by static prefix; the root is `""`.
    pub modules: BTreeMap<String, ModuleNode>,
    pub sources: SourceMap,
    pub registry: Registry,
    /// The root module's variables.
    pub variables: Map,
    pub workspace: String,
    /// When set, file functions read only inside this directory. Set by whoever
    /// runs a stack it does not trust (the pipeline, for a branch), after
    /// [`Stack::new`]; `None` (as Terraform) otherwise.
    pub confine_files: Option<std::path::PathBuf>,
    /// Block ids (see [`Stack::key_of`]), dependencies first.
    order: Vec<usize>,
    /// Every block by id: its index in `graph`. Blocks are looked up by id
    /// on the walk, so a large stack is not a hash lookup by string key per
    /// block and question (one cache miss on the table, one on the key).
    /// `graph` may hold more nodes than this: a reference to a block that
    /// is not declared, which validation reports.
    nodes: Vec<Node>,
    graph: DependencyGraph<String>,
}

/// A block added to the graph whose references are not resolved yet.
struct Pending<'a> {
    id: usize,
    /// The static prefix of the module the block is in.
    prefix: &'a str,
    /// The static prefix of the module its references are resolved in.
    ns: &'a str,
    /// What its expressions refer to: kept on its node for its scope (a
    /// resource's stay on its declaration).
    refs: Cow<'a, [Reference]>,
    /// Its `depends_on`: edges in the graph, never values in its scope.
    depends_on: &'a [Reference],
    counted: bool,
    each: bool,
}

/// Where a block's references are resolved.
#[derive(Clone, Copy)]
enum RefsIn {
    /// The module the block is in.
    Own,
    /// The module that calls it: a module's variable is the call's argument.
    Caller,
}

/// One instance of a module: its path with instance keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModuleInstance {
    pub steps: Vec<ModuleStep>,
    /// `each.value` of the call that made this instance (for_each).
    pub each: Value,
}

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance::default()
    }

    /// `module.web["blue"].`: the prefix of this instance's addresses.
    pub fn prefix(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("module.{}{}.", s.name, s.key))
            .collect()
    }

    /// `module.web.`: the prefix of its module's static keys.
    pub fn static_prefix(&self) -> String {
        static_prefix(&self.steps)
    }

    /// The instance that called this one.
    pub fn parent(&self) -> ModuleInstance {
        ModuleInstance {
            steps: self.steps[..self.steps.len().saturating_sub(1)].to_vec(),
            each: Value::Null,
        }
    }

    /// The key of the call that made this instance.
    pub fn key(&self) -> InstanceKey {
        self.steps
            .last()
            .map(|s| s.key.clone())
            .unwrap_or(InstanceKey::None)
    }
}

pub fn static_prefix(steps: &[ModuleStep]) -> String {
    steps
        .iter()
        .map(|s| format!("module.{}.", s.name))
        .collect()
}

/// `module.web.null_resource.a` for `module.web["blue"].null_resource.a`.
pub fn static_key(addr: &ResourceAddr) -> String {
    // Pieces, not `format!`: the plan and the apply walk ask for every
    // instance's, and format arguments cost more than the copying.
    let mut key = static_prefix(&addr.module);
    let data = if addr.mode == Mode::Data { "data." } else { "" };
    key.reserve(data.len() + addr.resource_type.len() + 1 + addr.name.len());
    key.push_str(data);
    key.push_str(&addr.resource_type);
    key.push('.');
    key.push_str(&addr.name);
    key
}

/// Current values, by module instance.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// `{instance prefix}local.NAME`, `{instance prefix}var.NAME` (module
    /// inputs) and `{instance prefix}output.NAME` (module outputs).
    pub named: HashMap<String, Value>,
    /// `{instance prefix}TYPE.NAME`: its instances by key.
    pub instances: HashMap<String, dumcel_planner::SortedMap<InstanceKey, Value>>,
    /// Static module prefix: the instances of that module.
    pub modules: HashMap<String, Vec<ModuleInstance>>,
    /// Instance address: its `each.value`.
    pub each: HashMap<String, Value>,
    /// Instance addresses planned for creation whose configuration was
    /// wholly known while planning: evaluating it again while applying
    /// gives the same object, so the apply takes the planned one.
    pub known_creates: HashSet<String>,
}

impl Values {
    /// The instances of the module at `static_prefix`.
    pub fn module_instances(&self, static_prefix: &str) -> Vec<ModuleInstance> {
        if static_prefix.is_empty() {
            return vec![ModuleInstance::root()];
        }
        self.modules.get(static_prefix).cloned().unwrap_or_default()
    }

    /// The module instance with these steps, with its `each` value.
    pub fn module_instance(&self, steps: &[ModuleStep]) -> ModuleInstance {
        self.modules
            .get(&static_prefix(steps))
            .and_then(|all| all.iter().find(|m| m.steps == steps))
            .cloned()
            .unwrap_or_else(|| ModuleInstance {
                steps: steps.to_vec(),
                each: Value::Null,
            })
    }
}

impl Stack {
    /// Validates references and module calls, and builds the graph.
    pub fn new(
        module: impl Into<Arc<Module>>,
        sources: SourceMap,
        mut registry: Registry,
        variables: Map,
        workspace: &str,
    ) -> Result<Stack, Diagnostics> {
        let module = module.into();
        let mut modules = BTreeMap::new();
        flatten(&module, String::new(), None, None, &mut modules);

        let mut diags = Diagnostics::new();
        let available = available_sources(&registry);
        for node in modules.values() {
            if let Some((c, span)) = &node.module.required_version
                && let Some(d) = crate::config::requirements::check_version(c, *span)
            {
                diags.push(d);
            }
            for required in &node.module.required_providers {
                if let Some(d) = crate::config::requirements::check_provider(required, &available) {
                    diags.push(d);
                }
            }
        }
        let blocks = modules.values().map(|n| block_count(&n.module)).sum();
        let mut graph = DependencyGraph::with_capacity(blocks);
        let mut nodes: Vec<Node> = Vec::with_capacity(blocks);
        // Every node with its references, resolved once all nodes are known.
        let mut pending: Vec<Pending> = Vec::with_capacity(blocks);

        for (p, node) in &modules {
            let m = &node.module;
            let mut add = |key: String,
                           (kind, index): (NodeKind, usize),
                           provider: Option<ProviderRef>,
                           refs,
                           depends_on,
                           refs_in: RefsIn,
                           counted: bool,
                           each: bool| {
                let ns = match refs_in {
                    RefsIn::Own => p.as_str(),
                    RefsIn::Caller => node.parent.as_deref().unwrap_or_default(),
                };
                let id = graph.add_node(key);
                let node = Node {
                    prefix: p.clone(),
                    kind,
                    refs: Vec::new(),
                    index,
                    provider,
                    resource_deps: Vec::new(),
                };
                // Keys are unique, so a block is new; a repeat would replace it.
                match nodes.get_mut(id) {
                    Some(old) => *old = node,
                    None => nodes.push(node),
                }
                pending.push(Pending {
                    id,
                    prefix: p,
                    ns,
                    refs,
                    depends_on,
                    counted,
                    each,
                });
            };
            for (i, name) in m.variables.keys().enumerate() {
                // A child's variable is its caller's argument, evaluated where the call is.
                let (r, refs_in, counted, each) = match &node.call {
                    Some(call) => (
                        call.inputs
                            .get(name)
                            .map(|a| a.expr.references())
                            .unwrap_or_default(),
                        RefsIn::Caller,
                        call.count.is_some(),
                        call.for_each.is_some(),
                    ),
                    None => (Vec::new(), RefsIn::Own, false, false),
                };
                add(
                    format!("{p}var.{name}"),
                    (NodeKind::Var(name.clone()), i),
                    None,
                    Cow::Owned(r),
                    &[],
                    refs_in,
                    counted,
                    each,
                );
            }
            for (i, (name, local)) in m.locals.iter().enumerate() {
                add(
                    format!("{p}local.{name}"),
                    (NodeKind::Local(name.clone()), i),
                    None,
                    Cow::Owned(local.expr.references()),
                    &[],
                    RefsIn::Own,
                    false,
                    false,
                );
            }
            for (i, (key, decl)) in m.resources.iter().enumerate() {
                check_type(&registry, decl, &mut diags);
                add(
                    format!("{p}{key}"),
                    (NodeKind::Resource(key.clone()), i),
                    resource_provider(&modules, &registry, p, key, decl, &mut diags),
                    Cow::Borrowed(&decl.references),
                    &decl.depends_on,
                    RefsIn::Own,
                    decl.count.is_some(),
                    decl.for_each.is_some(),
                );
            }
            for (i, (name, out)) in m.outputs.iter().enumerate() {
                add(
                    format!("{p}output.{name}"),
                    (NodeKind::Output(name.clone()), i),
                    None,
                    Cow::Owned(out.value.references()),
                    &out.depends_on,
                    RefsIn::Own,
                    false,
                    false,
                );
            }
            for (i, (name, check)) in m.checks.iter().enumerate() {
                let r = check
                    .asserts
                    .iter()
                    .flat_map(|a| [&a.condition, &a.error_message])
                    .flat_map(|e| e.references())
                    .collect();
                add(
                    format!("{p}check.{name}"),
                    (NodeKind::Check(name.clone()), i),
                    None,
                    Cow::Owned(r),
                    &[],
                    RefsIn::Own,
                    false,
                    false,
                );
            }
            for (i, (name, call)) in m.calls.iter().enumerate() {
                check_call(call, &mut diags);
                let r = call
                    .count
                    .iter()
                    .chain(call.for_each.iter())
                    .flat_map(|e| e.references())
                    .collect();
                add(
                    format!("{p}module.{name}"),
                    (NodeKind::Call(name.clone()), i),
                    None,
                    Cow::Owned(r),
                    &call.depends_on,
                    RefsIn::Own,
                    false,
                    false,
                );
            }
            if p.is_empty() {
                for (i, (name, decl)) in m.providers.iter().enumerate() {
                    if registry.provider(&decl.name).is_none() {
                        diags.push(Diagnostic::error(
                            format!("Unknown provider \"{}\"", decl.name),
                            format!(
                                "This dumcel has no provider named \"{}\"; built in: {}.",
                                decl.name,
                                registry.providers().join(", ")
                            ),
                            Some(decl.span),
                        ));
                    } else if let Some(alias) = &decl.alias
                        && let Err(e) = registry.add_alias(&decl.name, alias)
                    {
                        diags.push(Diagnostic::error(
                            format!("Cannot configure provider \"{name}\""),
                            e,
                            Some(decl.span),
                        ));
                    }
                    let mut r = Vec::new();
                    decl.body.collect_refs(&[], &mut r);
                    add(
                        format!("provider.{name}"),
                        (NodeKind::Provider(name.clone()), i),
                        None,
                        Cow::Owned(r),
                        &[],
                        RefsIn::Own,
                        false,
                        false,
                    );
                }
            }
        }

        for Pending {
            id,
            prefix,
            ns,
            refs: node_refs,
            depends_on,
            counted,
            each,
        } in pending
        {
            if let Some(node) = modules.get(ns) {
                for r in node_refs.iter().chain(depends_on) {
                    let targets = Targets {
                        module: &node.module,
                        prefix: ns,
                        counted,
                        for_each: each,
                    };
                    for target in targets.of(r, &mut graph, &nodes, &mut diags) {
                        if target == id {
                            diags.push(Diagnostic::error(
                                "Self-referential block",
                                format!(
                                    "{} refers to itself; a block cannot depend on its own values.",
                                    graph.node_at(id)
                                ),
                                Some(r.span),
                            ));
                        } else {
                            graph.add_dependency_at(id, target);
                        }
                    }
                }
            }
            // Everything inside a module waits for the call that makes its instances.
            if let Some(call_key) = modules
                .get(prefix)
                .and_then(|m| m.parent.as_ref().zip(m.call.as_ref()))
                .map(|(parent, call)| format!("{parent}module.{}", call.name))
            {
                let call = graph.add_node(call_key);
                graph.add_dependency_at(id, call);
            }
            if let (Cow::Owned(refs), Some(node)) = (node_refs, nodes.get_mut(id)) {
                node.refs = refs;
            }
        }
        check_provider_passes(&modules, &mut diags);
        for imp in &module.imports {
            let resource = imp
                .to
                .parse::<dumcel_planner::InstanceAddr>()
                .map(|a| static_key(&a.resource))
                .unwrap_or_default();
            if graph
                .position(resource.as_str())
                .is_none_or(|id| id >= nodes.len())
            {
                diags.push(Diagnostic::error(
                    format!("Import target {} is not in configuration", imp.to),
                    format!("Declare resource {resource} before importing into it; import only adopts objects the configuration describes."),
                    Some(imp.span),
                ));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let order = match graph.order_indices() {
            Ok(o) => o,
            Err(cycle) => {
                let span = cycle
                    .members
                    .first()
                    .and_then(|m| decl_span(&modules, &graph, &nodes, m));
                return Err(Diagnostic::error(
                    format!("Dependency cycle: {}", cycle.members.join(" -> ")),
                    format!(
                        "These blocks depend on each other in a loop ({}); break it by removing one of the references or depends_on entries.",
                        cycle.members.join(", ")
                    ),
                    span,
                )
                .into());
            }
        };

        let mut stack = Stack {
            module,
            modules,
            sources,
            registry,
            variables,
            workspace: workspace.to_owned(),
            confine_files: None,
            order,
            nodes,
            graph,
        };
        let deps = stack.compute_resource_deps();
        for (node, deps) in stack.nodes.iter_mut().zip(deps) {
            node.resource_deps = deps;
        }
        Ok(stack)
    }

    /// Every block's id, dependencies first.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// How many ids there are: they run from 0 up to this, one for every
    /// graph node (a block, or a reference to one nothing declares).
    pub fn id_count(&self) -> usize {
        self.graph.len()
    }

    /// The static key of the block with id `id`.
    ///
    /// # Panics
    /// If `id` is not a block id of this stack (from [`Stack::order`] or
    /// [`Stack::dependency_ids`]).
    pub fn key_of(&self, id: usize) -> &str {
        self.graph.node_at(id)
    }

    /// The block with id `id`; `None` for a graph node nothing declares.
    pub fn node_at(&self, id: usize) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The ids of the blocks the block with id `id` refers to directly.
    pub fn dependency_ids(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph.dependencies_at(id)
    }

    /// Per block id: the resources a resource depends on, through whatever
    /// lies between, ordered by key (none for other blocks).
    fn compute_resource_deps(&self) -> Vec<Vec<usize>> {
        let is_resource = |id: usize| {
            self.nodes
                .get(id)
                .is_some_and(|n| matches!(n.kind, NodeKind::Resource(_)))
        };
        let mut out = vec![Vec::new(); self.nodes.len()];
        // The resource whose walk last reached each block: one array for
        // every walk instead of a set per resource.
        let mut seen_by = vec![usize::MAX; self.graph.len()];
        for id in (0..self.nodes.len()).filter(|&id| is_resource(id)) {
            let mut todo: Vec<usize> = self.dependency_ids(id).collect();
            let mut deps = Vec::new();
            while let Some(dep) = todo.pop() {
                if std::mem::replace(&mut seen_by[dep], id) == id {
                    continue;
                }
                if is_resource(dep) {
                    deps.push(dep);
                } else {
                    todo.extend(self.dependency_ids(dep));
                }
            }
            deps.sort_by_key(|&d| self.key_of(d));
            out[id] = deps;
        }
        out
    }

    /// The static keys of the resources the one at `static_key` depends on,
    /// directly or through locals, variables, outputs and module calls.
    pub fn resource_deps(&self, static_key: &str) -> Vec<String> {
        self.node(static_key)
            .map(|n| self.keys_of(&n.resource_deps))
            .unwrap_or_default()
    }

    /// The static keys of the blocks with these ids.
    pub fn keys_of(&self, ids: &[usize]) -> Vec<String> {
        ids.iter().map(|&id| self.key_of(id).to_owned()).collect()
    }

    /// The id of every resource and data source.
    pub fn resource_ids(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&id| matches!(self.nodes[id].kind, NodeKind::Resource(_)))
    }

    pub fn node(&self, key: &str) -> Option<&Node> {
        self.nodes.get(self.graph.position(key)?)
    }

    /// What the block at `key` refers to.
    pub fn refs(&self, key: &str) -> &[Reference] {
        let Some(node) = self.node(key) else {
            return &[];
        };
        match self.decl_of(node) {
            Some(decl) => &decl.references,
            None => &node.refs,
        }
    }

    /// The declaration behind a static resource key.
    pub fn resource(&self, static_key: &str) -> Option<&ResourceDecl> {
        self.decl_of(self.node(static_key)?)
    }

    fn decl_of(&self, node: &Node) -> Option<&ResourceDecl> {
        let NodeKind::Resource(_) = &node.kind else {
            return None;
        };
        let (_, decl) = self
            .modules
            .get(&node.prefix)?
            .module
            .resources
            .get_index(node.index)?;
        Some(decl)
    }

    /// Every resource and data source declaration, with its static key.
    /// The root provider configurations the resources and data sources use.
    pub fn providers_in_use(&self) -> impl Iterator<Item = &ProviderRef> {
        self.nodes.iter().filter_map(|n| n.provider.as_ref())
    }

    pub fn resources(&self) -> impl Iterator<Item = (String, &ResourceDecl)> {
        self.modules.values().flat_map(|m| {
            m.module
                .resources
                .iter()
                .map(move |(k, d)| (format!("{}{k}", m.prefix), &**d))
        })
    }

    /// The provider configuration the resource or data source at
    /// `static_key` uses (its type's provider's default one when unknown).
    pub fn provider_for(&self, static_key: &str, type_name: &str) -> ProviderRef {
        self.provider_of(self.node(static_key), type_name)
    }

    /// [`Stack::provider_for`] the block `node`, already looked up.
    pub fn provider_of(&self, node: Option<&Node>, type_name: &str) -> ProviderRef {
        node.and_then(|n| n.provider.clone()).unwrap_or_else(|| {
            ProviderRef::default_of(self.registry.provider_of(type_name).unwrap_or("builtin"))
        })
    }

    /// The resource type of the managed resource at `static_key`, from the
    /// provider configuration it uses.
    pub fn resource_type_for(
        &self,
        static_key: &str,
        type_name: &str,
    ) -> Option<&std::sync::Arc<dyn ResourceType>> {
        self.registry
            .resource_type(&self.provider_for(static_key, type_name), type_name)
    }

    /// The data source at `static_key`, from the provider configuration it uses.
    pub fn data_source_for(
        &self,
        static_key: &str,
        type_name: &str,
    ) -> Option<&std::sync::Arc<dyn crate::provider::DataSource>> {
        self.registry
            .data_source_of(&self.provider_for(static_key, type_name), type_name)
    }

    /// What state records as the provider of the resource at `static_key`.
    pub fn recorded_provider(&self, static_key: &str, type_name: &str) -> String {
        self.registry
            .recorded(&self.provider_for(static_key, type_name))
    }

    pub fn dot(&self) -> String {
        self.graph.to_dot()
    }

    /// SHA-256 over the names and text of the configuration files.
    pub fn config_hash(&self) -> String {
        let mut h = Sha256::new();
        for f in self.sources.files() {
            if f.name.ends_with(".vars.hcl") || f.name.ends_with(".tfvars") {
                continue;
            }
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }
}

fn flatten(
    module: &Arc<Module>,
    prefix: String,
    call: Option<ModuleCallDecl>,
    parent: Option<String>,
    out: &mut BTreeMap<String, ModuleNode>,
) {
    for (name, c) in &module.calls {
        flatten(
            &c.child,
            format!("{prefix}module.{name}."),
            Some(c.clone()),
            Some(prefix.clone()),
            out,
        );
    }
    out.insert(
        prefix.clone(),
        ModuleNode {
            prefix,
            module: module.clone(),
            call,
            parent,
        },
    );
}

/// What each module call passes as a provider must exist where the call is.
fn check_provider_passes(modules: &BTreeMap<String, ModuleNode>, diags: &mut Diagnostics) {
    for (prefix, node) in modules {
        for call in node.module.calls.values() {
            for pass in &call.providers {
                if let Err(detail) = resolve_provider(modules, prefix, &pass.parent) {
                    diags.push(Diagnostic::error(
                        format!("Provider configuration not present: {}", pass.parent),
                        format!(
                            "module \"{}\" is passed {} for its {}, but {detail}",
                            call.name, pass.parent, pass.child
                        ),
                        Some(pass.span),
                    ));
                }
            }
        }
    }
}

/// The root configuration the resource or data source `decl` (at `key` in
/// the module at `prefix`) uses. A reference to an alias no block declares,
/// or one a module call does not pass, is an error at the reference.
fn resource_provider(
    modules: &BTreeMap<String, ModuleNode>,
    registry: &Registry,
    prefix: &str,
    key: &str,
    decl: &ResourceDecl,
    diags: &mut Diagnostics,
) -> Option<ProviderRef> {
    // check_type reports an unknown type.
    let offering = registry.provider_of(&decl.addr.resource_type)?;
    let local = match &decl.provider {
        Some(u) => u.provider.clone(),
        None => ProviderRef::default_of(offering),
    };
    let span = decl.provider.as_ref().map(|u| u.span).unwrap_or(decl.span);
    if local.name != offering {
        diags.push(Diagnostic::error(
            format!("Invalid provider for {prefix}{key}"),
            format!(
                "{} is a type of provider \"{offering}\", so it takes provider = {offering} or provider = {offering}.ALIAS, not {local}.",
                decl.addr.resource_type
            ),
            Some(span),
        ));
        return None;
    }
    resolve_provider(modules, prefix, &local)
        .map_err(|detail| {
            diags.push(Diagnostic::error(
                format!("Provider configuration not present: {local}"),
                format!("{prefix}{key} uses provider = {local}, but {detail}"),
                Some(span),
            ))
        })
        .ok()
}

/// The root module's configuration that `local`, as written in the module
/// at `prefix`, stands for; `Err` says what is missing and what to write.
fn resolve_provider(
    modules: &BTreeMap<String, ModuleNode>,
    prefix: &str,
    local: &ProviderRef,
) -> Result<ProviderRef, String> {
    let Some(node) = modules.get(prefix) else {
        return Ok(local.clone());
    };
    let (Some(call), Some(parent)) = (&node.call, &node.parent) else {
        // The root: an alias needs its block; the default exists anyway.
        return match &local.alias {
            Some(alias) if !node.module.providers.contains_key(&local.to_string()) => Err(format!(
                "no provider \"{}\" block has alias = \"{alias}\". Declare it in the root module: provider \"{}\" {{ alias = \"{alias}\" ... }}",
                local.name, local.name
            )),
            _ => Ok(local.clone()),
        };
    };
    if let Some(pass) = call.providers.iter().find(|p| &p.child == local) {
        return resolve_provider(modules, parent, &pass.parent);
    }
    match &local.alias {
        // Aliases are never inherited (as in Terraform): the call names them.
        Some(_) => Err(format!(
            "module \"{}\" is not passed a configuration for it. Add providers = {{ {local} = {}.ALIAS }} to the module \"{}\" block",
            call.name, local.name, call.name
        )),
        None => resolve_provider(modules, parent, local),
    }
}

fn check_type(registry: &Registry, decl: &ResourceDecl, diags: &mut Diagnostics) {
    let is_data = decl.addr.mode == Mode::Data;
    let found = if is_data {
        registry.data_source(&decl.addr.resource_type).is_some()
    } else {
        registry.get(&decl.addr.resource_type).is_some()
    };
    if found {
        return;
    }
    let known = if is_data {
        registry.data_source_names()
    } else {
        registry.type_names()
    };
    diags.push(Diagnostic::error(
        format!(
            "Unknown {} type \"{}\"",
            if is_data { "data source" } else { "resource" },
            decl.addr.resource_type
        ),
        match crate::eval::suggest(&decl.addr.resource_type, &known) {
            Some(s) => format!("No provider offers this type. Did you mean \"{s}\"?"),
            None => format!(
                "No provider offers this type. Available: {}.",
                known.join(", ")
            ),
        },
        Some(decl.span),
    ));
}

/// A call's arguments must be the child's variables, and every variable
/// without a default must be given.
fn check_call(call: &ModuleCallDecl, diags: &mut Diagnostics) {
    let child = &call.child;
    for (name, input) in &call.inputs {
        if !child.variables.contains_key(name) {
            let known: Vec<&str> = child.variables.keys().map(String::as_str).collect();
            diags.push(Diagnostic::error(
                format!(
                    "Unsupported argument \"{name}\" for module \"{}\"",
                    call.name
                ),
                match crate::eval::suggest(name, &known) {
                    Some(s) => format!(
                        "The module at {} declares no variable \"{name}\". Did you mean \"{s}\"?",
                        call.source
                    ),
                    None => format!(
                        "The module at {} declares no variable \"{name}\"; it takes: {}.",
                        call.source,
                        known.join(", ")
                    ),
                },
                Some(input.span),
            ));
        }
    }
    for (name, v) in &child.variables {
        if v.default.is_none() && !call.inputs.contains_key(name) {
            diags.push(Diagnostic::error(
                format!("Missing required argument \"{name}\" for module \"{}\"", call.name),
                format!("The module at {} needs a value for its variable \"{name}\"; add `{name} = ...` to the module block.", call.source),
                Some(call.span),
            ));
        }
    }
}

/// The static keys a reference points at (in the module at `prefix`), or a
/// diagnostic when it points nowhere.
/// Where a block's references are resolved: the module, and whether the
/// block has `count` or `for_each`.
struct Targets<'a> {
    module: &'a Module,
    prefix: &'a str,
    counted: bool,
    for_each: bool,
}

impl Targets<'_> {
    /// The graph ids of the blocks `r` names; none, with a diagnostic, when it
    /// names nothing declared.
    fn of(
        &self,
        r: &Reference,
        graph: &mut DependencyGraph<String>,
        nodes: &[Node],
        diags: &mut Diagnostics,
    ) -> Vec<usize> {
        let Targets {
            module,
            prefix,
            counted,
            for_each,
        } = *self;
        // A declared resource's key is a graph node already: found there, it
        // costs one hash lookup instead of the module's and then the graph's.
        let resource = |graph: &DependencyGraph<String>, key: &str| {
            graph
                .position(format!("{prefix}{key}").as_str())
                .filter(|&id| {
                    nodes
                        .get(id)
                        .is_some_and(|n| matches!(n.kind, NodeKind::Resource(_)))
                })
        };
        let name = r.name.clone().unwrap_or_default();
        let mut fail = |summary: String, detail: String| {
            diags.push(Diagnostic::error(summary, detail, Some(r.span)));
            Vec::new()
        };
        match r.root.as_str() {
        "var" if module.variables.contains_key(&name) => vec![graph.add_node(format!("{prefix}var.{name}"))],
        "var" => fail(
            format!("Reference to undeclared input variable \"{name}\""),
            format!("No variable \"{name}\" is declared in this module; declare it with variable \"{name}\" {{}} or fix the name."),
        ),
        "local" if module.locals.contains_key(&name) => vec![graph.add_node(format!("{prefix}local.{name}"))],
        "local" => fail(
            format!("Reference to undeclared local value \"{name}\""),
            format!("No local value \"{name}\" is declared; add it to a locals block or fix the name."),
        ),
        "count" if counted && name == "index" => Vec::new(),
        "count" => fail(
            "Reference to \"count\" in a non-counted context".into(),
            "count.index can only be used inside a resource or module that sets count.".into(),
        ),
        "each" if for_each && (name == "key" || name == "value") => Vec::new(),
        "each" => fail(
            "Reference to \"each\" in a context without for_each".into(),
            "each.key and each.value can only be used inside a resource or module that sets for_each.".into(),
        ),
        "path" | "terraform" | "dumcel" => Vec::new(),
        "data" => {
            let key = format!("data.{name}.{}", r.data_name.clone().unwrap_or_default());
            if let Some(id) = resource(graph, &key) {
                return vec![id];
            }
            fail(
                format!("Reference to undeclared data source \"{key}\""),
                format!("No {key} is declared here; declare it with data \"{name}\" \"NAME\" {{ ... }} or fix the reference."),
            )
        }
        "module" => {
            let Some(call) = module.calls.get(&name) else {
                let known: Vec<&str> = module.calls.keys().map(String::as_str).collect();
                return fail(
                    format!("Reference to undeclared module \"{name}\""),
                    match crate::eval::suggest(&name, &known) {
                        Some(s) => format!("No module \"{name}\" is called here. Did you mean \"{s}\"?"),
                        None => format!("No module \"{name}\" is called here; add a module \"{name}\" {{ source = ... }} block."),
                    },
                );
            };
            let child = format!("{prefix}module.{name}.");
            match &r.data_name {
                Some(output) if call.child.outputs.contains_key(output) => vec![graph.add_node(format!("{child}output.{output}"))],
                Some(output) => fail(
                    format!("Unsupported attribute \"{output}\" of module \"{name}\""),
                    format!(
                        "The module at {} has no output \"{output}\"; it has: {}.",
                        call.source,
                        call.child.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
                None => call.child.outputs.keys().map(|o| format!("{child}output.{o}")).chain([format!("{prefix}module.{name}")]).map(|k| graph.add_node(k)).collect(),
            }
        }
        "self" => fail(
            "\"self\" is only available in postconditions".into(),
            "Refer to the resource by its address here.".into(),
        ),
        rtype => {
            if r.name.is_none() {
                return fail(
                    format!("Unknown name \"{rtype}\""),
                    "References look like var.NAME, local.NAME, module.NAME.OUTPUT or TYPE.NAME.ATTRIBUTE.".into(),
                );
            }
            let key = format!("{rtype}.{name}");
            if let Some(id) = resource(graph, &key) {
                return vec![id];
            }
            let declared: Vec<&str> = module.resources.keys().map(String::as_str).collect();
            fail(
                format!("Reference to undeclared resource \"{key}\""),
                match crate::eval::suggest(&key, &declared) {
                    Some(s) => format!("No resource \"{key}\" is declared in this module. Did you mean \"{s}\"?"),
                    None => format!("No resource \"{key}\" is declared in this module; declare it or fix the reference."),
                },
            )
        }
    }
    }
}

/// How many graph nodes a module's blocks make (its provider blocks aside).
fn block_count(m: &Module) -> usize {
    m.variables.len()
        + m.locals.len()
        + m.resources.len()
        + m.outputs.len()
        + m.checks.len()
        + m.calls.len()
}

fn decl_span(
    modules: &BTreeMap<String, ModuleNode>,
    graph: &DependencyGraph<String>,
    nodes: &[Node],
    key: &str,
) -> Option<Span> {
    let node = nodes.get(graph.position(key)?)?;
    let m = &modules.get(&node.prefix)?.module;
    match &node.kind {
        NodeKind::Local(n) => m.locals.get(n).map(|l| l.span),
        NodeKind::Output(n) => m.outputs.get(n).map(|o| o.span),
        NodeKind::Resource(k) => m.resources.get(k).map(|r| r.span),
        NodeKind::Var(n) => m.variables.get(n).map(|v| v.span),
        NodeKind::Call(n) => m.calls.get(n).map(|c| c.span),
        NodeKind::Provider(n) => m.providers.get(n).map(|p| p.span),
        NodeKind::Check(n) => m.checks.get(n).map(|c| c.span),
    }
}

/// The provider sources a stack may require: each provider's, and those the
/// built-in types stand in for.
fn available_sources(registry: &Registry) -> Vec<String> {
    let mut out: Vec<String> = registry
        .providers()
        .into_iter()
        .filter_map(|name| registry.provider(name))
        .map(|p| crate::config::requirements::normalize_source(&p.source()))
        .collect();
    out.extend(
        crate::config::requirements::BUILTIN_SOURCES
            .iter()
            .map(|s| s.to_string()),
    );
    out
}
