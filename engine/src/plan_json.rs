//! What a plan carries for Terraform's plan JSON beyond its changes: the
//! `configuration` section (the stack's declarations, with each argument as a
//! constant or the references it makes) and the refreshed state that becomes
//! `prior_state`. Both are stored in the Plan, so `show -json PLANFILE` prints
//! them without the configuration at hand.
//!
//! No sensitive value is written: a sensitive variable's default and a
//! constant given to a sensitive attribute are left out, the expression kept
//! only as its references (none).

use hashbrown::HashMap;
use serde_json::{Map as JsonMap, Value as Json, json};

use dumcel_planner::{Schema, Value};
use dumcel_state::State;

use crate::config::ast::{Expr, ExprKind, ObjectKey, Step, TemplatePart};
use crate::config::{BodyDecl, Module};
use crate::stack::Stack;

/// Terraform's `configuration`: `{provider_config, root_module}`.
pub fn configuration(stack: &Stack) -> Json {
    let mut providers = JsonMap::new();
    let mut used: Vec<(String, String)> = Vec::new();
    for (prefix, node) in &stack.modules {
        for (key, decl) in &node.module.resources {
            let r = stack.provider_for(&format!("{prefix}{key}"), &decl.addr.resource_type);
            used.push((r.name.clone(), r.to_string()));
        }
    }
    used.sort();
    used.dedup();
    for (name, key) in used {
        let mut entry = JsonMap::new();
        entry.insert("name".into(), json!(name));
        entry.insert("full_name".into(), json!(full_name(stack, &name)));
        if let Some((_, alias)) = key.split_once('.') {
            entry.insert("alias".into(), json!(alias));
        }
        if let Some(decl) = stack.module.providers.get(&key) {
            let schema = stack.registry.provider(&name).map(|p| p.config_schema());
            entry.insert(
                "expressions".into(),
                body_expressions(&decl.body, schema.as_ref()),
            );
        }
        providers.insert(key, Json::Object(entry));
    }
    json!({
        "provider_config": providers,
        "root_module": module_json(stack, "", &stack.module),
    })
}

fn full_name(stack: &Stack, provider: &str) -> String {
    stack
        .registry
        .provider(provider)
        .map(|p| p.source())
        .unwrap_or_else(|| crate::provider::source_of(provider))
}

