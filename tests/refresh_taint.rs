//! `plan -refresh-only`, `apply -refresh-only`, `refresh`, `taint` and
//! `untaint`, as Terraform's commands of those names behave.

mod common;

use common::TestStack;

const STACK: &str = r#"
resource "local_file" "a" {
  filename = "a.txt"
  content  = "one"
}
resource "local_file" "b" {
  filename = "b.txt"
  content  = "bee"
}
resource "null_resource" "n" {}
"#;

#[test]
fn refresh_only_records_outside_changes_and_changes_nothing_real() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    let clean = s.run(&["plan", "-refresh-only", "-detailed-exitcode", "-no-color"]);
    assert_eq!(clean.code, 0, "{}", clean.all());
    assert!(clean.stdout.contains("No changes."), "{}", clean.all());

    // Changed and removed behind dumcel's back.
    s.write("a.txt", "two");
    std::fs::remove_file(s.file("b.txt")).unwrap();
    let serial = s.state()["serial"].as_u64().unwrap();
    let plan = s.run(&["plan", "-refresh-only", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("Objects have changed outside of Dumcel")
            && plan.stdout.contains("local_file.a")
            && plan.stdout.contains("local_file.b")
            && plan.stdout.contains("refresh-only plan"),
        "{}",
        plan.all()
    );
    assert_eq!(
        s.state()["serial"].as_u64().unwrap(),
        serial,
        "a plan writes nothing"
    );

    // Without approval on a non-terminal, nothing is written.
    let refused = s.run(&["apply", "-refresh-only", "-no-color"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert_eq!(s.state()["serial"].as_u64().unwrap(), serial);

    s.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(s.attr("local_file.a", "content"), "two");
    assert!(!s.state_addresses().contains(&"local_file.b".to_string()));
    // Nothing real was touched: the files are as they were left.
    assert_eq!(s.read("a.txt"), "two");
    assert!(!s.file("b.txt").exists());

    // The next normal plan puts the configuration back.
    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout.contains("2 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.all()
    );

    // `refresh` is apply -refresh-only -auto-approve.
    s.write("a.txt", "three");
    s.ok(&["refresh", "-no-color"]);
    assert_eq!(s.attr("local_file.a", "content"), "three");

    let r = s.run(&["plan", "-refresh-only", "-destroy"]);
    assert_eq!(r.code, 1, "{}", r.all());
}

#[test]
fn taint_replaces_on_the_next_apply_and_untaint_takes_it_back() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    let id = s.attr("null_resource.n", "id");

    let r = s.ok(&["taint", "null_resource.n"]);
    assert!(
        r.stdout
            .contains("Resource instance null_resource.n has been marked as tainted."),
        "{}",
        r.all()
    );
    let plan = s.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("null_resource.n is tainted, so must be replaced"),
        "{}",
        plan.all()
    );
    let r = s.ok(&["untaint", "null_resource.n"]);
    assert!(r.stdout.contains("successfully untainted"), "{}", r.all());
    let plan = s.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.all());

    s.ok(&["taint", "null_resource.n"]);
    s.ok(&["apply", "-auto-approve"]);
    assert_ne!(s.attr("null_resource.n", "id"), id, "replaced");
    assert_eq!(s.state()["resources"]["null_resource.n"]["tainted"], false);

    let missing = s.run(&["taint", "null_resource.nope"]);
    assert_eq!(missing.code, 1, "{}", missing.all());
    assert!(
        missing.stderr.contains("No such resource instance"),
        "{}",
        missing.all()
    );
    s.ok(&["taint", "-allow-missing", "null_resource.nope"]);
    let again = s.run(&["untaint", "null_resource.n"]);
    assert_eq!(again.code, 1, "{}", again.all());
}

/// `-exclude` leaves out a resource and what depends on it, as Terraform's
/// `-exclude` does; the rest is applied.
#[test]
fn exclude_leaves_out_a_resource_and_its_dependents() {
    let s = TestStack::new(
        r#"
resource "null_resource" "base" {}
resource "null_resource" "child" {
  triggers = {
    base = null_resource.base.id
  }
}
resource "null_resource" "grandchild" {
  triggers = {
    child = null_resource.child.id
  }
}
resource "null_resource" "other" {}
"#,
    );
    let r = s.ok(&[
        "apply",
        "-auto-approve",
        "-exclude=null_resource.child",
        "-no-color",
    ]);
    assert!(
        r.stderr.contains("resource exclusion is in effect"),
        "{}",
        r.all()
    );
    let mut recorded = s.state_addresses();
    recorded.sort();
    assert_eq!(recorded, ["null_resource.base", "null_resource.other"]);
    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("2 to add"), "{}", plan.all());
}
