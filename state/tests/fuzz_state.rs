//! Fuzz target `state`: state JSON from disk (hand-edited, damaged, or
//! written by another version) is loaded or refused, never a panic.
//! Run longer with `bench/fuzz.sh`; see `fuzz/harness.rs` for the knobs.

mod common;
#[path = "../../fuzz/harness.rs"]
mod harness;

use dumcel_state::{OutputValue, State};
use proptest::prelude::*;
use serde_json::json;

const TARGET: &str = "state";

/// Field names and values of the format, for the byte mutations.
const TOKENS: &[&str] = &[
    "\"version\"",
    "\"serial\"",
    "\"lineage\"",
    "\"dumcel_version\"",
    "\"outputs\"",
    "\"resources\"",
    "\"resource_type\"",
    "\"provider\"",
    "\"attributes\"",
    "\"sensitive_attributes\"",
    "\"dependencies\"",
    "\"tainted\"",
    "\"value\"",
    "\"sensitive\"",
    "1",
    "2",
    "4",
];

fn check(bytes: &[u8]) {
    if let Ok(state) = State::from_json(bytes) {
        // What loads is what `persist` writes back.
        let _ = state.to_json_pretty();
    }
}

#[test]
fn fuzz_state() {
    let dictionary = [harness::JSON_TOKENS, TOKENS].concat();
    let structured = prop_oneof![
        harness::mutated_json(harness::seed(TARGET, "valid.json")),
        harness::json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        harness::token_soup(dictionary.clone(), 0..64),
    ];
    harness::run(TARGET, dictionary, structured, check);
}

#[test]
fn the_valid_seed_loads() {
    State::from_json(&harness::seed(TARGET, "valid.json")).expect("valid.json is a state");
}

/// Rewrites the valid seed from the current code:
/// `DUMCEL_FUZZ_WRITE_SEEDS=1 cargo test -p dumcel-state --test fuzz_state`.
#[test]
fn write_seeds() {
    if std::env::var_os("DUMCEL_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    let mut state = common::state_with(3);
    state.serial = 4;
    state.outputs.insert(
        "ids".into(),
        OutputValue {
            value: json!(["0", "1", "2"]),
            sensitive: false,
        },
    );
    state.outputs.insert(
        "token".into(),
        OutputValue {
            value: json!("s3cr3t"),
            sensitive: true,
        },
    );
    if let Some(r) = state.resources.get_mut("null_resource.r[1]") {
        r.dependencies = vec!["null_resource.r[0]".into()];
        r.sensitive_attributes = vec!["triggers".into()];
        r.tainted = true;
    }
    let path = harness::corpus_dir(TARGET).join("valid.json");
    std::fs::write(&path, state.to_json_pretty()).expect("write the seed");
}
