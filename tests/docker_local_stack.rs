//! examples/local end to end against a real Docker engine: apply builds the
//! app and serves its page from two containers; a changed page rebuilds the
//! image and replaces the containers; destroy leaves nothing behind.

mod common;
mod docker_support;

use common::TestStack;
use docker_support::{Cleanup, app_context, http_get, inspect, leftovers, require_docker, unique};

const STACK: &str = include_str!("../examples/local/main.hcl");

fn fetch(url: &str) -> String {
    // The containers answer as soon as apply returns (it waits for health).
    let r = http_get(url, &[]).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(r.status, 200, "GET {url}: {}", r.body);
    r.body
}

#[test]
fn local_stack_serves_rebuilds_on_change_and_destroys_cleanly() {
    require_docker();
    let prefix = unique("local");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(STACK);
    app_context(&s.file("app"));
    let (blue, green) = (docker_support::free_port(), docker_support::free_port());
    s.write(
        "dumcel.vars.hcl",
        &format!(
            "app_dir = \"app\"\nprefix = \"{prefix}\"\nports = {{ blue = {blue}, green = {green} }}\n"
        ),
    );

    let applied = s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        applied.stdout.contains("docker_image.web: Step 1/"),
        "build output is streamed as progress lines:\n{}",
        applied.all()
    );
    let urls = s.ok(&["output", "-json", "urls"]);
    let urls: serde_json::Value = serde_json::from_str(&urls.stdout).expect("urls are JSON");
    for (name, port) in [("blue", blue), ("green", green)] {
        let url = urls[name].as_str().expect("a URL per container");
        assert_eq!(url, format!("http://127.0.0.1:{port}/"));
        assert!(fetch(url).contains("Hello from a container"), "{name}");
        let container = format!("{prefix}-{name}");
        assert_eq!(
            inspect("container", &container, "{{.State.Running}}").as_deref(),
            Some("true")
        );
        let networks = inspect(
            "container",
            &container,
            "{{json .NetworkSettings.Networks}}",
        )
        .unwrap_or_default();
        assert!(networks.contains(&format!("\"{prefix}\"")), "{networks}");
    }
    let first_ids: Vec<String> = ["blue", "green"]
        .iter()
        .map(|n| inspect("container", &format!("{prefix}-{n}"), "{{.Id}}").unwrap_or_default())
        .collect();

    let same = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        same.code,
        0,
        "nothing changed, nothing to do:\n{}",
        same.all()
    );

    std::fs::write(s.file("app/www/index.html"), "<h1>A new page</h1>\n").unwrap();
    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let context_line = plan
        .stdout
        .lines()
        .find(|l| l.contains("context_hash"))
        .unwrap_or_default();
    assert!(
        context_line.contains("# forces replacement"),
        "the plan names the changed context as the reason:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("docker_container.web[\"blue\"] must be replaced"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 0 to change, 3 to destroy."),
        "{}",
        plan.stdout
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    for (i, name) in ["blue", "green"].iter().enumerate() {
        let url = urls[name].as_str().unwrap_or_default();
        assert!(
            fetch(url).contains("A new page"),
            "{name} serves the new page"
        );
        let id = inspect("container", &format!("{prefix}-{name}"), "{{.Id}}");
        assert_ne!(
            id.as_deref(),
            Some(first_ids[i].as_str()),
            "{name} was replaced"
        );
    }

    s.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(
        leftovers(&prefix),
        Vec::<String>::new(),
        "destroy leaves nothing"
    );
}
