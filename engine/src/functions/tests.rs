//! Test helpers shared by the family modules, and the tests that concern
//! every function: the registry, arity, the unknown / sensitive marks, and a
//! property test that no input makes any function panic.

use std::path::Path;

use proptest::prelude::*;

use super::{FuncContext, Marks, call, lookup, names};
use dumcel_planner::{Map, Value};

pub(super) fn s(text: &str) -> Value {
    Value::string(text)
}

pub(super) fn n(x: f64) -> Value {
    Value::Number(x)
}

pub(super) fn b(x: bool) -> Value {
    Value::Bool(x)
}

pub(super) fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

pub(super) fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|t| s(t)).collect())
}

pub(super) fn nums(items: &[f64]) -> Value {
    Value::List(items.iter().map(|&x| n(x)).collect())
}

pub(super) fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Map>(),
    )
}

/// Calls `name` with `base_dir` as the module directory.
pub(super) fn call_in(dir: &Path, name: &str, args: Vec<Value>) -> Result<Value, String> {
    call(
        name,
        args,
        &FuncContext {
            base_dir: dir,
            confine_files: None,
            clock: Default::default(),
        },
    )
    .unwrap_or_else(|| panic!("no function named {name}"))
}

/// The result of a call that must succeed.
pub(super) fn ok(name: &str, args: Vec<Value>) -> Value {
    call_in(Path::new("."), name, args.clone())
        .unwrap_or_else(|e| panic!("{name}({args:?}) failed: {e}"))
}

/// The message of a call that must fail.
pub(super) fn err(name: &str, args: Vec<Value>) -> String {
    match call_in(Path::new("."), name, args.clone()) {
        Ok(v) => panic!("{name}({args:?}) returned {v:?}, expected an error"),
        Err(e) => e,
    }
}

#[test]
fn names_are_sorted_unique_and_complete() {
    let all = names();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    for name in [
        // numeric
        "abs",
        "ceil",
        "floor",
        "log",
        "max",
        "min",
        "parseint",
        "pow",
        "signum",
        "sum",
        // string
        "chomp",
        "endswith",
        "format",
        "formatlist",
        "indent",
        "join",
        "lower",
        "replace",
        "split",
        "startswith",
        "strrev",
        "substr",
        "title",
        "trim",
        "trimprefix",
        "trimspace",
        "trimsuffix",
        "upper", // collection
        "alltrue",
        "anytrue",
        "chunklist",
        "coalesce",
        "coalescelist",
        "compact",
        "concat",
        "contains",
        "distinct",
        "element",
        "flatten",
        "index",
        "keys",
        "length",
        "lookup",
        "merge",
        "one",
        "range",
        "reverse",
        "setintersection",
        "setproduct",
        "setsubtract",
        "setunion",
        "slice",
        "sort",
        "values",
        "zipmap", // encoding
        "base64decode",
        "base64encode",
        "jsondecode",
        "jsonencode",
        "urlencode",
        // hash
        "md5",
        "sha1",
        "sha256",
        "sha512",
        "base64sha256", // filesystem
        "abspath",
        "basename",
        "dirname",
        "file",
        "fileexists", // conversion
        "tobool",
        "tolist",
        "tomap",
        "tonumber",
        "toset",
        "tostring",
        "sensitive",
        "nonsensitive",
    ] {
        assert!(all.contains(&name), "missing {name}");
    }
    // try and can evaluate their arguments lazily: the evaluator's.
    for absent in ["try", "can"] {
        assert!(
            !all.contains(&absent),
            "{absent} must not be a built-in here"
        );
    }
}

#[test]
fn unknown_function_is_none() {
    let ctx = FuncContext {
        base_dir: Path::new("."),
        confine_files: None,
        clock: Default::default(),
    };
    assert!(call("nosuchfunction", vec![], &ctx).is_none());
    assert!(call("Upper", vec![s("a")], &ctx).is_none());
}

#[test]
fn arity_errors_name_the_expected_count() {
    assert_eq!(err("upper", vec![]), "expected 1 argument, got 0");
    assert_eq!(
        err("upper", vec![s("a"), s("b")]),
        "expected 1 argument, got 2"
    );
    assert_eq!(err("log", vec![n(1.0)]), "expected 2 arguments, got 1");
    assert_eq!(
        err("lookup", vec![map(&[])]),
        "expected 2 to 3 arguments, got 1"
    );
    assert_eq!(err("range", vec![]), "expected 1 to 3 arguments, got 0");
    assert_eq!(
        err("join", vec![s(",")]),
        "expected at least 2 arguments, got 1"
    );
    assert_eq!(err("max", vec![]), "expected at least 1 argument, got 0");
    // Arity is checked even when an argument is unknown.
    assert_eq!(
        err("upper", vec![Value::Unknown, Value::Unknown]),
        "expected 1 argument, got 2"
    );
}

#[test]
fn type_errors_say_which_argument() {
    assert_eq!(
        err("keys", vec![s("x")]),
        "expected a map, got string (argument 1)"
    );
    assert_eq!(
        err("element", vec![s("x"), n(0.0)]),
        "expected a list, got string (argument 1)"
    );
    assert_eq!(
        err("upper", vec![strs(&["a"])]),
        "expected a string, got list (argument 1)"
    );
    assert_eq!(
        err("join", vec![s(","), list(vec![s("a"), strs(&["b"])])]),
        "expected a string, got list (argument 2, element 1)"
    );
}

