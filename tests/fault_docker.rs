//! Crashes and interrupts of real applies on a local Docker engine, state in
//! the local backend: `kill -9` after k completed operations of a create and
//! a destroy of 48 networks and volumes (Docker's default address pools hold about 30 networks), and Ctrl-C. After each fault the
//! next command runs, and the world is checked through Docker (the docker
//! CLI, as a person would): every object that exists is in the state, the
//! state loads, a final apply converges and destroy leaves nothing.

mod common;
mod docker_support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::TestStack;
use docker_support::{Cleanup, docker, require_docker, unique};

const NETWORKS: usize = 8;
const VOLUMES: usize = 40;

fn stack(prefix: &str) -> String {
    format!(
        r#"resource "docker_network" "n" {{
  count = {NETWORKS}
  name  = "{prefix}-n-${{count.index}}"
}}

resource "docker_volume" "v" {{
  count = {VOLUMES}
  name  = "{prefix}-v-${{count.index}}"
}}
"#
    )
}

/// Names of this test's networks and volumes that exist, asked of Docker.
fn existing(prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for list in [
        ["network", "ls", "--format", "{{.Name}}"],
        ["volume", "ls", "--format", "{{.Name}}"],
    ] {
        let names = docker(&list).expect("docker answers");
        out.extend(
            names
                .lines()
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned),
        );
    }
    out
}

fn recorded(s: &TestStack) -> BTreeSet<String> {
    s.state()["resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, r)| r["attributes"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// Starts dumcel and returns once `k` operations have completed (or it ended).
fn run_until(s: &TestStack, args: &[&str], k: usize) -> (Child, usize) {
    let mut child = s
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dumcel");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut done = 0;
    while done < k && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains(" complete after") => done += 1,
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    (child, done)
}

fn assert_nothing_orphaned(s: &TestStack, prefix: &str, what: &str) {
    let plan = s.run(&["plan", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "{what}: plan after the fault:\n{}",
        plan.all()
    );
    let exists = existing(prefix);
    let known = recorded(s);
    let orphans: Vec<&String> = exists.difference(&known).collect();
    assert!(
        orphans.is_empty(),
        "{what}: objects exist that the state does not record: {orphans:?}\n{}",
        plan.all()
    );
}

#[test]
fn kill_9_and_ctrl_c_on_docker_objects_orphan_nothing() {
    require_docker();
    let prefix = unique("fault");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&stack(&prefix));

    for k in [3, 12, 9] {
        let (mut child, done) = run_until(&s, &["apply", "-auto-approve", "-no-color"], k);
        child.kill().expect("kill -9");
        child.wait().unwrap();
        assert_eq!(done, k, "the kill lands mid-apply");
        assert_nothing_orphaned(&s, &prefix, &format!("apply, kill -9 after {k}"));
    }
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(existing(&prefix).len(), NETWORKS + VOLUMES);

    // Ctrl-C during destroy: what is in flight finishes and is recorded.
    let (child, done) = run_until(&s, &["destroy", "-auto-approve", "-no-color"], 10);
    assert_eq!(done, 10);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Interrupt received."), "{stderr}");
    assert_eq!(
        recorded(&s),
        existing(&prefix),
        "the state records exactly what exists, with no recovery needed"
    );
    assert!(!existing(&prefix).is_empty(), "it stopped starting deletes");

    let (mut child, done) = run_until(&s, &["destroy", "-auto-approve", "-no-color"], 5);
    child.kill().expect("kill -9");
    child.wait().unwrap();
    assert_eq!(done, 5);
    assert_nothing_orphaned(&s, &prefix, "destroy, kill -9 after 5");
    s.ok(&["destroy", "-auto-approve"]);
    assert!(
        existing(&prefix).is_empty(),
        "destroy leaves nothing behind"
    );
}
