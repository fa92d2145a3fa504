//! A local_file edited or deleted by hand shows as drift, and apply writes it back.

mod common;

use common::TestStack;

const STACK: &str = r#"
resource "local_file" "a" {
  filename = "a.txt"
  content  = "managed\n"
}
resource "local_file" "b" {
  filename = "b.txt"
  content  = "also managed\n"
}
"#;

#[test]
fn edited_and_deleted_files_are_drift_and_get_repaired() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    s.write("a.txt", "edited by hand\n");
    std::fs::remove_file(s.file("b.txt")).unwrap();

    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let out = &plan.stdout;
    assert_eq!(
        out.matches("Objects have changed outside of Dumcel")
            .count(),
        1,
        "the drift section is printed once, as Terraform does:\n{out}"
    );
    assert!(out.contains("local_file.a has been changed"), "{out}");
    assert!(out.contains("edited by hand"), "{out}");
    assert!(out.contains("local_file.b has been deleted"), "{out}");
    assert!(out.contains("2 to add, 0 to change, 1 to destroy"), "{out}");

    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.read("a.txt"), "managed\n");
    assert_eq!(s.read("b.txt"), "also managed\n");
    let again = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn refresh_false_does_not_notice_drift() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    s.write("a.txt", "edited by hand\n");
    let plan = s.run(&["plan", "-refresh=false", "-detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
}

/// Refresh reads each prior without its marks (the provider never sees
/// them) and marks the prior and what it read again: a file whose content
/// came from a sensitive variable shows its drift without the content.
#[test]
fn drift_of_a_sensitive_attribute_stays_hidden() {
    let s = TestStack::new(
        r#"
variable "secret" {
  type      = string
  default   = "hunter2-recorded\n"
  sensitive = true
}
resource "local_file" "a" {
  filename = "a.txt"
  content  = var.secret
}
"#,
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(
        s.state()["resources"]["local_file.a"]["sensitive_attributes"],
        serde_json::json!(["content"]),
        "the state marks the content sensitive"
    );
    s.write("a.txt", "hunter2-edited\n");

    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let out = plan.all();
    assert!(out.contains("local_file.a has been changed"), "{out}");
    assert!(out.contains("(sensitive value)"), "{out}");
    assert!(
        !out.contains("hunter2"),
        "a secret reached the plan:\n{out}"
    );

    // The JSON plan says which side is sensitive: both, as in Terraform.
    let json = s.run(&["plan", "-json"]);
    assert!(!json.all().contains("hunter2"), "{}", json.all());
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan -json");
    let drift = &doc["resource_drift"][0];
    assert_eq!(drift["address"], "local_file.a", "{doc:#}");
    assert_eq!(
        drift["change"]["before_sensitive"]["content"], true,
        "{doc:#}"
    );
    assert_eq!(
        drift["change"]["after_sensitive"]["content"], true,
        "{doc:#}"
    );

    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.read("a.txt"), "hunter2-recorded\n");
}
