//! Fuzz target `yaml`: what `yamldecode` and `csvdecode` are given (a file
//! of the repository, a data source's answer) must decode or fail, never
//! panic; and whatever `yamldecode` reads, `yamlencode` writes back so that
//! `yamldecode` reads the same value again.
//! Run longer with `bench/fuzz.sh`; see `fuzz/harness.rs` for the knobs.

#[path = "../../fuzz/harness.rs"]
mod harness;

use std::path::Path;

use dumcel_engine::functions::{FuncContext, call};
use dumcel_planner::Value;

const YAML_TOKENS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "? ",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!custom ",
    "|",
    "|-",
    "|+",
    ">",
    "'",
    "\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "---",
    "...",
    "yes",
    "on",
    "y",
    "~",
    "null",
    "0x1F",
    "010",
    "0o7",
    ".inf",
    ".nan",
    "2001-12-14",
    "1e3",
    "\t",
    "\\",
    "\u{2028}",
    "\u{feff}",
];

fn function(name: &str, arg: Value) -> Result<Value, String> {
    let ctx = FuncContext {
        base_dir: Path::new("."),
        confine_files: None,
        clock: Default::default(),
    };
    call(name, vec![arg], &ctx).expect("a built-in function")
}

/// Values that do not read back, in Terraform either: `+Inf` reads back as
/// a string, and a `"<<"` key as a merge key.
fn does_not_round_trip(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_infinite(),
        Value::List(items) => items.iter().any(does_not_round_trip),
        Value::Map(map) => map.contains_key("<<") || map.values().any(does_not_round_trip),
        _ => false,
    }
}

fn decode_yaml_and_csv(bytes: &[u8]) {
    let text = Value::String(String::from_utf8_lossy(bytes).into_owned());
    let _ = function("csvdecode", text.clone());
    let Ok(decoded) = function("yamldecode", text) else {
        return;
    };
    if does_not_round_trip(&decoded) {
        return;
    }
    let encoded = function("yamlencode", decoded.clone()).expect("every decoded value encodes");
    let again = function("yamldecode", encoded.clone())
        .unwrap_or_else(|e| panic!("yamlencode wrote what yamldecode refuses ({e}):\n{encoded:?}"));
    assert_eq!(
        again, decoded,
        "yamlencode then yamldecode changed the value:\n{encoded:?}"
    );
}

#[test]
fn fuzz_yaml() {
    harness::run(
        "yaml",
        YAML_TOKENS.to_vec(),
        harness::token_soup(YAML_TOKENS.to_vec(), 0..64),
        decode_yaml_and_csv,
    );
}