#[test]
fn unknown_arguments_make_unknown_results() {
    assert_eq!(ok("upper", vec![Value::Unknown]), Value::Unknown);
    assert_eq!(
        ok("join", vec![s(","), list(vec![s("a"), Value::Unknown])]),
        Value::Unknown
    );
    assert_eq!(
        ok("merge", vec![map(&[("a", Value::Unknown)])]),
        Value::Unknown
    );
    assert_eq!(ok("coalesce", vec![Value::Unknown, s("a")]), Value::Unknown);
    assert_eq!(
        ok("concat", vec![strs(&["a"]), Value::Unknown]),
        Value::Unknown
    );
    // Type errors cannot be seen through an unknown.
    assert_eq!(ok("keys", vec![Value::Unknown]), Value::Unknown);
    // Sensitive and unknown: both marks survive.
    assert_eq!(
        ok("upper", vec![Value::Unknown.sensitive()]),
        Value::Unknown.sensitive()
    );
}

#[test]
fn length_of_a_known_collection_with_unknown_elements_is_known() {
    assert_eq!(
        ok("length", vec![list(vec![Value::Unknown, s("a")])]),
        n(2.0)
    );
    assert_eq!(ok("length", vec![map(&[("a", Value::Unknown)])]), n(1.0));
    assert_eq!(ok("length", vec![Value::Unknown]), Value::Unknown);
    assert_eq!(
        ok("length", vec![list(vec![Value::Unknown]).sensitive()]),
        n(1.0).sensitive()
    );
}

#[test]
fn sensitive_arguments_make_sensitive_results() {
    assert_eq!(
        ok("upper", vec![s("abc").sensitive()]),
        s("ABC").sensitive()
    );
    assert_eq!(
        ok("jsonencode", vec![map(&[("a", s("x").sensitive())])]),
        s("{\"a\":\"x\"}").sensitive()
    );
    assert_eq!(
        ok("join", vec![s("-"), list(vec![s("a"), s("b").sensitive()])]),
        s("a-b").sensitive()
    );
    assert_eq!(
        ok("length", vec![list(vec![s("a").sensitive()])]),
        n(1.0).sensitive()
    );
    // Errors still happen on the unmarked values.
    assert_eq!(
        err("keys", vec![s("x").sensitive()]),
        "expected a map, got string (argument 1)"
    );
    // ... and do not repeat the secret.
    let e = err("tonumber", vec![s("hunter2").sensitive()]);
    assert!(
        !e.contains("hunter2") && e.contains("(sensitive value)"),
        "{e}"
    );
    let e = err("lookup", vec![map(&[]), list(vec![s("k")]).sensitive()]);
    assert!(e.starts_with("expected a string"), "{e}");
    let e = err("lookup", vec![map(&[]), s("k").sensitive()]);
    assert!(!e.contains("\"k\""), "{e}");
}

#[test]
fn sensitive_and_nonsensitive_work_on_the_marks() {
    assert_eq!(ok("sensitive", vec![s("a")]), s("a").sensitive());
    assert_eq!(
        ok("sensitive", vec![s("a").sensitive()]),
        s("a").sensitive()
    );
    assert_eq!(
        ok("sensitive", vec![Value::Unknown]),
        Value::Unknown.sensitive()
    );
    assert_eq!(ok("nonsensitive", vec![s("a").sensitive()]), s("a"));
    assert_eq!(ok("nonsensitive", vec![s("a")]), s("a"));
    assert_eq!(
        ok("nonsensitive", vec![Value::Unknown.sensitive()]),
        Value::Unknown
    );
    // nonsensitive(sha256(secret)) is the documented use.
    let hash = ok("sha256", vec![s("secret").sensitive()]);
    assert!(hash.is_sensitive());
    assert!(!ok("nonsensitive", vec![hash]).is_sensitive());
    assert_eq!(lookup("sensitive").map(|d| d.marks), Some(Marks::Raw));
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        Just(Value::Unknown),
        any::<bool>().prop_map(Value::Bool),
        (-4i32..12).prop_map(|x| Value::Number(f64::from(x))),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(1e300),
            Just(-1e18),
            Just(0.5),
            Just(-2.5),
            Just(1e-300),
        ]
        .prop_map(Value::Number),
        "[a-c0-9 ,%./~\\-\\[\\]é🤔\n]{0,6}".prop_map(Value::String),
        prop_oneof![
            Just("%d"),
            Just("%s %v"),
            Just("%[2]q"),
            Just("%-08.3e"),
            Just("%#x"),
            Just("%9999.9999g"),
            Just("%99999d"),
            Just("/x/"),
            Just("~"),
            Just("~/nothing-here"),
            Just("true"),
            Just("3"),
            Just(""),
            Just("Zm9v"),
            Just("/w=="),
            Just("{\"a\":[1,2.5,null]}"),
            Just("dns"),
            Just("."),
            Just(".."),
        ]
        .prop_map(Value::string),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::btree_map("[a-c]{1,2}", inner.clone(), 0..3)
                .prop_map(|m| Value::Map(m.into_iter().collect())),
            inner.prop_map(Value::sensitive),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Every function, with every prefix of some arbitrary arguments: no
    /// panic, and the marks rule holds.
    #[test]
    fn no_function_panics(args in prop::collection::vec(arb_value(), 0..4)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = FuncContext {
            base_dir: dir.path(),
            confine_files: None,
            clock: Default::default(),
        };
        for &name in names() {
            for k in 0..=args.len() {
                let given = args[..k].to_vec();
                let result = call(name, given.clone(), &ctx).expect("listed names exist");
                let Ok(result) = result else { continue };
                if lookup(name).map(|d| d.marks) != Some(Marks::Generic) {
                    continue;
                }
                if given.iter().any(Value::contains_sensitive) {
                    prop_assert!(result.is_sensitive(), "{name}({given:?}) = {result:?}");
                }
                if !given.iter().all(Value::is_wholly_known) && name != "length" {
                    prop_assert!(result.is_unknown(), "{name}({given:?}) = {result:?}");
                }
            }
        }
    }
}
