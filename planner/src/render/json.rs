//! The machine-readable plan. Field names are documented in the README, "Plan JSON".

use serde_json::{Map as JsonMap, Value as Json, json};

use crate::address::{InstanceAddr, InstanceKey, Mode};
use crate::plan::{OutputChange, Plan, ResourceChange};
use crate::value::Value;

pub(crate) const FORMAT_VERSION: &str = "1.0";

pub(crate) fn plan(plan: &Plan) -> Json {
    let summary = plan.summary();
    let mut root = JsonMap::new();
    root.insert("format_version".into(), json!(FORMAT_VERSION));
    root.insert("dumcel_version".into(), json!(plan.dumcel_version));
    root.insert("lineage".into(), json!(plan.lineage));
    root.insert("serial".into(), json!(plan.serial));
    root.insert("destroy".into(), json!(plan.destroy));
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
    root.insert(
        "summary".into(),
        json!({ "add": summary.add, "change": summary.change, "destroy": summary.destroy }),
    );
    root.insert("has_changes".into(), json!(plan.has_changes()));
    Json::Object(root)
}

fn resource_change(change: &ResourceChange) -> Json {
    let mut out = JsonMap::new();
    out.insert("address".into(), json!(change.address));
    let parsed = change.address.parse::<InstanceAddr>().ok();
    if let Some(addr) = &parsed
        && !addr.resource.module.is_empty()
    {
        let module = addr
            .resource
            .module
            .iter()
            .map(|step| format!("module.{}{}", step.name, step.key))
            .collect::<Vec<_>>()
            .join(".");
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
    out.insert("provider_name".into(), json!(change.provider));
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
    json!({
        "actions": change.action.json_actions(),
        "before": data(change.before.as_ref()),
        "after": data(change.after.as_ref()),
        "after_unknown": change.after.as_ref().map_or(Json::Bool(false), unknown_tree),
        "before_sensitive": sensitive(change.before.as_ref()),
        "after_sensitive": sensitive(change.after.as_ref()),
    })
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
