//! Fuzz target `plan`: a saved plan file (`dumcel plan -out=FILE`, then
//! `apply FILE` or `show FILE`) may have been damaged or handed over by
//! someone else. `Plan::from_file_bytes` reads it or refuses it, and what it
//! reads renders as `show` renders it, never a panic.
//! Run longer with `bench/fuzz.sh`; see `fuzz/harness.rs` for the knobs.

#[path = "../../fuzz/harness.rs"]
mod harness;

use dumcel_planner::plan::PLAN_FORMAT_VERSION;
use dumcel_planner::render::{self, RenderOptions};
use dumcel_planner::{Action, Map, Moved, OutputChange, Plan, ResourceChange, Value};
use proptest::prelude::*;

const TARGET: &str = "plan";

const TOKENS: &[&str] = &[
    "\"format_version\"",
    "\"dumcel_version\"",
    "\"lineage\"",
    "\"serial\"",
    "\"destroy\"",
    "\"config_hash\"",
    "\"variables\"",
    "\"drift\"",
    "\"changes\"",
    "\"outputs\"",
    "\"moved\"",
    "\"address\"",
    "\"resource_type\"",
    "\"provider\"",
    "\"action\"",
    "\"before\"",
    "\"after\"",
    "\"replace_because\"",
    "\"reason\"",
    "\"depends_on\"",
    "\"importing\"",
    "\"create\"",
    "\"update\"",
    "\"replace\"",
    "\"delete\"",
    "\"no-op\"",
    "\"read\"",
    "{\"__dumcel_unknown__\":true}",
    "{\"__dumcel_sensitive__\":true}",
    "\"<<EOT\\n\"",
    "\"{\\\"a\\\":1}\"",
    "\"a\\nb\\n\"",
    "1",
];

fn check(bytes: &[u8]) {
    let Ok(plan) = Plan::from_file_bytes(bytes) else {
        return;
    };
    // What `show FILE` and `apply FILE` do with a plan they read.
    for color in [false, true] {
        let opts = RenderOptions { color };
        let _ = render::human_plan(&plan, &opts);
        let _ = render::human_drift(&plan, &opts);
    }
    let _ = render::json_plan(&plan);
    let _ = render::summary_line(&plan.summary());
    let _ = plan.has_changes();
    let _ = plan.to_file_bytes();
}

#[test]
fn fuzz_plan() {
    let dictionary = [harness::JSON_TOKENS, TOKENS].concat();
    let structured = prop_oneof![
        4 => harness::mutated_json(harness::seed(TARGET, "valid.plan")),
        1 => harness::json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => harness::token_soup(dictionary.clone(), 0..64),
    ];
    harness::run(TARGET, dictionary, structured, check);
}

#[test]
fn the_valid_seed_reads() {
    let plan = Plan::from_file_bytes(&harness::seed(TARGET, "valid.plan")).expect("a plan");
    assert!(plan.has_changes());
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Map>(),
    )
}

fn change(
    address: &str,
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
) -> ResourceChange {
    ResourceChange {
        address: address.into(),
        resource_type: address.split('.').next().unwrap_or_default().into(),
        provider: "builtin".into(),
        action,
        before,
        after,
        replace_because: Vec::new(),
        reason: None,
        depends_on: Vec::new(),
        importing: None,
    }
}

/// Rewrites the seed from the current code, a plan with every kind of
/// change and value:
/// `DUMCEL_FUZZ_WRITE_SEEDS=1 cargo test -p dumcel-planner --test fuzz_plan`.
#[test]
fn write_seeds() {
    if std::env::var_os("DUMCEL_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    let s = Value::string;
    let file_before = obj(&[
        ("id", s("9a3f")),
        ("filename", s("./out.txt")),
        ("content", s("one\ntwo\nthree\n")),
        ("policy", s(r#"{"Version":"2012-10-17","Statement":[]}"#)),
        ("tags", obj(&[("env", s("dev")), ("team", s("core"))])),
        (
            "ports",
            Value::List(vec![Value::Number(80.0), Value::Number(443.0)]),
        ),
    ]);
    let file_after = obj(&[
        ("id", s("9a3f")),
        ("filename", s("./out.txt")),
        ("content", s("one\n2\nthree\nfour\n")),
        (
            "policy",
            s(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}"#),
        ),
        ("tags", obj(&[("env", s("prod")), ("team", s("core"))])),
        ("ports", Value::List(vec![Value::Number(443.0)])),
    ]);
    let mut replaced = change(
        "null_resource.web[0]",
        Action::Replace,
        Some(obj(&[("id", s("1")), ("triggers", obj(&[("v", s("1"))]))])),
        Some(obj(&[
            ("id", Value::Unknown),
            ("triggers", obj(&[("v", s("2"))])),
        ])),
    );
    replaced.replace_because = vec!["triggers".into()];
    replaced.depends_on = vec!["local_file.config".into()];
    let mut deleted = change(
        "null_resource.old",
        Action::Delete,
        Some(obj(&[("id", s("7")), ("triggers", Value::Null)])),
        None,
    );
    deleted.reason = Some("no longer in configuration".into());
    let mut imported = change(
        "terraform_data.adopted",
        Action::NoOp,
        Some(obj(&[("id", s("abc"))])),
        Some(obj(&[("id", s("abc"))])),
    );
    imported.importing = Some("abc".into());
    let plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        dumcel_version: "0.1.0".into(),
        lineage: "5f0c1a52-3d6e-4b8e-9a57-0c2f7d1e9b44".into(),
        serial: 4,
        destroy: false,
        config_hash: "3b5d5c3712955042212316173ccf37be".into(),
        variables: [("region".to_owned(), serde_json::json!("eu-west-1"))]
            .into_iter()
            .collect(),
        drift: vec![change(
            "local_file.config",
            Action::Update,
            Some(obj(&[("id", s("1")), ("content", s("a"))])),
            Some(obj(&[("id", s("1")), ("content", s("b"))])),
        )],
        changes: vec![
            change(
                "local_file.config",
                Action::Update,
                Some(file_before),
                Some(file_after),
            ),
            change(
                "random_password.db",
                Action::Create,
                None,
                Some(obj(&[
                    ("id", Value::Unknown),
                    ("result", s("hunter2").sensitive()),
                ])),
            ),
            replaced,
            deleted,
            imported,
        ],
        outputs: vec![
            OutputChange {
                name: "ids".into(),
                action: Action::Create,
                before: None,
                after: Some(Value::List(vec![Value::Unknown, s("7")])),
                sensitive: false,
            },
            OutputChange {
                name: "password".into(),
                action: Action::Update,
                before: Some(s("old").sensitive()),
                after: Some(s("new").sensitive()),
                sensitive: true,
            },
        ],
        moved: vec![Moved {
            from: "null_resource.a".into(),
            to: "null_resource.b".into(),
        }],
        forgotten: Vec::new(),
        prior_state: None,
        configuration: None,
        timestamp: None,
        targeted: false,
    };
    let path = harness::corpus_dir(TARGET).join("valid.plan");
    std::fs::write(&path, plan.to_file_bytes()).expect("write the seed");
}
