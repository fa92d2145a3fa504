//! lifecycle { ... } rules, -replace and -target, through the binary.

mod common;

use common::TestStack;

#[test]
fn prevent_destroy_fails_the_plan_before_anything_runs() {
    let s = TestStack::new(
        r#"
resource "null_resource" "keep" {
  lifecycle {
    prevent_destroy = true
  }
}
resource "null_resource" "other" {}
"#,
    );
    s.ok(&["apply", "-auto-approve"]);
    let r = s.run(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Instance cannot be destroyed: null_resource.keep"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("main.hcl:3:"),
        "points at the lifecycle block: {}",
        r.all()
    );
    let mut addrs = s.state_addresses();
    addrs.sort();
    assert_eq!(
        addrs,
        ["null_resource.keep", "null_resource.other"],
        "nothing was destroyed"
    );
}

#[test]
fn ignore_changes_leaves_attributes_alone() {
    let hcl = |d: &str| {
        format!(
            "resource \"time_sleep\" \"t\" {{\n  create_duration = \"{d}\"\n  lifecycle {{\n    ignore_changes = [create_duration]\n  }}\n}}\n"
        )
    };
    let s = TestStack::new(&hcl("1ms"));
    s.ok(&["apply", "-auto-approve"]);
    s.write("main.hcl", &hcl("2ms"));
    let r = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        r.code,
        0,
        "ignored attribute must not plan a change: {}",
        r.all()
    );
}

#[test]
fn replace_triggered_by_and_dash_replace_force_replacement() {
    let hcl = |v: &str| {
        format!(
            r#"
resource "null_resource" "config" {{
  triggers = {{ version = "{v}" }}
}}
resource "null_resource" "app" {{
  lifecycle {{
    replace_triggered_by = [null_resource.config]
  }}
}}
resource "null_resource" "bystander" {{}}
"#
        )
    };
    let s = TestStack::new(&hcl("1"));
    s.ok(&["apply", "-auto-approve"]);
    let app_id = s.attr("null_resource.app", "id");
    s.write("main.hcl", &hcl("2"));
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout.contains("null_resource.app must be replaced"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains("replace_triggered_by"),
        "{}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_ne!(s.attr("null_resource.app", "id"), app_id);

    let by_id = s.attr("null_resource.bystander", "id");
    let plan = s.ok(&["plan", "-replace=null_resource.bystander", "-no-color"]);
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve", "-replace=null_resource.bystander"]);
    assert_ne!(s.attr("null_resource.bystander", "id"), by_id);
}

#[test]
fn target_plans_only_the_target_and_its_dependencies() {
    let s = TestStack::new(
        r#"
resource "null_resource" "base" {}
resource "null_resource" "app" {
  triggers = { base = null_resource.base.id }
}
resource "null_resource" "unrelated" {}
"#,
    );
    let r = s.run(&[
        "apply",
        "-auto-approve",
        "-target=null_resource.app",
        "-no-color",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("targeting is in effect"), "{}", r.all());
    let mut addrs = s.state_addresses();
    addrs.sort();
    assert_eq!(addrs, ["null_resource.app", "null_resource.base"]);
    let rest = s.ok(&["plan", "-no-color"]);
    assert!(
        rest.stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "{}",
        rest.all()
    );
}

#[test]
fn preconditions_and_postconditions_stop_with_their_message() {
    let s = TestStack::new(
        r#"
variable "env" {
  default = "staging"
}
resource "null_resource" "deploy" {
  lifecycle {
    precondition {
      condition     = contains(["staging", "prod"], var.env)
      error_message = "env must be staging or prod."
    }
    postcondition {
      condition     = length(self.id) > 0
      error_message = "the id must not be empty."
    }
  }
}
resource "time_sleep" "slow" {
  create_duration = "1ms"
  lifecycle {
    postcondition {
      condition     = self.create_duration == "5s"
      error_message = "create_duration must be 5s here."
    }
  }
}
"#,
    );
    let bad = s.run(&["plan", "-var", "env=dev", "-no-color"]);
    assert_eq!(bad.code, 1, "{}", bad.all());
    assert!(
        bad.stderr.contains("env must be staging or prod."),
        "{}",
        bad.all()
    );
    let post = s.run(&["plan", "-no-color"]);
    assert_eq!(
        post.code,
        1,
        "a postcondition known false at plan fails the plan: {}",
        post.all()
    );
    assert!(
        post.stderr.contains("create_duration must be 5s here."),
        "{}",
        post.all()
    );
    assert!(
        !post.stderr.contains("the id must not be empty"),
        "unknown until apply, not checked yet: {}",
        post.all()
    );
}
