//! `plan -out` then `apply FILE`: exactly that plan, refused once the state or
//! the configuration moved on.

mod common;

use common::TestStack;

const STACK: &str = r#"
resource "local_file" "f" {
  filename = "f.txt"
  content  = "v1"
}
"#;

#[test]
fn a_saved_plan_applies_once_and_then_is_stale() {
    let s = TestStack::new(STACK);
    let r = s.ok(&["plan", "-out=first.plan", "-no-color"]);
    assert!(
        r.stdout.contains("dumcel apply \"first.plan\""),
        "{}",
        r.all()
    );
    let shown = s.ok(&["show", "-json", "first.plan"]);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("show -json is JSON");
    assert_eq!(json["resource_changes"][0]["address"], "local_file.f");
    assert_eq!(
        json["resource_changes"][0]["change"]["actions"],
        serde_json::json!(["create"])
    );

    s.ok(&["apply", "first.plan"]);
    assert_eq!(s.read("f.txt"), "v1");

    // The state moved: the same plan is refused and changes nothing.
    let again = s.run(&["apply", "first.plan"]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(
        again.stderr.contains("Saved plan is stale"),
        "{}",
        again.all()
    );
}

#[test]
fn a_saved_plan_is_refused_after_the_configuration_changes() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    s.write("main.hcl", &STACK.replace("v1", "v2"));
    s.ok(&["plan", "-out=p.plan"]);
    s.write("main.hcl", &STACK.replace("v1", "v3"));
    let r = s.run(&["apply", "p.plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("configuration files changed"),
        "{}",
        r.all()
    );
    assert_eq!(s.read("f.txt"), "v1");
}

#[test]
fn garbage_plan_files_are_errors_not_panics() {
    let s = TestStack::new(STACK);
    s.write("bad.plan", "{\"format_version\": 1, \"changes\": [");
    let r = s.run(&["apply", "bad.plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("not a dumcel plan file"), "{}", r.all());
    assert!(!r.stderr.contains("panicked"), "{}", r.all());
}
