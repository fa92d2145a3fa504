//! Fuzz target `tfjson`: a `*.tf.json` file comes from a branch the pipeline
//! builds, so loading it must end in a module or diagnostics with positions,
//! never a panic (as the `hcl` target checks for `main.hcl`).
//! Run longer with `bench/fuzz.sh`; see `fuzz/harness.rs` for the knobs.

#[path = "../../fuzz/harness.rs"]
mod harness;

use std::path::Path;

use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\"resource\"",
    "\"data\"",
    "\"variable\"",
    "\"locals\"",
    "\"output\"",
    "\"module\"",
    "\"moved\"",
    "\"check\"",
    "\"terraform\"",
    "\"terraform_data\"",
    "\"null_resource\"",
    "\"a\"",
    "\"//\"",
    "\"count\"",
    "\"for_each\"",
    "\"depends_on\"",
    "\"lifecycle\"",
    "\"dynamic\"",
    "\"type\"",
    "\"default\"",
    "\"value\"",
    "\"source\"",
    "\"./m\"",
    "\"${var.x}\"",
    "\"$${x}\"",
    "\"%{ if true }a%{ endif }\"",
    "\"${\"",
    "\\\"",
    "\\u0041",
    "\\/",
    "null",
    "true",
    "1e400",
    "-0",
    "\"list(string)\"",
];

fn load_json(dir: &Path, bytes: &[u8]) {
    std::fs::write(dir.join("main.tf.json"), bytes).expect("write the stack");
    let mut sources = SourceMap::default();
    if let Err(diagnostics) = load_module(dir, &mut sources) {
        let _ = diagnostics.render_plain(&sources);
        for d in &diagnostics.0 {
            if let Some(span) = d.span {
                let _ = sources.snippet(span);
            }
        }
    }
}

#[test]
fn fuzz_tfjson() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path().join("stack");
    std::fs::create_dir(&dir).expect("stack dir");
    harness::run(
        "tfjson",
        JSON_TOKENS.to_vec(),
        harness::token_soup(JSON_TOKENS.to_vec(), 0..96),
        |bytes| load_json(&dir, bytes),
    );
}
