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
    assert!(
        out.contains("Objects have changed outside of Dumcel"),
        "{out}"
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
