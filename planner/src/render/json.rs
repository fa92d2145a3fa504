//! The machine-readable plan. Field names are documented in the README, "Plan JSON".

use serde_json::{Map as JsonMap, Value as Json, json};

use super::module_tree::{module_address, provider_name, resource_head, root_module};
use super::state_json;
use crate::address::{InstanceAddr, InstanceKey, Mode};
use crate::plan::{Action, OutputChange, Plan, ResourceChange};
use crate::value::Value;

/// Terraform's plan JSON format version (what Terraform 1.11 writes).
pub(crate) const FORMAT_VERSION: &str = "1.2";

/// The Terraform release whose language and formats Dumcel follows; tools
/// that read Terraform plans check it.
pub(crate) const TERRAFORM_VERSION: &str = "1.11.4";

pub(crate) fn plan(plan: &Plan) -> Json {
    let summary = plan.summary();
    let mut root = JsonMap::new();
    root.insert("format_version".into(), json!(FORMAT_VERSION));
    root.insert("terraform_version".into(), json!(TERRAFORM_VERSION));
    root.insert("dumcel_version".into(), json!(plan.dumcel_version));
    root.insert("lineage".into(), json!(plan.lineage));
    root.insert("serial".into(), json!(plan.serial));
    root.insert("destroy".into(), json!(plan.destroy));
    root.insert(
        "variables".into(),
        Json::Object(
            plan.variables
                .iter()
                .map(|(k, v)| (k.clone(), json!({ "value": v })))
                .collect(),
        ),
    );
    root.insert("planned_values".into(), planned_values(plan));
    root.insert(
        "resource_drift".into(),
        Json::Array(plan.drift.iter().map(resource_change).collect()),
    );
    root.insert(
        "resource_changes".into(),
        Json::Array(plan.changes.iter().map(resource_change).collect()),
    );
    root.insert(
        "output_changes".into(),
        Json::Object(
            plan.outputs
                .iter()
                .map(|o| (o.name.clone(), output_change(o)))
                .collect(),
        ),
    );
    if let Some(state) = &plan.prior_state {
        root.insert("prior_state".into(), state_json::document(state));
    }
    if let Some(configuration) = &plan.configuration {
        root.insert("configuration".into(), configuration.clone());
        root.insert(
            "relevant_attributes".into(),
            Json::Array(relevant_attributes(configuration)),
        );
    }
    if let Some(timestamp) = &plan.timestamp {
        root.insert("timestamp".into(), json!(timestamp));
    }
    // An errored plan is never written: planning stops with the errors instead.
    root.insert("applyable".into(), json!(plan.has_changes()));
    root.insert("complete".into(), json!(!plan.targeted));
    root.insert("errored".into(), json!(false));
    root.insert(
        "summary".into(),
        json!({ "add": summary.add, "change": summary.change, "destroy": summary.destroy }),
    );
    root.insert("has_changes".into(), json!(plan.has_changes()));
    Json::Object(root)
}

/// What the state will hold once the plan is applied: every instance not
/// being deleted with its planned values (unknown ones left out, sensitive
/// ones null and marked in `sensitive_values`), and the root outputs.
fn planned_values(plan: &Plan) -> Json {
    let outputs: JsonMap<String, Json> = plan
        .outputs
        .iter()
        .filter(|o| o.action != Action::Delete)
        .map(|o| {
            let mut entry = JsonMap::new();
            entry.insert("sensitive".into(), json!(o.sensitive));
            // An unknown value is left out, as Terraform does; a sensitive one too.
            if let Some(v) = o.after.as_ref().filter(|v| v.is_wholly_known())
                && !o.sensitive
            {
                entry.insert("value".into(), data(v));
            }
            (o.name.clone(), Json::Object(entry))
        })
        .collect();
    let resources = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .filter_map(|c| {
            let after = c.after.as_ref()?;
            let mut entry = resource_head(&c.address, &c.resource_type, &c.provider);
            entry.insert("schema_version".into(), json!(0));
            entry.insert("values".into(), data(after));
            entry.insert(
                "sensitive_values".into(),
                state_json::object_tree(sensitive_tree(after)),
            );
            Some((c.address.clone(), Json::Object(entry)))
        })
        .collect();
    json!({ "outputs": outputs, "root_module": root_module(resources) })
}

/// Terraform's `relevant_attributes`: the resource attributes the
/// configuration refers to (`terraform_data.a.output`), which tools read to
/// tell which drift matters. Taken from the configuration's references, where
/// an attribute reference comes with the reference to its resource.
fn relevant_attributes(configuration: &Json) -> Vec<Json> {
    let mut out = Vec::new();
    collect_relevant(&configuration["root_module"], "", &mut out);
    let mut seen = std::collections::HashSet::new();
    out.retain(|entry| seen.insert(entry.to_string()));
    out
}

fn collect_relevant(module: &Json, prefix: &str, out: &mut Vec<Json>) {
    let mut lists = Vec::new();
    references_in(module.get("resources").unwrap_or(&Json::Null), &mut lists);
    references_in(module.get("outputs").unwrap_or(&Json::Null), &mut lists);
    if let Some(calls) = module.get("module_calls").and_then(Json::as_object) {
        for (name, call) in calls {
            references_in(call.get("expressions").unwrap_or(&Json::Null), &mut lists);
            if let Some(child) = call.get("module") {
                collect_relevant(child, &format!("{prefix}module.{name}."), out);
            }
        }
    }
    const NOT_RESOURCES: [&str; 7] = [
        "var.",
        "local.",
        "count.",
        "each.",
        "path.",
        "terraform.",
        "module.",
    ];
    for list in lists {
        for r in &list {
            if NOT_RESOURCES.iter().any(|p| r.starts_with(p)) {
                continue;
            }
            if let Some((resource, attribute)) = r.rsplit_once('.')
                && list.contains(&resource)
            {
                out.push(
                    json!({ "resource": format!("{prefix}{resource}"), "attribute": [attribute] }),
                );
            }
        }
    }
}

