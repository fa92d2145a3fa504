//! What a person sees when Docker work fails: the build step that broke with
//! its output, and a container's exit code or health with its last logs.

mod common;
mod docker_support;

use common::TestStack;
use docker_support::{Cleanup, context_with, exists, inspect, require_docker, unique};

#[test]
fn a_broken_dockerfile_names_the_failing_step_and_its_output() {
    require_docker();
    let prefix = unique("broken");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&format!(
        r#"
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context = "app"
  }}
}}
"#
    ));
    context_with(
        &s.file("app"),
        r#"FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "echo fetching widgets; echo widget index is missing >&2; exit 3"]
COPY www /www
"#,
    );
    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let err = &r.stderr;
    assert!(
        err.contains("at step \"Step 3/") && err.contains(" : RUN [\"/bin/busybox\""),
        "the failing step is named:\n{}",
        r.all()
    );
    assert!(
        err.contains("| widget index is missing"),
        "its stderr is shown:\n{err}"
    );
    assert!(
        err.contains("| fetching widgets"),
        "its stdout is shown:\n{err}"
    );
    assert!(
        err.contains("non-zero code: 3"),
        "with Docker's reason:\n{err}"
    );
    assert!(
        r.stdout.contains("docker_image.app: Step 2/"),
        "the build was streamed while it ran:\n{}",
        r.stdout
    );
    assert!(s.state_addresses().is_empty(), "no image was recorded");
    assert!(!exists("image", &format!("{prefix}-app:latest")));
}

fn crashing_stack(prefix: &str, command: &str) -> String {
    format!(
        r#"
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context = "app"
  }}
}}
resource "docker_container" "app" {{
  name    = "{prefix}-app"
  image   = docker_image.app.id
  command = {command}
}}
"#
    )
}

#[test]
fn a_container_that_exits_at_once_fails_with_its_logs_and_is_replaced_once_fixed() {
    require_docker();
    let prefix = unique("crash");
    let _cleanup = Cleanup(prefix.clone());
    let crash =
        r#"["sh", "-c", "echo starting up; echo config file /etc/app.conf not found >&2; exit 7"]"#;
    let s = TestStack::new(&crashing_stack(&prefix, crash));
    context_with(&s.file("app"), include_str!("../examples/app/Dockerfile"));

    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let err = &r.stderr;
    assert!(err.contains("docker_container.app"), "{err}");
    assert!(
        err.contains("exited with code 7"),
        "the exit code is shown:\n{err}"
    );
    assert!(
        err.contains("starting up"),
        "stdout lines are shown:\n{err}"
    );
    assert!(
        err.contains("config file /etc/app.conf not found"),
        "stderr lines are shown:\n{err}"
    );
    let container = format!("{prefix}-app");
    let recorded = &s.state()["resources"]["docker_container.app"];
    assert_eq!(
        recorded["tainted"], true,
        "the half-made container is recorded tainted: {recorded}"
    );
    let crashed_id = inspect("container", &container, "{{.Id}}").expect("the container exists");

    s.write("main.hcl", &crashing_stack(&prefix, r#"["sleep", "600"]"#));
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("docker_container.app is tainted, so must be replaced"),
        "{}",
        plan.stdout
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(
        inspect("container", &container, "{{.State.Running}}").as_deref(),
        Some("true")
    );
    assert_ne!(
        inspect("container", &container, "{{.Id}}"),
        Some(crashed_id),
        "the crashed container was replaced"
    );
    s.ok(&["destroy", "-auto-approve"]);
    assert!(!exists("container", &container));
}

#[test]
fn waiting_on_a_failing_healthcheck_fails_with_its_output() {
    require_docker();
    let prefix = unique("sick");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&format!(
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
  healthcheck {{
    test     = ["CMD", "/bin/busybox", "sh", "-c", "echo database is unreachable; exit 1"]
    interval = "1s"
    retries  = 1
  }}
  wait         = true
  wait_timeout = 30
}}
"#
    ));
    context_with(&s.file("app"), include_str!("../examples/app/Dockerfile"));
    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("is unhealthy"), "{}", r.all());
    assert!(
        r.stderr.contains("database is unreachable"),
        "the healthcheck's output is shown:\n{}",
        r.all()
    );
    assert!(
        !exists("container", &format!("{prefix}-app")),
        "the unhealthy container is removed"
    );
    assert!(
        s.state()["resources"].get("docker_container.app").is_none(),
        "and not recorded"
    );
    s.ok(&["destroy", "-auto-approve"]);
}

/// A container a cut-off create left behind (from the planned image, under
/// the planned name, recorded nowhere or tainted) does not block the next
/// create_before_destroy create: it is removed and made again, and the one
/// running is the one the state records. (One from another image is someone
/// else's: find refuses it, see the provider's container.rs.)
#[test]
fn a_leftover_of_a_cut_off_create_is_made_again_not_a_name_conflict() {
    require_docker();
    let prefix = unique("leftover");
    let _cleanup = Cleanup(prefix.clone());
    let image_only = crashing_stack(&prefix, r#"["sleep", "600"]"#);
    let image_only = &image_only[..image_only
        .find("resource \"docker_container\"")
        .expect("the stack has a container")];
    let s = TestStack::new(image_only);
    context_with(&s.file("app"), include_str!("../examples/app/Dockerfile"));
    s.ok(&["apply", "-auto-approve", "-no-color"]);

    // What a worker killed between Docker's create and the state's record leaves.
    let container = format!("{prefix}-app");
    let image = format!("{prefix}-app:latest");
    docker_support::docker(&["create", "--name", &container, &image, "sleep", "600"]).unwrap();
    let leftover = inspect("container", &container, "{{.Id}}").unwrap();

    s.write(
        "main.hcl",
        &crashing_stack(&prefix, r#"["sleep", "600"]"#).replace(
            "resource \"docker_container\" \"app\" {",
            "resource \"docker_container\" \"app\" {\n  lifecycle {\n    create_before_destroy = true\n  }",
        ),
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    let running = inspect("container", &container, "{{.Id}}").unwrap();
    assert_ne!(running, leftover, "the leftover was removed");
    assert_eq!(
        s.attr("docker_container.app", "id").as_str(),
        Some(running.as_str()),
        "the running one is the recorded one"
    );
    assert_eq!(
        inspect("container", &container, "{{.State.Running}}").as_deref(),
        Some("true")
    );
    s.ok(&["destroy", "-auto-approve"]);
    assert!(!exists("container", &container));
}
