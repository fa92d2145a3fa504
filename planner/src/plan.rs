//! The Plan: every action with before/after values, the drift refresh found, and
//! the state (lineage, serial) it was made against, so a saved plan is refused
//! once the state has moved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::value::Value;
use crate::value_codec;

pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    /// Delete, then create (or the reverse with create_before_destroy).
    Replace,
    Delete,
}

impl Action {
    /// Terraform's `actions` list for JSON output.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::Replace => &["delete", "create"],
            Action::Delete => &["delete"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    pub resource_type: String,
    pub provider: String,
    pub action: Action,
    #[serde(with = "value_codec::option")]
    pub before: Option<Value>,
    #[serde(with = "value_codec::option")]
    pub after: Option<Value>,
    /// Attributes whose change forces replacement.
    #[serde(default)]
    pub replace_because: Vec<String>,
    /// Why, when it is not the configuration: "tainted", "no longer in configuration", ...
    #[serde(default)]
    pub reason: Option<String>,
    /// Instance addresses that must be applied first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Set when an `import` block brings an existing object under management:
    /// the id it was imported by. Applying records it, even with no change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<String>,
}

/// A `moved` block that applies to this state: the object keeps its identity
/// under a new address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    #[serde(with = "value_codec::option")]
    pub before: Option<Value>,
    #[serde(with = "value_codec::option")]
    pub after: Option<Value>,
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub dumcel_version: String,
    /// The state this plan was made against.
    pub lineage: String,
    pub serial: u64,
    pub destroy: bool,
    /// Hash of the configuration files, so a saved plan is refused after they change.
    pub config_hash: String,
    /// Non-sensitive input variables, as given at plan time.
    #[serde(default)]
    pub variables: BTreeMap<String, serde_json::Value>,
    /// Changes found by refresh, made outside Dumcel.
    #[serde(default)]
    pub drift: Vec<ResourceChange>,
    pub changes: Vec<ResourceChange>,
    #[serde(default)]
    pub outputs: Vec<OutputChange>,
    /// Addresses `moved` blocks change, recorded when the plan is applied.
    #[serde(default)]
    pub moved: Vec<Moved>,
    /// Instances `removed { lifecycle { destroy = false } }` blocks take out
    /// of the state without destroying them.
    #[serde(default)]
    pub forgotten: Vec<String>,
    /// The state the plan was made against, as refresh found it: the plan
    /// JSON's `prior_state`. `None` in plans made before it was recorded.
    #[serde(default)]
    pub prior_state: Option<dumcel_state::State>,
    /// The plan JSON's `configuration` section, made from the stack when
    /// planning (a saved plan is shown without the configuration at hand).
    #[serde(default)]
    pub configuration: Option<serde_json::Value>,
    /// When the plan was made: RFC 3339, UTC, whole seconds.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Made with `-target`: the plan JSON's `complete` is then false.
    #[serde(default)]
    pub targeted: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub import: usize,
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("not a dumcel plan file ({0}); make one with `dumcel plan -out=FILE`")]
    Malformed(String),
    #[error(
        "plan file format {found} is not supported by this dumcel (it reads format {PLAN_FORMAT_VERSION}); plan again with this version"
    )]
    UnsupportedVersion { found: u32 },
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            if c.importing.is_some() {
                s.import += 1;
            }
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1
                }
                Action::Delete => s.destroy += 1,
                Action::NoOp | Action::Read => {}
            }
        }
        s
    }

    /// True when applying would change resources or outputs.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoOp | Action::Read))
            || self.outputs.iter().any(|o| o.action != Action::NoOp)
            || self.changes.iter().any(|c| c.importing.is_some())
            || !self.moved.is_empty()
            || !self.forgotten.is_empty()
    }

    pub fn to_file_bytes(&self) -> Vec<u8> {
        // Serialising plain data into a Vec cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    pub fn from_file_bytes(bytes: &[u8]) -> Result<Plan, PlanFileError> {
        #[derive(Deserialize)]
        struct Header {
            format_version: u32,
        }
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| PlanFileError::Malformed(e.to_string()))?;
        if header.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanFileError::UnsupportedVersion {
                found: header.format_version,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| PlanFileError::Malformed(e.to_string()))
    }
}
