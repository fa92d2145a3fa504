//! The dashboard end to end, in a real browser (Debian's chromium driven by
//! Playwright: tests/e2e/dashboard.mjs), against the real daemons on the
//! Docker-host target and a real OpenID Connect provider: a person signs
//! in, sees a push appear live, follows its build log, rolls production
//! back from the dashboard (the site serves the previous release again,
//! checked through the router), approves a branch's stack change shown as
//! its plan (the preview then serves the branch) and signs out; a person
//! without access sees
//! neither the project nor its actions, and the API refuses them (403).

mod common;
#[path = "../../../tests/docker_support/mod.rs"]
mod docker_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::harness::{Daemon, Harness, Message, SIGNING_KEY, Target, free_port, wait_for_port};
use common::oidc::{CLIENT_SECRET, Provider};
use docker_support::{ProjectLeftovers, require_docker, routed_get};
use serde_json::Value;

/// Queues a push of `sha` to main as the webhook would, and waits for its
/// deploy to succeed.
async fn released(h: &Harness, worker: &Daemon, sha: &str) {
    let push = h.push_of("main", sha, false);
    h.produce(&Message::signed(&push, SIGNING_KEY.as_bytes()))
        .await;
    let events = h.events_until(worker, Duration::from_secs(300), |events| {
        events.iter().any(|e| {
            e["delivery"] == push.delivery.as_str()
                && [
                    "deploy_succeeded",
                    "deploy_failed",
                    "build_failed",
                    "rolled_back",
                ]
                .contains(&e["event"].as_str().unwrap_or_default())
        })
    });
    let last: Vec<&Value> = events
        .iter()
        .filter(|e| e["delivery"] == push.delivery.as_str())
        .collect();
    assert_eq!(
        last.last().map(|e| e["event"].clone()),
        Some("deploy_succeeded".into()),
        "{last:?}\n{}",
        worker.log()
    );
}

/// What the router serves at `host`, once it serves `expected` (within a
/// few seconds: the last record write and the route switch are not one).
fn serves(host: &str, expected: &str) -> String {
    let mut body = String::new();
    for _ in 0..50 {
        body = routed_get(host)
            .map(|r| r.body.trim().to_owned())
            .unwrap_or_default();
        if body == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn people_watch_and_steer_deployments_in_the_dashboard() {
    require_docker();
    let playwright = std::env::var("DUMCEL_PLAYWRIGHT").unwrap_or_else(|_| {
        panic!("DUMCEL_PLAYWRIGHT is not set: dev/test.sh sets it from dev/services/browser.sh")
    });
    let port = free_port();
    let serve_url = format!("http://127.0.0.1:{port}");
    let logs = tempfile::tempdir().unwrap();
    let provider = Provider::start(
        &format!("{serve_url}/auth/callback"),
        r#"{"alice": ["octo"], "bob": ["elsewhere"]}"#,
        &logs.path().join("oidc.log"),
    );
    let mut h = Harness::on(Target::Docker, &provider.api_block(port));
    h.edit_config(
        "  previews  = true\n",
        "  previews  = true\n  access {\n    view    = [\"group:octo\"]\n    deploy  = [\"user:alice\"]\n    approve = [\"user:alice\"]\n  }\n",
    );
    let host = format!("{}.localhost", h.project);
    let _leftovers = ProjectLeftovers(vec![h.project.clone()]);
    let worker = h.worker();
    let mut serve = h.daemon("serve", &[("E2E_SIGNIN_SECRET", CLIENT_SECRET)]);
    wait_for_port(port, &mut serve);

    let first = h.commit("main", "www/index.html", "release 1\n");
    released(&h, &worker, &first).await;
    assert_eq!(serves(&host, "release 1"), "release 1");

    let screenshots = std::env::var("DUMCEL_SCREENSHOTS").unwrap_or_default();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/dashboard.mjs");
    let browser_log = logs.path().join("browser.log");
    let mut node = Command::new("node")
        .arg(script)
        .env("DUMCEL_PLAYWRIGHT", &playwright)
        .env("SERVE_URL", &serve_url)
        .env("PROJECT", &h.project)
        .env("FIRST_SHA", &first)
        .env("SCREENSHOTS", &screenshots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&browser_log).unwrap())
        .spawn()
        .expect("node runs the browser script");
    let mut answers = node.stdin.take().unwrap();
    let asks = BufReader::new(node.stdout.take().unwrap());
    let mut said = Vec::new();
    let mut second = String::new();
    // The script's questions, answered in turn; blocking reads on this
    // test's own thread (the daemons are other processes).
    let mut lines = asks.lines();
    while let Some(Ok(line)) = tokio::task::block_in_place(|| lines.next()) {
        said.push(line.clone());
        let answer = match line.strip_prefix("ask ") {
            None => continue,
            // A push whose build takes a while, so that its log is followed.
            Some("push") => {
                h.commit_slow_build(6);
                second = h.commit("main", "www/index.html", "release 2\n");
                let push = h.push_of("main", &second, false);
                h.produce(&Message::signed(&push, SIGNING_KEY.as_bytes()))
                    .await;
                second.clone()
            }
            Some("released") => {
                assert_eq!(serves(&host, "release 2"), "release 2");
                "ok".into()
            }
            // The rollback the person confirmed: the site serves release 1
            // again, as the router answers.
            Some("rolled-back") => {
                assert_eq!(serves(&host, "release 1"), "release 1");
                "ok".into()
            }
            // A branch that changes the stack (an output) and its page.
            Some("stack-change") => {
                let stack = format!(
                    "{}\noutput \"note\" {{\n  value = \"a reviewed change\"\n}}\n",
                    h.stack_text()
                );
                let feature = h.commit_files(
                    "feature",
                    &[
                        ("deploy/stack.hcl", &stack),
                        ("www/index.html", "feature 1\n"),
                    ],
                    &[],
                );
                let push = h.push_of("feature", &feature, false);
                h.produce(&Message::signed(&push, SIGNING_KEY.as_bytes()))
                    .await;
                feature
            }
            // Approved on the dashboard: the preview serves the branch.
            Some("approved") => {
                let preview = format!("feature--{}.localhost", h.project);
                assert_eq!(serves(&preview, "feature 1"), "feature 1");
                "ok".into()
            }
            Some(other) => panic!("the script asked {other:?}"),
        };
        writeln!(answers, "{answer}").unwrap();
    }
    let status = tokio::task::block_in_place(|| node.wait()).unwrap();
    let browser = std::fs::read_to_string(&browser_log).unwrap_or_default();
    assert!(
        status.success() && said.last().map(String::as_str) == Some("done"),
        "the browser script failed ({status}):\n{}\n{browser}\nserve:\n{}\nworker:\n{}",
        said.join("\n"),
        serve.log(),
        worker.log()
    );
    assert!(!second.is_empty(), "the script never asked for a push");
    // Nothing the person's browser held reaches serve's log.
    let log = serve.log();
    assert!(log.contains("signed in"), "{log}");
    assert!(!log.contains(CLIENT_SECRET), "{log}");
}
