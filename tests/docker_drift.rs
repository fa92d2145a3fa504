//! A container removed or stopped outside dumcel is drift: the plan says so
//! and the next apply puts it back.

mod common;
mod docker_support;

use common::TestStack;
use docker_support::{Cleanup, context_with, docker, inspect, require_docker, unique};

fn stack(prefix: &str) -> String {
    format!(
        r#"
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context = "app"
  }}
}}
resource "docker_container" "app" {{
  name  = "{prefix}-app"
  image = docker_image.app.id
}}
"#
    )
}

#[test]
fn a_container_removed_outside_dumcel_is_drift_and_is_recreated() {
    require_docker();
    let prefix = unique("removed");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&stack(&prefix));
    context_with(&s.file("app"), include_str!("../examples/app/Dockerfile"));
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    let container = format!("{prefix}-app");
    docker(&["rm", "-f", &container]).expect("docker rm");

    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("docker_container.app has been deleted"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(
        inspect("container", &container, "{{.State.Running}}").as_deref(),
        Some("true")
    );
    let again = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
    s.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn a_container_stopped_outside_dumcel_is_drift_and_is_started() {
    require_docker();
    let prefix = unique("stopped");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&stack(&prefix));
    context_with(&s.file("app"), include_str!("../examples/app/Dockerfile"));
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    let container = format!("{prefix}-app");
    let id = inspect("container", &container, "{{.Id}}");
    docker(&["stop", "-t", "1", &container]).expect("docker stop");

    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("docker_container.app has been changed"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("running = true -> false"),
        "the drift shows what changed:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "started in place, not replaced:\n{}",
        plan.stdout
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(
        inspect("container", &container, "{{.State.Running}}").as_deref(),
        Some("true")
    );
    assert_eq!(
        inspect("container", &container, "{{.Id}}"),
        id,
        "the same container"
    );
    s.ok(&["destroy", "-auto-approve"]);
}
