//! examples/local applied exactly as its instructions say, against a real
//! Docker engine: examples/local and examples/app copied side by side as they
//! are in the repository, nothing prepared, `dumcel apply -auto-approve` in
//! the copy of examples/local with no variables. It builds the app `FROM
//! busybox` (the local image dev/services/docker.sh builds; nothing is pulled)
//! and serves its page from two containers; a changed page rebuilds the image
//! and replaces the containers; destroy leaves nothing behind.
//!
//! With no variables the stack uses its defaults: objects named
//! `dumcel-demo*`, ports 18081 and 18082. Two runs at once (this test in two
//! checkouts, or dev/demo.sh) would collide, so each holds an exclusive lock
//! on `$TMPDIR/dumcel-demo.lock` while the stack exists.

mod common;
mod docker_support;

use std::path::PathBuf;

use common::TestStack;
use docker_support::{copy_dir, examples, http_get, inspect, leftovers, require_docker};

/// The stack's default `prefix`: every object it makes is named after it.
const PREFIX: &str = "dumcel-demo";

fn fetch(url: &str) -> String {
    // The containers answer as soon as apply returns (it waits for health).
    let r = http_get(url, &[]).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(r.status, 200, "GET {url}: {}", r.body);
    r.body
}

/// The Docker objects named after the default prefix (not the registry
/// images of dev/pipeline/local.sh, `…/dumcel-demo/<project>`).
fn demo_objects() -> Vec<String> {
    leftovers(PREFIX)
        .into_iter()
        .filter(|item| {
            item.split_once(' ')
                .is_some_and(|(_, n)| n.starts_with(PREFIX))
        })
        .collect()
}

/// Holds the lock dev/demo.sh also takes, and destroys the stack when
/// dropped, so that a failing run leaves nothing behind.
struct DemoRun {
    _lock: std::fs::File,
    local: PathBuf,
}

impl DemoRun {
    fn start() -> DemoRun {
        let path = std::env::temp_dir().join("dumcel-demo.lock");
        let lock = std::fs::File::create(&path)
            .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        lock.lock()
            .unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
        // Under the lock nothing else should own these names: whatever is
        // there is someone's demo left running (not ours to remove).
        let found = demo_objects();
        assert!(
            found.is_empty(),
            "Docker objects named {PREFIX}* already exist, and this test applies examples/local with its defaults, which makes them: {found:?}\n\
             Destroy that demo (`dumcel destroy` in its directory), or remove them (docker rm -f {PREFIX}-blue {PREFIX}-green; docker network rm {PREFIX}; docker volume rm {PREFIX}-data; docker rmi {PREFIX}-web)."
        );
        DemoRun {
            _lock: lock,
            local: PathBuf::new(),
        }
    }
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        if !self.local.as_os_str().is_empty() && !demo_objects().is_empty() {
            let _ = dumcel(&self.local, &["destroy", "-auto-approve", "-no-color"]);
        }
        for item in demo_objects() {
            if let Some((kind, name)) = item.split_once(' ') {
                let _ = match kind {
                    "container" => docker_support::docker(&["rm", "-f", name]),
                    "network" => docker_support::docker(&["network", "rm", name]),
                    "volume" => docker_support::docker(&["volume", "rm", "-f", name]),
                    _ => docker_support::docker(&["rmi", "-f", name]),
                };
            }
        }
    }
}

use common::{ok_in as ok, run_in as dumcel};

#[test]
fn local_example_applies_as_written_serves_rebuilds_on_change_and_destroys_cleanly() {
    require_docker();
    let mut run = DemoRun::start();
    // examples/local beside examples/app, as in the repository: the stack
    // finds the app at its default app_dir, "../app".
    let root = TestStack::empty();
    copy_dir(&examples().join("local"), &root.file("local"));
    copy_dir(&examples().join("app"), &root.file("app"));
    let local = root.file("local");
    run.local = local.clone();

    let applied = ok(&local, &["apply", "-auto-approve", "-no-color"]);
    assert!(
        applied.stdout.contains("docker_image.web: Step 1/"),
        "build output is streamed as progress lines:\n{}",
        applied.all()
    );
    // The instructions' next step: curl "$(dumcel output -raw blue_url)".
    let blue_url = ok(&local, &["output", "-raw", "blue_url"]).stdout;
    assert_eq!(blue_url, "http://127.0.0.1:18081/");
    assert!(fetch(&blue_url).contains("Hello from a container"));

    let urls = ok(&local, &["output", "-json", "urls"]);
    let urls: serde_json::Value = serde_json::from_str(&urls.stdout).expect("urls are JSON");
    for (name, port) in [("blue", 18081), ("green", 18082)] {
        let url = urls[name].as_str().expect("a URL per container");
        assert_eq!(url, format!("http://127.0.0.1:{port}/"));
        assert!(fetch(url).contains("Hello from a container"), "{name}");
        let container = format!("{PREFIX}-{name}");
        assert_eq!(
            inspect("container", &container, "{{.State.Health.Status}}").as_deref(),
            Some("healthy"),
            "{name}'s health check (wget in the busybox image) passes"
        );
        let networks = inspect(
            "container",
            &container,
            "{{json .NetworkSettings.Networks}}",
        )
        .unwrap_or_default();
        assert!(networks.contains(&format!("\"{PREFIX}\"")), "{networks}");
    }
    let first_ids: Vec<String> = ["blue", "green"]
        .iter()
        .map(|n| inspect("container", &format!("{PREFIX}-{n}"), "{{.Id}}").unwrap_or_default())
        .collect();

    let same = dumcel(&local, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        same.code,
        0,
        "nothing changed, nothing to do:\n{}",
        same.all()
    );

    std::fs::write(root.file("app/www/index.html"), "<h1>A new page</h1>\n").unwrap();
    let plan = dumcel(&local, &["plan", "-detailed-exitcode", "-no-color"]);
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
    ok(&local, &["apply", "-auto-approve", "-no-color"]);
    for (i, name) in ["blue", "green"].iter().enumerate() {
        let url = urls[name].as_str().unwrap_or_default();
        assert!(
            fetch(url).contains("A new page"),
            "{name} serves the new page"
        );
        let id = inspect("container", &format!("{PREFIX}-{name}"), "{{.Id}}");
        assert_ne!(
            id.as_deref(),
            Some(first_ids[i].as_str()),
            "{name} was replaced"
        );
    }

    ok(&local, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(
        demo_objects(),
        Vec::<String>::new(),
        "destroy leaves nothing"
    );
}
