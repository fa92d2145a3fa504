//! A loaded, validated stack: configuration, resolved variables, the
//! dependency graph between its blocks, and how to build the scope an
//! expression is evaluated in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use dumcel_planner::{DependencyGraph, InstanceKey, Map, Value};

use crate::config::ast::{Expr, Reference};
use crate::config::{Diagnostic, Diagnostics, Module, ResourceDecl, SourceMap, Span};
use crate::eval::{Scope, eval};
use crate::provider::Registry;

pub struct Stack {
    pub module: Module,
    pub sources: SourceMap,
    pub registry: Registry,
    pub variables: Map,
    pub workspace: String,
    /// Block keys (`var.x`, `local.x`, `TYPE.NAME`, `output.x`) dependencies first.
    pub order: Vec<String>,
    /// Per resource key: the resource keys it depends on, directly or through locals.
    pub resource_deps: HashMap<String, Vec<String>>,
    /// Per block key: the references its expressions make.
    refs: HashMap<String, Vec<Reference>>,
    graph: DependencyGraph<String>,
}

/// Current values of resource instances, by resource key then instance key.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub locals: HashMap<String, Value>,
    pub instances: HashMap<String, BTreeMap<InstanceKey, Value>>,
}

impl Stack {
    /// Validates references and builds the graph. `module.dir` is the stack directory.
    pub fn new(
        module: Module,
        sources: SourceMap,
        registry: Registry,
        variables: Map,
        workspace: &str,
    ) -> Result<Stack, Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut graph = DependencyGraph::new();
        let mut refs: HashMap<String, Vec<Reference>> = HashMap::new();

