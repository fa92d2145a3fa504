//! The State model and its JSON format.

mod common;

use dumcel_state::{FORMAT_VERSION, OutputValue, State, StateError};
use proptest::prelude::*;
use serde_json::json;

fn sample() -> State {
    let mut state = common::state_with(3);
    state.serial = 42;
    state.outputs.insert(
        "password".into(),
        OutputValue {
            value: json!("hunter2"),
            sensitive: true,
        },
    );
    state
        .resources
        .insert(r#"local_file.f["x"]"#.into(), common::instance("x").into());
    state
}

#[test]
fn round_trip() {
    let state = sample();
    let bytes = state.to_json_pretty();
    assert_eq!(bytes.last(), Some(&b'\n'));
    assert_eq!(State::from_json(&bytes).expect("parses"), state);
}

#[test]
fn new_state_is_empty_with_fresh_lineage() {
    let (a, b) = (State::new(), State::new());
    assert_eq!(a.version, FORMAT_VERSION);
    assert_eq!(a.serial, 0);
    assert!(a.resources.is_empty() && a.outputs.is_empty());
    assert_ne!(a.lineage, b.lineage);
    assert!(uuid::Uuid::parse_str(&a.lineage).is_ok());
}

#[test]
fn optional_sections_default() {
    let json = br#"{"version":1,"serial":3,"lineage":"abc","dumcel_version":"0.1.0"}"#;
    let state = State::from_json(json).expect("parses");
    assert_eq!(state.serial, 3);
    assert!(state.resources.is_empty());
}

#[test]
fn newer_version_is_unsupported_even_if_layout_differs() {
    let json = br#"{"version":2,"something":"else"}"#;
    match State::from_json(json) {
        Err(StateError::UnsupportedVersion {
            found, supported, ..
        }) => {
            assert_eq!((found, supported), (2, FORMAT_VERSION));
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    let err = State::from_json(json).unwrap_err().to_string();
    assert!(err.contains("upgrade dumcel"), "{err}");
}

#[test]
fn empty_lineage_is_corrupt() {
    let json = br#"{"version":1,"serial":0,"lineage":"  ","dumcel_version":"x"}"#;
    assert!(matches!(
        State::from_json(json),
        Err(StateError::Corrupt { .. })
    ));
}

#[test]
fn garbage_is_corrupt_and_says_what_to_do() {
    let err = State::from_json(b"{not json").unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }));
    let msg = err.to_string();
    assert!(msg.contains("dumcel.tfstate.backup"), "{msg}");
    assert!(msg.contains("not valid dumcel state JSON"), "{msg}");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = State::from_json(&bytes);
    }

    #[test]
    fn truncations_never_panic(cut in 0usize..10_000) {
        let original = sample();
        let bytes = original.to_json_pretty();
        let cut = cut % (bytes.len() + 1);
        match State::from_json(&bytes[..cut]) {
            // Only the whole document (with or without its newline) parses.
            Ok(state) => {
                prop_assert!(cut >= bytes.len() - 1);
                prop_assert_eq!(state, original);
            }
            Err(e) => prop_assert!(matches!(e, StateError::Corrupt { .. }), "{:?}", e),
        }
    }

    #[test]
    fn json_shaped_garbage_never_panics(value in arb_json()) {
        let bytes = serde_json::to_vec(&value).expect("encode");
        let _ = State::from_json(&bytes);
    }
}

/// JSON values biased towards the State's own field names.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        "[a-z]{0,6}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("version".to_string()),
            Just("serial".to_string()),
            Just("lineage".to_string()),
            Just("resources".to_string()),
            Just("outputs".to_string()),
            Just("attributes".to_string()),
            "[a-z]{1,4}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