/// Every `references` list anywhere under `node` (expressions nest in blocks).
fn references_in<'a>(node: &'a Json, out: &mut Vec<Vec<&'a str>>) {
    match node {
        Json::Object(map) => {
            if let Some(Json::Array(refs)) = map.get("references") {
                out.push(refs.iter().filter_map(Json::as_str).collect());
            }
            for (key, v) in map {
                // A child module's own declarations are walked with its prefix.
                if key != "references" && key != "module_calls" {
                    references_in(v, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| references_in(i, out)),
        _ => {}
    }
}

fn resource_change(change: &ResourceChange) -> Json {
    let mut out = JsonMap::new();
    out.insert("address".into(), json!(change.address));
    let parsed = change.address.parse::<InstanceAddr>().ok();
    if let Some(module) = module_address(&change.address) {
        out.insert("module_address".into(), json!(module));
    }
    let (mode, name) = match &parsed {
        Some(addr) => (addr.resource.mode, addr.resource.name.clone()),
        None => (Mode::Managed, change.address.clone()),
    };
    out.insert(
        "mode".into(),
        json!(match mode {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }),
    );
    out.insert("type".into(), json!(change.resource_type));
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
    out.insert(
        "provider_name".into(),
        json!(provider_name(&change.provider)),
    );
    if let Some(reason) = &change.reason {
        out.insert("action_reason".into(), json!(reason));
    }
    out.insert("depends_on".into(), json!(change.depends_on));

    let mut body = JsonMap::new();
    body.insert("actions".into(), json!(change.action.json_actions()));
    body.insert("before".into(), option_data(change.before.as_ref()));
    body.insert("after".into(), option_data(change.after.as_ref()));
    body.insert(
        "after_unknown".into(),
        change
            .after
            .as_ref()
            .map_or(Json::Bool(false), unknown_tree),
    );
    body.insert(
        "before_sensitive".into(),
        change
            .before
            .as_ref()
            .map_or(Json::Bool(false), sensitive_tree),
    );
    body.insert(
        "after_sensitive".into(),
        change
            .after
            .as_ref()
            .map_or(Json::Bool(false), sensitive_tree),
    );
    body.insert(
        "replace_paths".into(),
        Json::Array(
            change
                .replace_because
                .iter()
                .map(|name| json!([name]))
                .collect(),
        ),
    );
    out.insert("change".into(), Json::Object(body));
    Json::Object(out)
}

fn output_change(change: &OutputChange) -> Json {
    let data = |v: Option<&Value>| {
        if change.sensitive {
            Json::Null
        } else {
            option_data(v)
        }
    };
    let sensitive = |v: Option<&Value>| {
        if change.sensitive {
            Json::Bool(true)
        } else {
            v.map_or(Json::Bool(false), sensitive_tree)
        }
    };
    let mut out = json!({
        "actions": change.action.json_actions(),
        "before": data(change.before.as_ref()),
        "after": data(change.after.as_ref()),
        "after_unknown": change.after.as_ref().map_or(Json::Bool(false), unknown_tree),
        "before_sensitive": sensitive(change.before.as_ref()),
        "after_sensitive": sensitive(change.after.as_ref()),
    });
    // Terraform leaves `after` out when the whole value is unknown.
    if matches!(
        change.after.as_ref().map(|v| v.unmark().0),
        Some(Value::Unknown)
    ) && let Some(obj) = out.as_object_mut()
    {
        obj.remove("after");
    }
    out
}

fn option_data(value: Option<&Value>) -> Json {
    value.map_or(Json::Null, data)
}

/// Known, non-sensitive data: sensitive values become null, unknown values
/// are left out of objects and null in lists.
pub(crate) fn data(value: &Value) -> Json {
    match value {
        Value::Sensitive(_) | Value::Unknown | Value::Null => Json::Null,
        Value::List(items) => Json::Array(items.iter().map(data).collect()),
        Value::Map(map) => Json::Object(
            map.iter()
                .filter(|(_, v)| !matches!(v, Value::Unknown))
                .map(|(k, v)| (k.clone(), data(v)))
                .collect(),
        ),
        scalar => scalar.to_json_lossy(),
    }
}

/// `true` where the value is unknown; objects keep only entries that are not
/// `false`; lists keep one entry per element; known scalars and null are `false`.
pub(crate) fn unknown_tree(value: &Value) -> Json {
    match value {
        Value::Unknown => Json::Bool(true),
        Value::Sensitive(inner) => unknown_tree(inner),
        Value::List(items) => Json::Array(items.iter().map(unknown_tree).collect()),
        Value::Map(map) => prune(map.iter().map(|(k, v)| (k, unknown_tree(v)))),
        _ => Json::Bool(false),
    }
}

/// `true` where the value is sensitive; shaped like [`unknown_tree`].
pub(crate) fn sensitive_tree(value: &Value) -> Json {
    match value {
        Value::Sensitive(_) => Json::Bool(true),
        Value::List(items) => Json::Array(items.iter().map(sensitive_tree).collect()),
        Value::Map(map) => prune(map.iter().map(|(k, v)| (k, sensitive_tree(v)))),
        _ => Json::Bool(false),
    }
}

fn prune<'k>(entries: impl Iterator<Item = (&'k String, Json)>) -> Json {
    Json::Object(
        entries
            .filter(|(_, v)| *v != Json::Bool(false))
            .map(|(k, v)| (k.clone(), v))
            .collect(),
    )
}
