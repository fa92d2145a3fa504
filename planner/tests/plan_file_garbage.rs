//! Garbage and truncated plan files are errors, never panics.

use proptest::prelude::*;

use dumcel_planner::{Action, Plan, ResourceChange, Value};

fn sample() -> Vec<u8> {
    let plan = Plan {
        format_version: dumcel_planner::plan::PLAN_FORMAT_VERSION,
        dumcel_version: "0.1.0".into(),
        lineage: "l".into(),
        serial: 3,
        destroy: false,
        config_hash: "h".into(),
        variables: Default::default(),
        drift: Vec::new(),
        changes: vec![ResourceChange {
            address: "null_resource.a[0]".into(),
            resource_type: "null_resource".into(),
            provider: "builtin".into(),
            action: Action::Create,
            before: None,
            after: Some(Value::Map(
                [("id".to_string(), Value::Unknown)].into_iter().collect(),
            )),
            replace_because: Vec::new(),
            reason: None,
            depends_on: Vec::new(),
            importing: None,
        }],
        outputs: Vec::new(),
        moved: Vec::new(),
        forgotten: Vec::new(),
        prior_state: None,
        configuration: None,
        timestamp: None,
        targeted: false,
    };
    plan.to_file_bytes()
}

#[test]
fn a_plan_file_round_trips() {
    let bytes = sample();
    let back = Plan::from_file_bytes(&bytes).expect("reads back");
    assert_eq!(
        back.changes[0].after.as_ref().unwrap().get("id"),
        Some(&Value::Unknown)
    );
}

proptest! {
    #[test]
    fn truncated_plan_files_are_errors(cut in 0usize..2000) {
        let bytes = sample();
        let cut = cut.min(bytes.len().saturating_sub(1));
        prop_assert!(Plan::from_file_bytes(&bytes[..cut]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Plan::from_file_bytes(&bytes);
    }
}
