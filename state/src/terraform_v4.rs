//! Terraform's state format (version 4), read so a team can hand its
//! Terraform state to dumcel: every instance keeps its attributes,
//! sensitive marks, dependencies and tainted status under the address
//! Terraform gave it, so the next plan of the unchanged configuration is
//! empty.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{OutputValue, ResourceInstance, State};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TerraformStateError {
    #[error("not a Terraform state: {0}")]
    NotJson(String),
    #[error(
        "Terraform state version {0} is not supported: only version 4 (Terraform 0.12 and later) is; run `terraform state pull` with a newer Terraform first"
    )]
    Version(u64),
    #[error(
        "the state holds resource types dumcel does not have: {0}; remove them from the Terraform state first (`terraform state rm`), or keep this stack on Terraform"
    )]
    UnknownTypes(String),
    #[error("{address}: {detail}")]
    Instance { address: String, detail: String },
}

#[derive(Deserialize)]
struct V4 {
    version: u64,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    outputs: BTreeMap<String, V4Output>,
    #[serde(default)]
    resources: Vec<V4Resource>,
}

#[derive(Deserialize)]
struct V4Output {
    value: serde_json::Value,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
struct V4Resource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    provider: String,
    #[serde(default)]
    instances: Vec<V4Instance>,
}

#[derive(Deserialize)]
struct V4Instance {
    #[serde(default)]
    index_key: Option<serde_json::Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    deposed: Option<String>,
    #[serde(default)]
    attributes: Option<serde_json::Value>,
    /// Paths such as `[[{"type": "get_attr", "value": "password"}]]`.
    #[serde(default)]
    sensitive_attributes: Vec<serde_json::Value>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// Converts a Terraform v4 state. `provider_for(type, terraform_provider)`
/// says how dumcel records the provider of a type it has (`None`: dumcel
/// does not have the type).
pub fn from_terraform(
    bytes: &[u8],
    provider_for: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<State, TerraformStateError> {
    let probe: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| TerraformStateError::NotJson(e.to_string()))?;
    match probe.get("version").and_then(serde_json::Value::as_u64) {
        Some(4) => {}
        Some(other) => return Err(TerraformStateError::Version(other)),
        None => {
            return Err(TerraformStateError::NotJson(
                "it has no \"version\" field".into(),
            ));
        }
    }
    let v4: V4 =
        serde_json::from_value(probe).map_err(|e| TerraformStateError::NotJson(e.to_string()))?;
    debug_assert_eq!(v4.version, 4);

    let mut state = State::new();
    if !v4.lineage.trim().is_empty() {
        state.lineage = v4.lineage.clone();
    }
    state.serial = v4.serial;
    state.outputs = v4
        .outputs
        .into_iter()
        .map(|(name, o)| {
            (
                name,
                OutputValue {
                    value: o.value,
                    sensitive: o.sensitive,
                },
            )
        })
        .collect();

    let mut unknown: Vec<String> = Vec::new();
    // Data sources are read again by every plan; Terraform keeps their last
    // result, dumcel does not.
    for r in v4.resources.iter().filter(|r| r.mode != "data") {
        let Some(provider) = provider_for(&r.kind, &r.provider) else {
            if !unknown.contains(&r.kind) {
                unknown.push(r.kind.clone());
            }
            continue;
        };
        let base = resource_address(r);
        for inst in &r.instances {
            let mut address = format!("{base}{}", index_suffix(inst.index_key.as_ref()));
            let Some(attributes) = inst.attributes.clone() else {
                return Err(TerraformStateError::Instance {
                    address,
                    detail: "its attributes are in the old flat format (attributes_flat); refresh it with a Terraform of 0.12 or later first".into(),
                });
            };
            if inst.deposed.is_some() {
                address.push_str(" (deposed)");
            }
            let mut sensitive: Vec<String> = inst
                .sensitive_attributes
                .iter()
                .filter_map(top_level_name)
                .collect();
            sensitive.sort();
            sensitive.dedup();
            state.resources.insert(
                address,
                Box::new(ResourceInstance {
                    resource_type: r.kind.clone(),
                    provider: provider.clone(),
                    attributes,
                    sensitive_attributes: sensitive,
                    dependencies: inst.dependencies.clone(),
                    tainted: inst.status.as_deref() == Some("tainted"),
                }),
            );
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(TerraformStateError::UnknownTypes(unknown.join(", ")));
    }
    Ok(state)
}

/// `module.a["x"].TYPE.NAME`, as dumcel and Terraform write it.
fn resource_address(r: &V4Resource) -> String {
    let mut out = String::new();
    if let Some(m) = r.module.as_deref().filter(|m| !m.is_empty()) {
        out.push_str(m);
        out.push('.');
    }
    out.push_str(&r.kind);
    out.push('.');
    out.push_str(&r.name);
    out
}

fn index_suffix(key: Option<&serde_json::Value>) -> String {
    match key {
        Some(serde_json::Value::Number(n)) => format!("[{n}]"),
        Some(serde_json::Value::String(s)) => {
            format!("[{}]", serde_json::Value::String(s.clone()))
        }
        _ => String::new(),
    }
}

/// The attribute a sensitive path starts at: dumcel marks whole attributes.
fn top_level_name(path: &serde_json::Value) -> Option<String> {
    let first = path.as_array()?.first()?;
    (first.get("type")?.as_str()? == "get_attr")
        .then(|| first.get("value")?.as_str().map(str::to_owned))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(kind: &str, _: &str) -> Option<String> {
        (kind != "google_thing")
            .then(|| "provider[\"registry.terraform.io/hashicorp/null\"]".into())
    }

    #[test]
    fn addresses_marks_and_status_come_across() {
        let text = r#"{
          "version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "abc",
          "outputs": { "pw": { "value": "x", "type": "string", "sensitive": true } },
          "resources": [
            { "module": "module.m[\"a\"]", "mode": "managed", "type": "null_resource", "name": "n",
              "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
              "instances": [
                { "index_key": 0, "schema_version": 0, "status": "tainted",
                  "attributes": { "id": "1", "triggers": { "a": "b" } },
                  "sensitive_attributes": [[{ "type": "get_attr", "value": "triggers" }]],
                  "dependencies": ["module.m[\"a\"].null_resource.base"] },
                { "index_key": 1, "schema_version": 0, "deposed": "00ab",
                  "attributes": { "id": "2", "triggers": null } }
              ] },
            { "mode": "data", "type": "local_file", "name": "f",
              "provider": "provider[\"registry.terraform.io/hashicorp/local\"]",
              "instances": [ { "index_key": "k", "attributes": { "id": "x" } } ] }
          ]
        }"#;
        let s = from_terraform(text.as_bytes(), &known).unwrap();
        assert_eq!((s.serial, s.lineage.as_str()), (7, "abc"));
        assert!(s.outputs["pw"].sensitive);
        let a = &s.resources["module.m[\"a\"].null_resource.n[0]"];
        assert!(a.tainted);
        assert_eq!(a.sensitive_attributes, ["triggers"]);
        assert_eq!(a.dependencies, ["module.m[\"a\"].null_resource.base"]);
        assert!(
            s.resources
                .contains_key("module.m[\"a\"].null_resource.n[1] (deposed)")
        );
        assert_eq!(
            s.resources.len(),
            2,
            "data sources are read again, not kept"
        );
    }

    #[test]
    fn what_cannot_come_across_is_named() {
        let other = r#"{"version": 3, "serial": 1}"#;
        assert_eq!(
            from_terraform(other.as_bytes(), &known),
            Err(TerraformStateError::Version(3))
        );
        let foreign = r#"{"version": 4, "lineage": "l", "resources": [
          {"mode": "managed", "type": "google_thing", "name": "x", "provider": "p", "instances": []}]}"#;
        assert_eq!(
            from_terraform(foreign.as_bytes(), &known),
            Err(TerraformStateError::UnknownTypes("google_thing".into()))
        );
        assert!(matches!(
            from_terraform(b"{", &known),
            Err(TerraformStateError::NotJson(_))
        ));
    }
}
