//! Shared fixtures for the integration tests: real files in temp dirs.

#![allow(dead_code)] // each test binary uses a different subset

use std::time::Duration;

use dumcel_state::{LocalBackend, ResourceInstance, State};
use serde_json::json;

/// A backend on `dumcel.tfstate` inside a fresh temp dir (kept alive by the
/// returned guard).
pub fn backend() -> (tempfile::TempDir, LocalBackend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = LocalBackend::new(dir.path().join("dumcel.tfstate"));
    (dir, backend)
}

pub fn instance(id: &str) -> ResourceInstance {
    ResourceInstance {
        resource_type: "null_resource".into(),
        provider: "builtin".into(),
        attributes: json!({ "id": id, "triggers": { "k": "v" } }),
        sensitive_attributes: vec![],
        dependencies: vec![],
        tainted: false,
    }
}

/// A state with `n` resources `null_resource.r[i]`.
pub fn state_with(n: usize) -> State {
    let mut state = State::new();
    for i in 0..n {
        state.resources.insert(
            format!("null_resource.r[{i}]"),
            instance(&i.to_string()).into(),
        );
    }
    state
}

pub const NO_WAIT: Duration = Duration::ZERO;
