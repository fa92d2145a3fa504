//! The pipeline's default target end to end: signed pushes to the webhook,
//! Kafka (tansu), the worker building each commit on dockerd, pushing it to
//! the local registry and applying the repository's stack
//! (examples/pipeline/deploy-docker) on this Docker engine behind the router
//! (HAProxy, dev/services/router.sh); records in SQLite, no AWS. Every check
//! is what a person would look at: the page the router serves, counted by a
//! request loop through every switch, and the containers Docker runs.

mod common;
#[path = "../../../tests/docker_support/mod.rs"]
mod docker_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::harness::{Daemon, Harness, Target, deliver, free_port, wait_for_port};
use docker_support::load::Load;
use docker_support::{ProjectLeftovers, docker, require_docker, routed_get};
use serde_json::Value;

const MINUTES: Duration = Duration::from_secs(300);
const SECRET: &str = "docker-target-secret";

/// An HTTP endpoint on loopback standing in for a Slack incoming webhook:
/// it keeps the JSON bodies posted to it.
struct Hook {
    url: String,
    posted: Arc<Mutex<Vec<Value>>>,
}

impl Hook {
    async fn start() -> Hook {
        let posted: Arc<Mutex<Vec<Value>>> = Arc::default();
        let keep = posted.clone();
        let app = axum::Router::new().route(
            "/services/T0/B0/secret-part",
            axum::routing::post(move |body: String| async move {
                let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                keep.lock().unwrap().push(value);
                "ok"
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/services/T0/B0/secret-part",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Hook { url, posted }
    }

    /// The texts posted, once `n` have arrived (or after a minute).
    fn texts(&self, n: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let posted = self.posted.lock().unwrap().clone();
            if posted.len() >= n || std::time::Instant::now() > deadline {
                return posted
                    .iter()
                    .map(|p| p["text"].as_str().unwrap_or_default().to_owned())
                    .collect();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

struct Site {
    h: Harness,
    port: u16,
    worker: Daemon,
    _webhook: Daemon,
    deliveries: usize,
    hook: Hook,
}

impl Site {
    /// The webhook and a worker on the Docker host, the repository telling
    /// `Hook` how its pushes end.
    async fn start() -> Site {
        require_docker();
        let port = free_port();
        let mut h = Harness::on(
            Target::Docker,
            &format!(
                "webhook {{\n  listen = \"127.0.0.1:{port}\"\n  secret_env = \"E2E_SECRET\"\n}}"
            ),
        );
        h.edit_config(
            "  previews  = true\n",
            "  previews  = true\n  notify {\n    url_env = \"E2E_NOTIFY_URL\"\n    on = [\"succeeded\", \"rolled_back\", \"destroyed\"]\n  }\n",
        );
        let hook = Hook::start().await;
        let mut webhook = h.daemon("webhook", &[("E2E_SECRET", SECRET)]);
        wait_for_port(port, &mut webhook);
        let worker = h.daemon("worker", &[("E2E_NOTIFY_URL", &hook.url)]);
        // The notifier starts at the events topic's end: no push before it
        // follows the topic.
        let deadline = std::time::Instant::now() + MINUTES;
        while !worker.log().contains("notifier following the events topic") {
            assert!(std::time::Instant::now() < deadline, "{}", worker.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        Site {
            h,
            port,
            worker,
            _webhook: webhook,
            deliveries: 0,
            hook,
        }
    }

    fn production(&self) -> String {
        format!("{}.localhost", self.h.project)
    }

    /// Delivers a push of `sha` to `branch` and waits for its pipeline's end;
    /// this push's events.
    async fn push(&mut self, branch: &str, sha: &str, deleted: bool) -> Vec<String> {
        let clone = "https://github.com/dumcel-test/x.git";
        let body = if deleted {
            common::branch_deleted(&self.h.repository, branch, sha, clone)
        } else {
            common::branch_push(&self.h.repository, branch, sha, clone)
        };
        self.deliveries += 1;
        let delivery = format!("{}-{}", self.h.project, self.deliveries);
        assert_eq!(
            deliver(self.port, SECRET.as_bytes(), &delivery, &body).await,
            202
        );
        let of_delivery = |e: &[Value]| -> Vec<String> {
            e.iter()
                .filter(|ev| ev["delivery"] == delivery.as_str())
                .filter_map(|ev| ev["event"].as_str().map(str::to_owned))
                .collect()
        };
        let ends = [
            "deploy_succeeded",
            "rolled_back",
            "preview_destroyed",
            "build_failed",
            "superseded",
            "skipped",
        ];
        // A failed deploy ends the pipeline unless a rollback follows it.
        let failed_at = std::cell::Cell::new(None::<std::time::Instant>);
        let events = self.h.events_until(&self.worker, MINUTES, |e: &[Value]| {
            let names = of_delivery(e);
            match names.last().map(String::as_str) {
                Some("deploy_failed") => {
                    let since = failed_at.get().unwrap_or_else(std::time::Instant::now);
                    failed_at.set(Some(since));
                    since.elapsed() > Duration::from_secs(10)
                }
                Some(last) => ends.contains(&last),
                None => false,
            }
        });
        of_delivery(&events)
    }

    /// The images of the containers running for `environment`.
    fn running(&self, environment: &str) -> Vec<String> {
        docker(&[
            "ps",
            "--filter",
            &format!("label=dumcel.project={}", self.h.project),
            "--filter",
            &format!("label=dumcel.environment={environment}"),
            "--format",
            "{{.Image}}",
        ])
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
    }
}

fn page(h: &Harness, branch: &str, text: &str) -> String {
    h.commit(branch, "www/index.html", &format!("{text}\n"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_push_goes_live_without_a_failed_request_and_a_sick_one_never_does() {
    let mut site = Site::start().await;
    let _leftovers = ProjectLeftovers(vec![site.h.project.clone()]);
    let host = site.production();

    let first = page(&site.h, "main", "release 1");
    let events = site.push("main", &first, false).await;
    assert_eq!(
        events,
        [
            "cloned",
            "build_started",
            "build_succeeded",
            "image_pushed",
            "deploy_started",
            "deploy_succeeded"
        ]
    );
    assert_eq!(routed_get(&host).unwrap().body.trim(), "release 1");

    // Two more releases, each live in turn, watched by a request loop.
    let load = Load::start(&host);
    let mut shas = vec![first];
    for release in ["release 2", "release 3"] {
        let sha = page(&site.h, "main", release);
        let events = site.push("main", &sha, false).await;
        assert_eq!(
            events.last().map(String::as_str),
            Some("deploy_succeeded"),
            "{events:?}"
        );
        assert_eq!(routed_get(&host).unwrap().body.trim(), release);
        assert_eq!(
            site.running("production"),
            [site.h.image(&sha)],
            "one container, the new one"
        );
        shas.push(sha);
    }
    let seen = load.finish();
    eprintln!(
        "two releases: {} requests at {:.0}/s, {} failed, pages {:?}",
        seen.requests,
        seen.per_second,
        seen.failures.len(),
        seen.pages
    );
    assert!(seen.failures.is_empty(), "{seen:?}");
    assert!(seen.per_second >= 20.0, "{seen:?}");
    assert_eq!(seen.pages, ["release 1", "release 2", "release 3"]);

    // A push whose container never passes its health check (the server
    // serves a directory with no index page: 404): never served; the worker
    // reports why, with the container's logs, and rolls back to release 3.
    let load = Load::start(&host);
    let dockerfile = std::fs::read_to_string(site.h.dir.path().join("work/Dockerfile")).unwrap();
    let sick = site.h.commit(
        "main",
        "Dockerfile",
        &dockerfile.replace("-h\", \"/www", "-h\", \"/bin"),
    );
    let events = site.push("main", &sick, false).await;
    let seen = load.finish();
    assert_eq!(
        events[events.len() - 2..],
        ["deploy_failed", "rolled_back"],
        "{events:?}"
    );
    assert!(seen.failures.is_empty(), "{seen:?}");
    assert_eq!(seen.pages, ["release 3"]);
    assert_eq!(site.running("production"), [site.h.image(&shas[2])]);
    let all = site.h.events_until(&site.worker, MINUTES, |_| true);
    let failed = all
        .iter()
        .find(|e| e["sha"] == sick.as_str() && e["event"] == "deploy_failed")
        .expect("the failure event");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("is unhealthy"), "{reason}");
    assert!(
        reason.contains("404"),
        "the container's last log lines: {reason}"
    );
    let rolled = all
        .iter()
        .find(|e| e["sha"] == sick.as_str() && e["event"] == "rolled_back")
        .unwrap();
    assert_eq!(rolled["to_sha"], shas[2].as_str());

    // Main is fixed: release 3's page again, in a new image, switched to
    // under the request loop too.
    let load = Load::start(&host);
    let fixed = site.h.commit("main", "Dockerfile", &dockerfile);
    let events = site.push("main", &fixed, false).await;
    let seen = load.finish();
    assert!(seen.failures.is_empty(), "{seen:?}");
    assert!(seen.per_second >= 20.0, "{seen:?}");
    assert_eq!(
        events.last().map(String::as_str),
        Some("deploy_succeeded"),
        "{events:?}"
    );
    assert_eq!(site.running("production"), [site.h.image(&fixed)]);
    shas.push(fixed);

    // A branch gets its own URL, and loses it with the branch.
    let preview_host = format!("feature--{host}");
    let preview = page(&site.h, "feature", "a preview");
    let events = site.push("feature", &preview, false).await;
    assert_eq!(
        events.last().map(String::as_str),
        Some("deploy_succeeded"),
        "{events:?}"
    );
    assert_eq!(routed_get(&preview_host).unwrap().body.trim(), "a preview");
    assert_eq!(routed_get(&host).unwrap().body.trim(), "release 3");
    site.h.delete_branch("feature");
    let events = site.push("feature", &preview, true).await;
    assert_eq!(
        events.last().map(String::as_str),
        Some("preview_destroyed"),
        "{events:?}"
    );
    assert_eq!(routed_get(&preview_host).unwrap().status, 404);
    assert!(site.running("preview-feature").is_empty());
    assert_eq!(routed_get(&host).unwrap().body.trim(), "release 3");

    // The records are in the worker's SQLite file, as a person would read them.
    let db = site.h.dir.path().join("daemon/deployments.sqlite3");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; print('\\n'.join(f'{r[0]} {r[1]}' for r in sqlite3.connect(sys.argv[1]).execute(\"select sha, outcome from pushes where environment = 'production' order by started_at\")))",
        ])
        .arg(&db)
        .output()
        .unwrap();
    let records = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected: Vec<String> = [&shas[0], &shas[1], &shas[2]]
        .into_iter()
        .map(|s| format!("{s} succeeded"))
        .chain([
            format!("{sick} rolled_back"),
            format!("{} succeeded", shas[3]),
        ])
        .collect();
    assert_eq!(records.lines().collect::<Vec<_>>(), expected, "{records}");
    // Each with the commit message and pusher of GitHub's delivery.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; print(sorted(set(f'{r[0]} / {r[1]}' for r in sqlite3.connect(sys.argv[1]).execute(\"select message, pusher from pushes where outcome != 'destroyed'\"))))",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['Initial commit / user:Codertocat']"
    );

    // The repository's webhook was told how each push ended, once each, for
    // the outcomes it asked for; the URL (a secret) is in no log or event.
    let p = &site.h.project;
    let short = |sha: &str| sha[..7].to_owned();
    let link = format!("<https://{host}/|{host}>");
    let mut expected: Vec<String> = shas[..3]
        .iter()
        .map(|s| format!("*{p}* production: deployed `{}` (main) {link}", short(s)))
        .collect();
    expected.push(format!(
        "*{p}* production: rolled back from `{}` (main)\n> ",
        short(&sick)
    ));
    expected.push(format!(
        "*{p}* production: deployed `{}` (main) {link}",
        short(&shas[3])
    ));
    expected.push(format!(
        "*{p}* preview-feature: deployed `{}` (feature) <https://{preview_host}/|{preview_host}>",
        short(&preview)
    ));
    expected.push(format!(
        "*{p}* preview-feature: destroyed the preview at `{}` (feature)",
        short(&preview)
    ));
    let mut texts = site.hook.texts(expected.len());
    // The rollback's reason is the container's log: only its start is fixed.
    if let Some(t) = texts.get_mut(3)
        && let Some(at) = t.find("\n> ")
    {
        assert!(t[at..].contains("is unhealthy"), "{t}");
        t.truncate(at + 3);
    }
    assert_eq!(texts, expected);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        site.hook.texts(0).len(),
        expected.len(),
        "nothing posted twice"
    );
    let secret = "secret-part";
    assert!(!site.worker.log().contains(secret));
    assert!(
        !serde_json::to_string(&site.h.all_events())
            .unwrap()
            .contains(secret)
    );
}
