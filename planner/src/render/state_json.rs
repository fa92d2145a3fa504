//! The state in Terraform's JSON shape: `show -json` prints it whole, a plan's
//! `prior_state` carries the same document for the state it was made against.
//! Sensitive values are `null`, marked in `sensitive_values`.

use serde_json::{Map as JsonMap, Value as Json, json};

use dumcel_state::State;

use super::json::{TERRAFORM_VERSION, data, sensitive_tree};
use super::module_tree::{resource_head, root_module};
use crate::value::Value;

/// Terraform's state JSON format version.
const STATE_FORMAT_VERSION: &str = "1.0";

/// `{format_version, terraform_version, dumcel_version, serial, lineage, values}`.
pub(crate) fn document(state: &State) -> Json {
    let mut out = JsonMap::new();
    out.insert("format_version".into(), json!(STATE_FORMAT_VERSION));
    out.insert("terraform_version".into(), json!(TERRAFORM_VERSION));
    out.insert("dumcel_version".into(), json!(env!("CARGO_PKG_VERSION")));
    out.insert("serial".into(), json!(state.serial));
    out.insert("lineage".into(), json!(state.lineage));
    out.insert("values".into(), values(state));
    Json::Object(out)
}

/// `{outputs: {NAME: {sensitive, value}}, root_module: {resources, child_modules}}`.
pub(crate) fn values(state: &State) -> Json {
    let outputs: JsonMap<String, Json> = state
        .outputs
        .iter()
        .map(|(name, o)| {
            let value = if o.sensitive {
                Json::Null
            } else {
                o.value.clone()
            };
            (
                name.clone(),
                json!({ "sensitive": o.sensitive, "value": value }),
            )
        })
        .collect();
    let resources = state
        .resources
        .iter()
        .map(|(address, inst)| {
            let value = Value::from_json(&inst.attributes)
                .with_sensitive_attributes(&inst.sensitive_attributes);
            let mut entry = resource_head(address, &inst.resource_type, &inst.provider);
            entry.insert("schema_version".into(), json!(0));
            entry.insert("values".into(), data(&value));
            entry.insert(
                "sensitive_values".into(),
                object_tree(sensitive_tree(&value)),
            );
            entry.insert("depends_on".into(), json!(inst.dependencies));
            entry.insert("tainted".into(), json!(inst.tainted));
            (address.clone(), Json::Object(entry))
        })
        .collect();
    json!({ "outputs": outputs, "root_module": root_module(resources) })
}

/// A resource's `sensitive_values` is always an object: `{}` when nothing is.
pub(crate) fn object_tree(tree: Json) -> Json {
    match tree {
        Json::Object(_) => tree,
        _ => Json::Object(JsonMap::new()),
    }
}