/// `{outputs, resources, module_calls, variables}`, each left out when empty.
fn module_json(stack: &Stack, prefix: &str, module: &Module) -> Json {
    let mut out = JsonMap::new();
    if !module.outputs.is_empty() {
        let outputs: JsonMap<String, Json> = module
            .outputs
            .iter()
            .map(|(name, o)| {
                let mut entry = JsonMap::new();
                if o.sensitive {
                    entry.insert("sensitive".into(), json!(true));
                }
                entry.insert("expression".into(), expression(&o.value, o.sensitive));
                if let Some(d) = &o.description {
                    entry.insert("description".into(), json!(d));
                }
                (name.clone(), Json::Object(entry))
            })
            .collect();
        out.insert("outputs".into(), Json::Object(outputs));
    }
    let resources: Vec<Json> = module
        .resources
        .iter()
        .map(|(key, decl)| {
            let type_name = &decl.addr.resource_type;
            let provider = stack.provider_for(&format!("{prefix}{key}"), type_name);
            let data = key.starts_with("data.");
            let schema = if data {
                stack.registry.data_source(type_name).map(|d| d.schema())
            } else {
                stack.registry.get(type_name).map(|t| t.schema())
            };
            let mut entry = JsonMap::new();
            entry.insert("address".into(), json!(key));
            entry.insert("mode".into(), json!(if data { "data" } else { "managed" }));
            entry.insert("type".into(), json!(type_name));
            entry.insert("name".into(), json!(decl.addr.name));
            entry.insert("provider_config_key".into(), json!(provider.to_string()));
            entry.insert("expressions".into(), body_expressions(&decl.body, schema));
            entry.insert("schema_version".into(), json!(0));
            if let Some(c) = &decl.count {
                entry.insert("count_expression".into(), expression(c, false));
            }
            if let Some(f) = &decl.for_each {
                entry.insert("for_each_expression".into(), expression(f, false));
            }
            if !decl.depends_on.is_empty() {
                let deps: Vec<String> = decl.depends_on.iter().map(reference_name).collect();
                entry.insert("depends_on".into(), json!(deps));
            }
            Json::Object(entry)
        })
        .collect();
    if !resources.is_empty() {
        out.insert("resources".into(), Json::Array(resources));
    }
    if !module.calls.is_empty() {
        let calls: JsonMap<String, Json> = module
            .calls
            .iter()
            .map(|(name, call)| {
                let child_prefix = format!("{prefix}module.{name}.");
                let mut entry = JsonMap::new();
                entry.insert("source".into(), json!(call.source));
                let inputs: JsonMap<String, Json> = call
                    .inputs
                    .iter()
                    .map(|(k, a)| {
                        let hide = call.child.variables.get(k).is_some_and(|v| v.sensitive);
                        (k.clone(), expression(&a.expr, hide))
                    })
                    .collect();
                entry.insert("expressions".into(), Json::Object(inputs));
                if let Some(c) = &call.count {
                    entry.insert("count_expression".into(), expression(c, false));
                }
                if let Some(f) = &call.for_each {
                    entry.insert("for_each_expression".into(), expression(f, false));
                }
                entry.insert(
                    "module".into(),
                    module_json(stack, &child_prefix, &call.child),
                );
                (name.clone(), Json::Object(entry))
            })
            .collect();
        out.insert("module_calls".into(), Json::Object(calls));
    }
    if !module.variables.is_empty() {
        let variables: JsonMap<String, Json> = module
            .variables
            .iter()
            .map(|(name, v)| {
                let mut entry = JsonMap::new();
                if !v.sensitive
                    && let Some(default) = v.default.as_ref().and_then(constant)
                {
                    entry.insert("default".into(), default);
                }
                if let Some(d) = &v.description {
                    entry.insert("description".into(), json!(d));
                }
                if v.sensitive {
                    entry.insert("sensitive".into(), json!(true));
                }
                (name.clone(), Json::Object(entry))
            })
            .collect();
        out.insert("variables".into(), Json::Object(variables));
    }
    Json::Object(out)
}

/// `{ATTR: <expression>, BLOCK: [{...}, ...]}`; `dynamic` blocks are left
/// out (their content depends on evaluation).
fn body_expressions(body: &BodyDecl, schema: Option<&Schema>) -> Json {
    let mut out = JsonMap::new();
    for (name, attr) in &body.attributes {
        // A constant is not written for an attribute the schema marks sensitive.
        let sensitive = schema.is_some_and(|s| s.is_sensitive(name));
        out.insert(name.clone(), expression(&attr.expr, sensitive));
    }
    let mut blocks: HashMap<&str, Vec<Json>> = HashMap::new();
    let mut order = Vec::new();
    for block in body.blocks.iter().filter(|b| b.dynamic.is_none()) {
        if !blocks.contains_key(block.name.as_str()) {
            order.push(block.name.as_str());
        }
        let nested = schema
            .and_then(|s| s.blocks.get(&block.name))
            .map(|b| &b.schema);
        blocks
            .entry(block.name.as_str())
            .or_default()
            .push(body_expressions(&block.body, nested));
    }
    for name in order {
        out.insert(
            name.to_owned(),
            Json::Array(blocks.remove(name).unwrap_or_default()),
        );
    }
    Json::Object(out)
}

/// `{"constant_value": V}` for an expression with no references that is a
/// constant, `{"references": [...]}` for one that makes references, `{}`
/// otherwise (as Terraform, which cannot evaluate function calls here).
/// `hide`: the value is sensitive, so a constant is not written.
fn expression(expr: &Expr, hide: bool) -> Json {
    let refs = references(expr);
    if !refs.is_empty() {
        return json!({ "references": refs });
    }
    match constant(expr) {
        Some(v) if !hide => json!({ "constant_value": v }),
        _ => json!({}),
    }
}

