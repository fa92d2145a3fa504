//! Bad configuration: errors name the file, line and column, show the line, say
//! what to do, and nothing is applied.

mod common;

use common::TestStack;

#[test]
fn unknown_reference_names_file_and_line_and_applies_nothing() {
    let s = TestStack::new(
        r#"resource "local_file" "ok" {
  filename = "ok.txt"
  content  = "fine"
}

resource "local_file" "bad" {
  filename = "bad.txt"
  content  = null_resource.missing.id
}
"#,
    );
    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Reference to undeclared resource \"null_resource.missing\""),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("main.hcl:8:14"), "{}", r.all());
    assert!(
        r.stderr.contains("content  = null_resource.missing.id"),
        "the line is shown: {}",
        r.all()
    );
    assert!(
        r.stderr.contains('^'),
        "a caret marks the place: {}",
        r.all()
    );
    assert!(!s.file("ok.txt").exists(), "nothing may be applied");
    assert!(!s.file("dumcel.tfstate").exists());
}

#[test]
fn a_cycle_names_every_member() {
    let s = TestStack::new(
        r#"
resource "null_resource" "a" {
  triggers = { b = null_resource.b.id }
}
resource "null_resource" "b" {
  triggers = { c = local.c }
}
locals {
  c = null_resource.a.id
}
"#,
    );
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    for member in ["local.c", "null_resource.a", "null_resource.b"] {
        assert!(r.stderr.contains(member), "{member} missing: {}", r.all());
    }
    assert!(r.stderr.contains("cycle"), "{}", r.all());
}

#[test]
fn syntax_errors_and_unknown_arguments_point_at_the_place() {
    let s = TestStack::new("resource \"null_resource\" \"a\" {\n  triggers = {\n}\n");
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("main.hcl:"), "{}", r.all());

    let s = TestStack::new(
        "resource \"local_file\" \"a\" {\n  filename = \"x\"\n  content = \"y\"\n  contnet = \"z\"\n}\n",
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Unsupported argument \"contnet\""),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("main.hcl:4:3"), "{}", r.all());
    assert!(
        r.stderr.contains("Did you mean \"content\"?"),
        "{}",
        r.all()
    );
}

#[test]
fn a_missing_required_variable_stops_before_anything_runs() {
    let s = TestStack::new(
        r#"
variable "region" {}
resource "local_file" "f" {
  filename = "f.txt"
  content  = var.region
}
"#,
    );
    let r = s.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("No value for required variable \"region\""),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("TF_VAR_region"),
        "the hint names the ways to set it: {}",
        r.all()
    );
    assert!(!s.file("f.txt").exists());

    // Every source works, later ones winning.
    s.write("dumcel.vars.hcl", "region = \"from-file\"\n");
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.read("f.txt"), "from-file");
    let r = s
        .command(&["apply", "-auto-approve", "-var", "region=from-flag"])
        .env("DUMCEL_VAR_region", "from-env")
        .output()
        .unwrap();
    assert!(r.status.success());
    assert_eq!(s.read("f.txt"), "from-flag");
}

#[test]
fn sensitive_values_never_print() {
    let s = TestStack::new(
        r#"
variable "password" {
  sensitive = true
  default   = "hunter2-secret"
}
resource "local_file" "f" {
  filename = "f.txt"
  content  = "pw=${var.password}"
}
output "pw" {
  value     = var.password
  sensitive = true
}
"#,
    );
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(!plan.stdout.contains("hunter2"), "{}", plan.all());
    assert!(plan.stdout.contains("(sensitive value)"), "{}", plan.all());
    let json = s.ok(&["plan", "-json"]);
    assert!(!json.stdout.contains("hunter2"), "{}", json.all());
    s.ok(&["plan", "-out=p.plan"]);
    assert!(
        !s.read("p.plan").contains("hunter2"),
        "saved plans hold no secrets"
    );
    let apply = s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        !apply.stdout.contains("hunter2") && !apply.stderr.contains("hunter2"),
        "{}",
        apply.all()
    );
    assert!(apply.stdout.contains("pw = <sensitive>"), "{}", apply.all());
    let show = s.ok(&["show", "-no-color"]);
    assert!(!show.stdout.contains("hunter2"), "{}", show.all());
    let show_json = s.ok(&["show", "-json"]);
    assert!(!show_json.stdout.contains("hunter2"), "{}", show_json.all());
    assert_eq!(
        s.read("f.txt"),
        "pw=hunter2-secret",
        "the real value is still used"
    );
}
