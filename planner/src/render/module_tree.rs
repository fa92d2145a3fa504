//! Terraform's `root_module` / `child_modules` nesting, shared by the state
//! (`show -json`, a plan's `prior_state`) and a plan's `planned_values`.

use indexmap::IndexMap;
use serde_json::{Map as JsonMap, Value as Json, json};

use crate::address::{InstanceAddr, InstanceKey, Mode};

/// `terraform.io/builtin/terraform` from what state records
/// (`provider["terraform.io/builtin/terraform"]`, `.ALIAS` after it); any
/// other form (an older bare `aws`) as it is. Terraform's JSON names the
/// provider by its source.
pub(crate) fn provider_name(recorded: &str) -> String {
    recorded
        .strip_prefix("provider[\"")
        .and_then(|rest| rest.split_once("\"]"))
        .map_or_else(|| recorded.to_owned(), |(source, _)| source.to_owned())
}

/// The fields every resource entry starts with, in Terraform's order:
/// address, mode, type, name, index (when there is one), provider_name.
pub(crate) fn resource_head(
    address: &str,
    resource_type: &str,
    provider: &str,
) -> JsonMap<String, Json> {
    let parsed = address.parse::<InstanceAddr>().ok();
    let mut out = JsonMap::new();
    out.insert("address".into(), json!(address));
    let (mode, name) = match &parsed {
        Some(a) => (a.resource.mode, a.resource.name.clone()),
        None => (Mode::Managed, address.to_owned()),
    };
    out.insert(
        "mode".into(),
        json!(if mode == Mode::Data {
            "data"
        } else {
            "managed"
        }),
    );
    out.insert("type".into(), json!(resource_type));
    out.insert("name".into(), json!(name));
    match parsed.as_ref().map(|a| &a.key) {
        Some(InstanceKey::Int(i)) => {
            out.insert("index".into(), json!(i));
        }
        Some(InstanceKey::Str(s)) => {
            out.insert("index".into(), json!(s));
        }
        _ => {}
    }
    out.insert("provider_name".into(), json!(provider_name(provider)));
    out
}

/// `module.a.module.b["x"]` for an instance in that module; `None` at the root.
pub(crate) fn module_address(address: &str) -> Option<String> {
    let parsed = address.parse::<InstanceAddr>().ok()?;
    if parsed.resource.module.is_empty() {
        return None;
    }
    Some(
        parsed
            .resource
            .module
            .iter()
            .map(|step| format!("module.{}{}", step.name, step.key))
            .collect::<Vec<_>>()
            .join("."),
    )
}

#[derive(Default)]
struct Node {
    resources: Vec<Json>,
    children: IndexMap<String, Node>,
}

/// Nests resource entries (keyed by instance address) by module:
/// `{resources, child_modules: [{address, resources, child_modules}]}`, each
/// list left out when empty, as Terraform does.
pub(crate) fn root_module(entries: Vec<(String, Json)>) -> Json {
    let mut root = Node::default();
    for (address, entry) in entries {
        let steps = address
            .parse::<InstanceAddr>()
            .map(|a| a.resource.module)
            .unwrap_or_default();
        let mut node = &mut root;
        let mut path = String::new();
        for step in &steps {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&format!("module.{}{}", step.name, step.key));
            node = node.children.entry(path.clone()).or_default();
        }
        node.resources.push(entry);
    }
    node_json(root, None)
}

fn node_json(node: Node, address: Option<String>) -> Json {
    let mut out = JsonMap::new();
    if let Some(a) = address {
        out.insert("address".into(), json!(a));
    }
    if !node.resources.is_empty() {
        out.insert("resources".into(), Json::Array(node.resources));
    }
    if !node.children.is_empty() {
        out.insert(
            "child_modules".into(),
            Json::Array(
                node.children
                    .into_iter()
                    .map(|(a, n)| node_json(n, Some(a)))
                    .collect(),
            ),
        );
    }
    Json::Object(out)
}
