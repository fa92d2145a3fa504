//! The State model: what dumcel believes exists, and its JSON form.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::StateError;
use crate::journal::InFlight;

/// The snapshot format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Always [`FORMAT_VERSION`] when written by this build.
    pub version: u32,
    /// Bumped by the caller each time content changes; lets a stale journal
    /// be told apart from a live one after a crash.
    pub serial: u64,
    /// uuid v4, fixed for the life of a state: a journal or snapshot with a
    /// different lineage belongs to another state and must never be merged.
    pub lineage: String,
    /// Version of the dumcel that wrote this state.
    pub dumcel_version: String,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputValue>,
    /// Keyed by instance address, e.g. `null_resource.a[0]`, `local_file.f["x"]`.
    /// Boxed: an instance is about 200 bytes, moved twice while the state is
    /// read (collected, then built into the tree) and on every split of a
    /// tree node; a box is 8 (bench/README.md, "Eighth pass").
    #[serde(default, deserialize_with = "crate::sorted_map::deserialize")]
    pub resources: BTreeMap<String, Box<ResourceInstance>>,
    /// Operations an interrupted command left in flight whose result could
    /// not be read back yet (the provider did not answer): the object may or
    /// may not exist. Every command that takes the lock tries again; `dumcel
    /// import` or `dumcel state rm` on the address settles one by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<InFlight>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputValue {
    pub value: serde_json::Value,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceInstance {
    /// e.g. `null_resource`.
    pub resource_type: String,
    /// The provider configuration, as Terraform records it:
    /// `provider["registry.terraform.io/hashicorp/aws"]`, with `.ALIAS`
    /// for an alias (older states hold a bare `aws`, which still loads).
    pub provider: String,
    /// Object of known attribute values.
    #[serde(deserialize_with = "crate::compact::deserialize")]
    pub attributes: serde_json::Value,
    /// Top-level attribute names marked sensitive.
    #[serde(default)]
    pub sensitive_attributes: Vec<String>,
    /// Addresses this instance depended on when created/updated; needed to
    /// order destroys once the configuration is gone.
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub tainted: bool,
}

impl State {
    /// An empty state: serial 0 and a fresh lineage.
    pub fn new() -> State {
        State {
            version: FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            dumcel_version: env!("CARGO_PKG_VERSION").to_string(),
            outputs: BTreeMap::new(),
            resources: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// Parse and validate state JSON (format version, non-empty lineage).
    /// Errors carry an empty path: no file is involved.
    pub fn from_json(bytes: &[u8]) -> Result<State, StateError> {
        State::from_json_at(bytes, Path::new(""))
    }

    /// Like [`State::from_json`], naming `path` in errors.
    pub(crate) fn from_json_at(bytes: &[u8], path: &Path) -> Result<State, StateError> {
        let corrupt = |detail: String| StateError::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let unsupported = |found: u64| StateError::UnsupportedVersion {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        };
        let state: State = match serde_json::from_slice(bytes) {
            Ok(state) => state,
            Err(err) => {
                // Another format version may be laid out differently; saying
                // "wrong version" is more useful than the field-level error.
                return Err(match probe_version(bytes) {
                    Some(found) if found != u64::from(FORMAT_VERSION) => unsupported(found),
                    _ => corrupt(err.to_string()),
                });
            }
        };
        if state.version != FORMAT_VERSION {
            return Err(unsupported(u64::from(state.version)));
        }
        if state.lineage.trim().is_empty() {
            return Err(corrupt("lineage is empty".to_string()));
        }
        Ok(state)
    }

    /// Pretty JSON with a trailing newline (diff- and editor-friendly).
    pub fn to_json_pretty(&self) -> Vec<u8> {
        // Cannot fail: every map is keyed by String, serde_json::Value always
        // serializes, and no field has a custom Serialize impl. A silent
        // fallback (e.g. empty bytes) would let `persist` clobber the state.
        #[allow(clippy::expect_used)]
        let mut out = serde_json::to_vec_pretty(self).expect("State always serializes to JSON");
        out.push(b'\n');
        out
    }
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

/// Read just `version` from a document that failed to parse as [`State`].
fn probe_version(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Probe {
        version: u64,
    }
    serde_json::from_slice::<Probe>(bytes)
        .ok()
        .map(|p| p.version)
}
