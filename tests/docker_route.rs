//! The Docker-host rollout, against a real Docker engine and the router
//! (HAProxy, started by dev/services/router.sh): a container replaced before it
//! is destroyed, gated on its health check, with a docker_route that switches
//! to the new one before the old one goes. A request loop runs through every
//! switch and counts what fails.

mod common;
mod docker_support;

use common::TestStack;
use docker_support::load::Load;
use docker_support::{
    Cleanup, app_context, docker, remove_route, require_docker, routed_get, unique,
};

fn stack(prefix: &str) -> String {
    format!(
        r#"
resource "docker_image" "web" {{
  name = "{prefix}-web:latest"
  build {{
    context = "app"
  }}
}}

resource "docker_container" "web" {{
  name  = "{prefix}-web-${{substr(docker_image.web.id, 7, 12)}}"
  image = docker_image.web.id
  ports {{
    internal = 8080
    ip       = "127.0.0.1"
  }}
  healthcheck {{
    test     = ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
    interval = "1s"
    timeout  = "2s"
    retries  = 3
  }}
  wait         = true
  wait_timeout = 30
  lifecycle {{
    create_before_destroy = true
  }}
}}

resource "docker_route" "web" {{
  host          = "{prefix}.localhost"
  container     = docker_container.web.name
  port          = 8080
  drain_timeout = 1
}}
"#
    )
}

fn page(s: &TestStack, text: &str) {
    s.write("app/www/index.html", &format!("{text}\n"));
}

fn running_containers(prefix: &str) -> Vec<String> {
    docker(&[
        "ps",
        "--filter",
        &format!("name={prefix}-web-"),
        "--format",
        "{{.Names}}",
    ])
    .unwrap_or_default()
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn each_release_is_served_without_a_failed_request_and_a_sick_one_never_is() {
    require_docker();
    let prefix = unique("route");
    let _cleanup = Cleanup(prefix.clone());
    let host = format!("{prefix}.localhost");
    let s = TestStack::new(&stack(&prefix));
    app_context(&s.file("app"));

    page(&s, "release 1");
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    let first = routed_get(&host).expect("the router answers");
    assert_eq!((first.status, first.body.trim()), (200, "release 1"));

    for release in ["release 2", "release 3"] {
        page(&s, release);
        let load = Load::start(&host);
        s.ok(&["apply", "-auto-approve", "-no-color"]);
        let seen = load.finish();
        eprintln!(
            "{release}: {} requests at {:.0}/s during the switch, {} failed, pages {:?}",
            seen.requests,
            seen.per_second,
            seen.failures.len(),
            seen.pages
        );
        assert!(
            seen.failures.is_empty(),
            "{release}: {} of {} requests failed: {:?}",
            seen.failures.len(),
            seen.requests,
            seen.failures
        );
        assert!(seen.per_second >= 20.0, "{release}: {seen:?}");
        assert_eq!(
            seen.pages.last().map(String::as_str),
            Some(release),
            "{seen:?}"
        );
        assert_eq!(
            running_containers(&prefix).len(),
            1,
            "the old container is gone"
        );
    }

    // A route removed behind dumcel's back is drift, and is put back.
    remove_route(&host);
    assert_eq!(routed_get(&host).unwrap().status, 404);
    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout.contains("docker_route.web will be created"),
        "{}",
        plan.stdout
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(routed_get(&host).unwrap().body.trim(), "release 3");

    // A release whose health check fails (no index page: 404) never takes
    // traffic; the error shows why, and release 3 keeps serving.
    std::fs::remove_file(s.file("app/www/index.html")).unwrap();
    let load = Load::start(&host);
    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    let seen = load.finish();
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("is unhealthy"), "{}", r.all());
    assert!(
        r.stderr.contains("404"),
        "the container's last log lines are in the error:\n{}",
        r.all()
    );
    assert!(seen.failures.is_empty(), "{seen:?}");
    assert_eq!(seen.pages, ["release 3"]);
    assert_eq!(
        running_containers(&prefix).len(),
        1,
        "the sick one was removed"
    );

    s.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(
        routed_get(&host).unwrap().status,
        404,
        "the host is not served"
    );
    assert!(running_containers(&prefix).is_empty());
}