        for name in module.variables.keys() {
            graph.add_node(format!("var.{name}"));
        }
        for (name, local) in &module.locals {
            let key = format!("local.{name}");
            graph.add_node(key.clone());
            refs.insert(key, local.expr.references());
        }
        for (key, decl) in &module.resources {
            graph.add_node(key.clone());
            let is_data = decl.addr.mode == dumcel_planner::Mode::Data;
            let found = if is_data {
                registry.data_source(&decl.addr.resource_type).is_some()
            } else {
                registry.get(&decl.addr.resource_type).is_some()
            };
            if !found {
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
            let mut r: Vec<Reference> = decl.references();
            r.extend(decl.depends_on.iter().cloned());
            refs.insert(key.clone(), r);
        }
        for (name, p) in &module.providers {
            if registry.provider(name).is_none() {
                diags.push(Diagnostic::error(
                    format!("Unknown provider \"{name}\""),
                    format!(
                        "This dumcel has no provider named \"{name}\"; built in: {}.",
                        registry.providers().join(", ")
                    ),
                    Some(p.span),
                ));
            }
            let mut r = Vec::new();
            p.body.collect_refs(&[], &mut r);
            let key = format!("provider.{name}");
            graph.add_node(key.clone());
            refs.insert(key, r);
        }
        for (name, out) in &module.outputs {
            let key = format!("output.{name}");
            graph.add_node(key.clone());
            let mut r = out.value.references();
            r.extend(out.depends_on.iter().cloned());
            refs.insert(key, r);
        }

        for (key, rs) in &refs {
            let decl = module.resources.get(key);
            for r in rs {
                match target_of(r, &module, decl, &mut diags) {
                    Some(target) if &target == key => diags.push(Diagnostic::error(
                        "Self-referential block",
                        format!("{key} refers to itself; a block cannot depend on its own values."),
                        Some(r.span),
                    )),
                    Some(target) => graph.add_dependency(key, &target),
                    None => {}
                }
            }
        }
        for imp in &module.imports {
            let resource = imp
                .to
                .parse::<dumcel_planner::InstanceAddr>()
                .map(|a| a.resource.to_string())
                .unwrap_or_default();
            if !module.resources.contains_key(&resource) {
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
        let order = match graph.order() {
            Ok(o) => o,
            Err(cycle) => {
                let span = cycle.members.first().and_then(|m| decl_span(&module, m));
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
            sources,
            registry,
            variables,
            workspace: workspace.to_owned(),
            order,
            resource_deps: HashMap::new(),
            refs,
            graph,
        };
        stack.resource_deps = stack.compute_resource_deps();
        Ok(stack)
    }

    /// Transitive resource dependencies of every resource, through locals.
    fn compute_resource_deps(&self) -> HashMap<String, Vec<String>> {
        let mut out = HashMap::new();
        for key in self.module.resources.keys() {
            let mut seen = HashSet::new();
            let mut stack: Vec<String> =
                self.graph.dependencies(key).into_iter().cloned().collect();
            let mut deps = Vec::new();
            while let Some(node) = stack.pop() {
                if !seen.insert(node.clone()) {
                    continue;
                }
                if self.module.resources.contains_key(&node) {
                    deps.push(node);
                } else if node.starts_with("local.") {
                    stack.extend(self.graph.dependencies(&node).into_iter().cloned());
                }
            }
            deps.sort();
            out.insert(key.clone(), deps);
        }
        out
    }

    pub fn refs(&self, key: &str) -> &[Reference] {
        self.refs.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn dot(&self) -> String {
        self.graph.to_dot()
    }

    /// SHA-256 over the names and text of the configuration files.
    pub fn config_hash(&self) -> String {
        let mut h = Sha256::new();
        for f in self.sources.files() {
            if f.name.ends_with(".vars.hcl") {
                continue;
            }
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// The scope for an expression of block `key`, with the values it references.
    /// `fresh_locals` re-evaluates locals from current values (during apply,
    /// when what was unknown at plan time has become known).
    pub fn scope_for(
        &self,
        refs: &[Reference],
        values: &Values,
        instance: Option<(&InstanceKey, &Value)>,
        fresh_locals: bool,
    ) -> Result<Scope, Diagnostics> {
        let mut scope = Scope::new(&self.module.dir);
        for r in refs {
            let name = r.name.as_deref().unwrap_or("");
            match r.root.as_str() {
                "var" => {
                    if let Some(v) = self.variables.get(name) {
                        scope.set_attr("var", name, v.clone());
                    }
                }
                "local" => {
                    let v = if fresh_locals {
                        self.eval_local(name, values, 0)?
                    } else {
                        values.locals.get(name).cloned().unwrap_or(Value::Unknown)
                    };
                    scope.set_attr("local", name, v);
                }
                "count" => {
                    if let Some((InstanceKey::Int(i), _)) = instance {
                        scope.set_attr("count", "index", Value::Number(*i as f64));
                    }
                }
                "each" => {
                    if let Some((InstanceKey::Str(k), v)) = instance {
                        scope.set_attr("each", "key", Value::string(k.clone()));
                        scope.set_attr("each", "value", v.clone());
                    }
                }
                "path" => {
                    let dir = self.module.dir.display().to_string();
                    let cwd = std::env::current_dir()
                        .unwrap_or_else(|_| PathBuf::from("."))
                        .display()
                        .to_string();
                    scope.set_attr("path", "module", Value::string(dir.clone()));
                    scope.set_attr("path", "root", Value::string(dir));
                    scope.set_attr("path", "cwd", Value::string(cwd));
                }
                "terraform" | "dumcel" => {
                    scope.set_attr(&r.root, "workspace", Value::string(self.workspace.clone()))
                }
                "data" => {
                    let data_name = r.data_name.as_deref().unwrap_or("");
                    if let Some(decl) = self
                        .module
                        .resources
                        .get(&format!("data.{name}.{data_name}"))
                    {
                        scope.set_attr2("data", name, data_name, self.resource_value(decl, values));
                    }
                }
                rtype => {
                    let key = format!("{rtype}.{name}");
                    if let Some(decl) = self.module.resources.get(&key) {
                        scope.set_attr(rtype, name, self.resource_value(decl, values));
                    }
                }
            }
        }
        Ok(scope)
    }

    fn eval_local(&self, name: &str, values: &Values, depth: usize) -> Result<Value, Diagnostics> {
        let Some(local) = self.module.locals.get(name) else {
            return Ok(Value::Unknown);
        };
        if depth > 64 {
            return Err(Diagnostic::error(
                "Locals nest too deeply",
                "More than 64 locals refer to each other in a chain.",
                Some(local.span),
            )
            .into());
        }
        let refs = self.refs(&format!("local.{name}"));
        let mut scope = Scope::new(&self.module.dir);
        // Evaluate referenced locals first, then the rest of the scope.
        let others: Vec<Reference> = refs.iter().filter(|r| r.root != "local").cloned().collect();
        let base = self.scope_for(&others, values, None, false)?;
        scope.roots = base.roots;
        for r in refs.iter().filter(|r| r.root == "local") {
            let n = r.name.as_deref().unwrap_or("");
            let v = self.eval_local(n, values, depth + 1)?;
            scope.set_attr("local", n, v);
        }
        eval(&local.expr, &scope).map_err(|e| Diagnostics::from(Diagnostic::from(e)))
    }

    /// The value a reference to a resource sees: an object, a list (count) or a map (for_each).
    pub fn resource_value(&self, decl: &ResourceDecl, values: &Values) -> Value {
        let instances = values.instances.get(&decl.key());
        if decl.count.is_some() {
            Value::List(
                instances
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default(),
            )
        } else if decl.for_each.is_some() {
            Value::Map(
                instances
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| match k {
                                InstanceKey::Str(s) => Some((s.clone(), v.clone())),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        } else {
            instances
                .and_then(|m| m.get(&InstanceKey::None).cloned())
                .unwrap_or(Value::Unknown)
        }
    }

    /// Evaluates `expr` of block `key` with current values.
    pub fn eval_in(
        &self,
        key: &str,
        expr: &Expr,
        values: &Values,
        instance: Option<(&InstanceKey, &Value)>,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        let scope = self.scope_for(self.refs(key), values, instance, fresh)?;
        eval(expr, &scope).map_err(|e| Diagnostics::from(Diagnostic::from(e)))
    }
}

/// The block key a reference points at, or a diagnostic when it points nowhere.
fn target_of(
    r: &Reference,
    module: &Module,
    decl: Option<&ResourceDecl>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let name = r.name.clone().unwrap_or_default();
    match r.root.as_str() {
        "var" => {
            if module.variables.contains_key(&name) {
                return Some(format!("var.{name}"));
            }
            diags.push(Diagnostic::error(
                format!("Reference to undeclared input variable \"{name}\""),
                format!("No variable \"{name}\" is declared in this stack; declare it with variable \"{name}\" {{}} or fix the name."),
                Some(r.span),
            ));
            None
        }
        "local" => {
            if module.locals.contains_key(&name) {
                return Some(format!("local.{name}"));
            }
            diags.push(Diagnostic::error(
                format!("Reference to undeclared local value \"{name}\""),
                format!("No local value \"{name}\" is declared; add it to a locals block or fix the name."),
                Some(r.span),
            ));
            None
        }
        "count" => {
            if decl.is_none_or(|d| d.count.is_none()) || name != "index" {
                diags.push(Diagnostic::error(
                    "Reference to \"count\" in a non-counted context",
                    "count.index can only be used inside a resource that sets count.",
                    Some(r.span),
                ));
            }
            None
        }
        "each" => {
            if decl.is_none_or(|d| d.for_each.is_none()) || !(name == "key" || name == "value") {
                diags.push(Diagnostic::error(
                    "Reference to \"each\" in a context without for_each",
                    "each.key and each.value can only be used inside a resource that sets for_each.",
                    Some(r.span),
                ));
            }
            None
        }
        "path" | "terraform" | "dumcel" => None,
        "data" => {
            let key = format!("data.{name}.{}", r.data_name.clone().unwrap_or_default());
            if module.resources.contains_key(&key) {
                return Some(key);
            }
            diags.push(Diagnostic::error(
                format!("Reference to undeclared data source \"{key}\""),
                format!("No {key} is declared in this stack; declare it with data \"{name}\" \"NAME\" {{ ... }} or fix the reference."),
                Some(r.span),
            ));
            None
        }
        "module" | "self" => {
            diags.push(Diagnostic::error(
                format!("\"{}\" references are not supported yet", r.root),
                "Modules are not built yet; reference resources, data sources, variables and locals.",
                Some(r.span),
            ));
            None
        }
        rtype => {
            if r.name.is_none() {
                diags.push(Diagnostic::error(
                    format!("Unknown name \"{rtype}\""),
                    "References look like var.NAME, local.NAME or TYPE.NAME.ATTRIBUTE.",
                    Some(r.span),
                ));
                return None;
            }
            let key = format!("{rtype}.{name}");
            if module.resources.contains_key(&key) {
                return Some(key);
            }
            let declared: Vec<&str> = module.resources.keys().map(String::as_str).collect();
            diags.push(Diagnostic::error(
                format!("Reference to undeclared resource \"{key}\""),
                match crate::eval::suggest(&key, &declared) {
                    Some(s) => format!("No resource \"{key}\" is declared in this stack. Did you mean \"{s}\"?"),
                    None => format!("No resource \"{key}\" is declared in this stack; declare it or fix the reference."),
                },
                Some(r.span),
            ));
            None
        }
    }
}

fn decl_span(module: &Module, key: &str) -> Option<Span> {
    if let Some(name) = key.strip_prefix("local.") {
        return module.locals.get(name).map(|l| l.span);
    }
    if let Some(name) = key.strip_prefix("output.") {
        return module.outputs.get(name).map(|o| o.span);
    }
    module.resources.get(key).map(|r| r.span)
}