/// The value of an expression made only of literals.
fn constant(expr: &Expr) -> Option<Json> {
    match &expr.kind {
        ExprKind::Literal(v) => v.to_json(),
        ExprKind::Array(items) => items
            .iter()
            .map(constant)
            .collect::<Option<Vec<_>>>()
            .map(Json::Array),
        ExprKind::Object(items) => items
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    ObjectKey::Name(n) => n.clone(),
                    ObjectKey::Expr(e) => constant(e)?.as_str()?.to_owned(),
                };
                Some((key, constant(v)?))
            })
            .collect::<Option<JsonMap<_, _>>>()
            .map(Json::Object),
        ExprKind::Template(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    TemplatePart::Literal(l) => s.push_str(l),
                    _ => return None,
                }
            }
            Some(Json::String(s))
        }
        _ => None,
    }
}

fn reference_name(r: &crate::config::ast::Reference) -> String {
    let mut s = r.root.clone();
    for part in [&r.name, &r.data_name].into_iter().flatten() {
        s.push('.');
        s.push_str(part);
    }
    s
}

/// Terraform's reference strings, first use first, each once: for
/// `terraform_data.a.output` both `terraform_data.a.output` and
/// `terraform_data.a`; for `aws_instance.x[0].id` also `aws_instance.x`;
/// `var.name`, `count.index`, `module.m.out` and `module.m`.
pub fn references(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    expr.visit_traversals(&mut |root, steps, _| traversal(root, steps, &mut out));
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(r.clone()));
    out
}

/// The reference strings one use of `root` gives (`steps` empty for a
/// bare name).
fn traversal(root: &str, steps: &[Step], out: &mut Vec<String>) {
    let attr = |i: usize| match steps.get(i) {
        Some(Step::Attr(a, _)) => Some(a.as_str()),
        _ => None,
    };
    // How many steps name the object referred to, after the root.
    let named = match root {
        "self" => return,
        "var" | "local" | "count" | "each" | "path" | "terraform" => 1,
        "data" => 2,
        "module" => {
            // `module.m.out`: the output, then the call.
            match (attr(0), attr(1)) {
                (Some(m), Some(o)) => {
                    out.push(format!("module.{m}.{o}"));
                    out.push(format!("module.{m}"));
                }
                (Some(m), None) => out.push(format!("module.{m}")),
                _ => out.push("module".to_owned()),
            }
            return;
        }
        _ => 1,
    };
    let mut subject = root.to_owned();
    for i in 0..named {
        match attr(i) {
            Some(a) => {
                subject.push('.');
                subject.push_str(a);
            }
            None => {
                out.push(subject);
                return;
            }
        }
    }
    let is_resource = !matches!(
        root,
        "var" | "local" | "count" | "each" | "path" | "terraform"
    );
    let mut next = named;
    let container = subject.clone();
    // A constant instance key is part of a resource reference: `x[0]`, `x["a"]`.
    if is_resource
        && let Some(Step::Index(i)) = steps.get(next)
        && let Some(key) = constant(i)
    {
        match key {
            Json::String(s) => subject.push_str(&format!("[{}]", Json::String(s))),
            Json::Number(n) => subject.push_str(&format!("[{n}]")),
            _ => {}
        }
        next += 1;
    }
    if let Some(a) = attr(next) {
        out.push(format!("{subject}.{a}"));
    }
    out.push(subject.clone());
    if subject != container {
        out.push(container);
    }
}

/// The state the plan was made against as refresh found it: Terraform's
/// `prior_state`. Objects refresh found gone are left out.
pub fn refreshed_state(state: &State, current: &HashMap<String, Option<Value>>) -> State {
    let mut out = state.clone();
    out.pending.clear();
    for (address, now) in current {
        match now {
            Some(value) => {
                if let Some(inst) = out.resources.get_mut(address) {
                    inst.attributes = value.to_json_lossy();
                    // What state marked sensitive stays marked, whether or
                    // not the provider's read marks it again.
                    if let Value::Map(map) = value {
                        for (k, v) in map {
                            if matches!(v, Value::Sensitive(_))
                                && !inst.sensitive_attributes.contains(k)
                            {
                                inst.sensitive_attributes.push(k.clone());
                            }
                        }
                    }
                }
            }
            None => {
                out.resources.remove(address);
            }
        }
    }
    out
}
