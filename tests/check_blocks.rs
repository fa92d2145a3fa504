//! `check` blocks through the binary: failed assertions are warnings after
//! plan and after apply, never errors; an assertion unknown at plan time is
//! checked at apply; a scoped data source is read like any data source.

mod common;

use common::TestStack;

const STACK: &str = r#"
variable "port" {
  type = number
}

variable "status" {
  type = string
}

resource "terraform_data" "app" {
  input = var.status
}

check "port" {
  assert {
    condition     = var.port > 1024
    error_message = "port ${var.port} needs root"
  }
}

check "app_status" {
  assert {
    condition     = terraform_data.app.output == "up"
    error_message = "the app says ${terraform_data.app.output}"
  }
}

check "health_file" {
  data "local_file" "health" {
    filename = "${path.module}/health.txt"
  }

  assert {
    condition     = trimspace(data.local_file.health.content) == "ok"
    error_message = "health.txt says ${trimspace(data.local_file.health.content)}"
  }
}
"#;

#[test]
fn failed_assertions_are_warnings_after_plan_and_apply() {
    let s = TestStack::empty();
    s.write("main.tf", STACK);
    s.write("health.txt", "degraded\n");

    let plan = s.run(&[
        "plan",
        "-no-color",
        "-var",
        "port=80",
        "-var",
        "status=down",
    ]);
    assert_eq!(
        plan.code,
        0,
        "a failed check never fails a plan:\n{}",
        plan.all()
    );
    assert!(plan.stdout.contains("1 to add"), "{}", plan.stdout);
    let warnings = plan.stderr.matches("Check block assertion failed").count();
    // port and health_file are known at plan; app_status waits for apply.
    assert_eq!(warnings, 2, "{}", plan.stderr);
    assert!(
        plan.stderr
            .contains("warning: Check block assertion failed"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("check.port: port 80 needs root"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("main.tf:16"),
        "points at the condition: {}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("check.health_file: health.txt says degraded"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("check.app_status"), "{}", plan.stderr);

    let apply = s.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "port=80",
        "-var",
        "status=down",
    ]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(apply.stdout.contains("1 added"), "{}", apply.stdout);
    assert!(
        apply.stderr.contains("check.app_status: the app says down"),
        "checked against what apply made: {}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("check.port: port 80 needs root"),
        "{}",
        apply.stderr
    );
    assert_eq!(s.state_addresses(), vec!["terraform_data.app".to_string()]);

    // Everything healthy: no warning at all.
    s.write("health.txt", "ok\n");
    let apply = s.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "port=8080",
        "-var",
        "status=up",
    ]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(!apply.stderr.contains("Check block"), "{}", apply.stderr);
}

#[test]
fn check_blocks_are_validated_like_any_block() {
    let s = TestStack::empty();
    s.write("main.tf", "check \"empty\" {\n}\n");
    let out = s.run(&["validate", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("Check \"empty\" has no assert block"),
        "{}",
        out.stderr
    );

    s.write(
        "main.tf",
        r#"
check "typo" {
  assert {
    condition     = terraform_data.missing.output == "x"
    error_message = "x"
  }
}
"#,
    );
    let out = s.run(&["validate", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("Reference to undeclared resource \"terraform_data.missing\""),
        "{}",
        out.stderr
    );
}
