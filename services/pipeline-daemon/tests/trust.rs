//! The pipeline's trust boundaries and intent on the Docker-host target, end
//! to end with the real binary: a hostile branch stack trying to read the
//! worker's environment and files (a canary secret must appear nowhere), and
//! what a person does to steer production (force-push back, rollback,
//! redeploy, status), from the command line and through the API. Replayed deliveries, forged messages and slow clients
//! are in tests/webhook.rs and tests/worker.rs.

mod common;
#[path = "../../../tests/docker_support/mod.rs"]
mod docker_support;

use std::path::Path;
use std::time::Duration;

use common::harness::{Daemon, Harness, Message, SIGNING_KEY, Target};
use docker_support::{ProjectLeftovers, docker, require_docker, routed_get};
use dumcel_pipeline::push::Push;
use serde_json::Value;

const MINUTES: Duration = Duration::from_secs(300);

/// What a pipeline's events end with.
const ENDS: [&str; 7] = [
    "deploy_succeeded",
    "rolled_back",
    "preview_destroyed",
    "build_failed",
    "superseded",
    "skipped",
    "deploy_failed",
];

/// The events of `delivery` once its pipeline ended.
fn ended(h: &Harness, worker: &Daemon, delivery: &str) -> Vec<String> {
    let of = |e: &[Value]| -> Vec<String> {
        e.iter()
            .filter(|ev| ev["delivery"] == delivery)
            .filter_map(|ev| ev["event"].as_str().map(str::to_owned))
            .collect()
    };
    let events = h.events_until(worker, MINUTES, |e| {
        of(e)
            .last()
            .is_some_and(|last| ENDS.contains(&last.as_str()))
    });
    of(&events)
}

/// Waits for `delivery`'s `deploy_failed`: its reason, and every event seen.
fn deploy_failed(h: &Harness, worker: &Daemon, delivery: &str) -> (String, Vec<Value>) {
    let failed = |ev: &&Value| ev["delivery"] == delivery && ev["event"] == "deploy_failed";
    let events = h.events_until(worker, MINUTES, |e| e.iter().any(|ev| failed(&ev)));
    let reason = events.iter().find(failed).unwrap()["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (reason, events)
}

/// Queues a push of `sha` to `branch` as the webhook would; its delivery id.
async fn push(h: &Harness, branch: &str, sha: &str) -> String {
    let push = h.push_of(branch, sha, false);
    h.produce(&Message::signed(&push, SIGNING_KEY.as_bytes()))
        .await;
    push.delivery
}

/// POSTs an action with `body` as `token`: its 202 answer.
async fn act(http: &reqwest::Client, token: &str, url: String, body: Value) -> Value {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 202, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The delivery id a command printed (`... as <id>`).
fn queued_as(output: &str) -> String {
    output
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until `environment`'s lane let its lease go (its last push is
/// recorded); the line `status` prints for it then.
fn settled(h: &Harness, environment: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, out) = h.command("status", &[&h.project]);
        assert!(ok, "{out}");
        if let Some(line) = out
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(environment))
            && line.trim_end().ends_with("free")
        {
            return line.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never settled:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn served(host: &str) -> String {
    routed_get(host)
        .map(|r| r.body.trim().to_owned())
        .unwrap_or_default()
}

/// Every file under `dir`, read as text (lossy), joined.
fn everything_under(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.push_str(&everything_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_branch_stack_reads_nothing_and_no_secret_leaves_the_worker() {
    require_docker();
    let mut h = Harness::on(Target::Docker, "");
    let preview_host = format!("evil--{}.localhost", h.project);
    let _leftovers = ProjectLeftovers(vec![h.project.clone()]);
    let canary = format!("canary-{}", common::harness::unique("secret"));
    let canary_file = h.dir.path().join("worker-secret.txt");
    std::fs::write(&canary_file, format!("FILE_{canary}\n")).unwrap();
    let worker = h.daemon("worker", &[("DUMCEL_TEST_CANARY", canary.as_str())]);

    // A branch whose stack reads the worker's environment, a file outside
    // the checkout through a committed symlink, and writes a local file.
    let hostile = format!(
        "{}\n{}",
        h.stack_text(),
        r#"
output "environ" {
  value = file("/proc/self/environ")
}
output "linked" {
  value = file("leak")
}
"#
    );
    let sha = h.commit_files(
        "evil",
        &[
            ("deploy/stack.hcl", &hostile),
            ("www/index.html", "evil preview\n"),
        ],
        &[("deploy/leak", &canary_file)],
    );

    // The branch changes the stack, so it is only planned, waiting for
    // approval, and the sandbox refuses even that before anything is read:
    // nothing is deployed.
    let delivery = push(&h, "evil", &sha).await;
    let (reason, events) = deploy_failed(&h, &worker, &delivery);
    assert!(
        reason.starts_with("planning the branch's stack"),
        "{reason}"
    );
    assert!(reason.contains("is outside the checkout"), "{reason}");
    assert!(
        !events
            .iter()
            .any(|ev| ev["delivery"] == delivery.as_str() && ev["event"] == "deploy_started"),
        "{events:?}"
    );
    assert_ne!(served(&preview_host), "evil preview");
    settled(&h, "preview-evil");

    // Approved by a person: its own stack is applied, and the sandbox
    // refuses it before anything is read or applied.
    let (ok, out) = h.command("approve", &[&h.project, &sha]);
    assert!(ok, "{out}");
    let (ok, out) = h.command("redeploy", &[&h.project, "preview-evil"]);
    assert!(ok, "{out}");
    let delivery = queued_as(&out);
    let (reason, _) = deploy_failed(&h, &worker, &delivery);
    assert!(reason.contains("is outside the checkout"), "{reason}");
    assert!(
        reason.contains("stack.hcl"),
        "the message names the file: {reason}"
    );
    assert_ne!(
        served(&preview_host),
        "evil preview",
        "nothing was deployed"
    );

    // The canary is nowhere: not in any event, dead letter, log line,
    // record, state file or container.
    let mut seen = String::new();
    seen.push_str(&serde_json::to_string(&h.all_events()).unwrap());
    seen.push_str(&serde_json::to_string(&h.dead_letters()).unwrap());
    seen.push_str(&worker.log());
    seen.push_str(&everything_under(&h.dir.path().join("daemon")));
    let filter = format!("label=dumcel.project={}", h.project);
    for id in docker(&["ps", "-aq", "--filter", &filter]).unwrap().lines() {
        seen.push_str(&docker(&["inspect", id]).unwrap());
    }
    assert!(!seen.is_empty());
    assert!(!seen.contains(&canary), "the canary leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn production_moves_forward_or_on_purpose_force_push_rollback_redeploy_and_status() {
    require_docker();
    let mut h = Harness::on(Target::Docker, "");
    let host = format!("{}.localhost", h.project);
    let _leftovers = ProjectLeftovers(vec![h.project.clone()]);
    let worker = h.worker();

    let a = h.commit("main", "www/index.html", "release a\n");
    let first = push(&h, "main", &a).await;
    assert_eq!(
        ended(&h, &worker, &first).last().unwrap(),
        "deploy_succeeded"
    );
    let b = h.commit("main", "www/index.html", "release b\n");
    let second = push(&h, "main", &b).await;
    assert_eq!(
        ended(&h, &worker, &second).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release b");

    // A redelivery of a push that ended is a no-op; a late push of a commit
    // the branch has left behind is superseded, never deployed over b.
    let again = Push {
        delivery: first.clone(),
        ..h.push_of("main", &a, false)
    };
    h.produce(&Message::signed(&again, SIGNING_KEY.as_bytes()))
        .await;
    let late = push(&h, "main", &a).await;
    assert_eq!(ended(&h, &worker, &late).last().unwrap(), "superseded");
    assert_eq!(served(&host), "release b");

    // Force-pushing main back to a is a new intent: a is deployed again.
    h.reset_branch("main", &a);
    let undo = push(&h, "main", &a).await;
    assert_eq!(
        ended(&h, &worker, &undo).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release a");
    settled(&h, "production");

    // rollback: to the good deployment before what runs now (b), then to a
    // chosen commit; redeploy: the branch's head (a) again.
    let (ok, out) = h.command("rollback", &[&h.project, "production"]);
    assert!(ok, "{out}");
    assert!(out.contains(&b[..12]), "{out}");
    assert_eq!(
        ended(&h, &worker, &queued_as(&out)).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release b");
    settled(&h, "production");
    let (ok, out) = h.command("rollback", &[&h.project, "production", "--to", &a[..10]]);
    assert!(ok, "{out}");
    assert_eq!(
        ended(&h, &worker, &queued_as(&out)).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release a");
    let (ok, out) = h.command("redeploy", &[&h.project, "production"]);
    assert!(ok, "{out}");
    assert_eq!(
        ended(&h, &worker, &queued_as(&out)).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release a");

    // A rollback to a commit that never ran there is refused up front.
    let (ok, out) = h.command(
        "rollback",
        &[&h.project, "production", "--to", "0123456789"],
    );
    assert!(!ok);
    assert!(out.contains("never deployed successfully"), "{out}");

    // status: what runs where, the last push, and a free lease.
    let line = settled(&h, "production");
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(columns[2], &a[..12], "serving: {line}");
    assert_eq!(&columns[3..5], [&a[..12], "succeeded"], "last push: {line}");
}

/// The deployments API (`dumcel-pipeline serve`) against a real worker: a
/// push's build output and events followed live and its build log kept; a
/// rollback to a chosen deployment run in the environment's lane like a
/// push, the site serving that release again and the API showing it; a
/// preview promoted to production without a build, then destroyed on
/// request.
#[tokio::test(flavor = "multi_thread")]
async fn following_and_steering_a_project_through_the_api() {
    require_docker();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let token = "dcp_trust-test-token-0123456789abcdef";
    let port = common::harness::free_port();
    let mut h = Harness::on(
        Target::Docker,
        &format!(
            "api {{\n  listen = \"127.0.0.1:{port}\"\n  token \"ci\" {{\n    sha256 = \"{}\"\n  }}\n}}\n",
            hex::encode(dumcel_pipeline::api::auth::token_hash(token))
        ),
    );
    h.edit_config(
        "  previews  = true\n",
        "  previews  = true\n  access {\n    deploy = [\"token:ci\"]\n  }\n",
    );
    let host = format!("{}.localhost", h.project);
    let preview_host = format!("feature--{}.localhost", h.project);
    let _leftovers = ProjectLeftovers(vec![h.project.clone()]);
    let worker = h.worker();
    let mut serve = h.daemon("serve", &[]);
    common::harness::wait_for_port(port, &mut serve);

    let api = format!("http://127.0.0.1:{port}/api/v1/projects/{}", h.project);
    let http = reqwest::Client::new();
    // Followed live from before the first push: its build's output and
    // events arrive as they happen.
    let mut live = http
        .get(format!("{api}/events"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);

    let a = h.commit("main", "www/index.html", "release a\n");
    let first = push(&h, "main", &a).await;
    assert_eq!(
        ended(&h, &worker, &first).last().unwrap(),
        "deploy_succeeded"
    );
    let mut said = String::new();
    while !said.contains("event: deploy_succeeded") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), live.chunk())
            .await
            .unwrap_or_else(|_| panic!("the stream stalled:\n{said}"))
            .unwrap()
            .expect("the stream ended");
        said.push_str(&String::from_utf8_lossy(&chunk));
    }
    let order: Vec<&str> = said
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .filter(|e| ["build_started", "build_log", "build_succeeded"].contains(e))
        .collect();
    assert_eq!(order.first(), Some(&"build_started"), "{said}");
    assert_eq!(order.last(), Some(&"build_succeeded"), "{said}");
    assert!(
        order.len() > 2 && order[1..order.len() - 1].iter().all(|e| *e == "build_log"),
        "{said}"
    );
    drop(live);
    // The build log is kept and served after.
    let log = http
        .get(format!("{api}/deployments/{first}/log"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), 200);
    let log = log.text().await.unwrap();
    assert!(log.contains("COPY www /www"), "{log}");

    let b = h.commit("main", "www/index.html", "release b\n");
    let second = push(&h, "main", &b).await;
    assert_eq!(
        ended(&h, &worker, &second).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release b");
    settled(&h, "production");
    let queued = act(
        &http,
        token,
        format!("{api}/environments/production/rollback"),
        serde_json::json!({ "deployment": first }),
    )
    .await;
    let delivery = queued["delivery"].as_str().unwrap().to_owned();
    assert_eq!(queued["sha"], a.as_str());
    assert_eq!(
        ended(&h, &worker, &delivery).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&host), "release a");
    settled(&h, "production");

    let get = |path: String| {
        let http = http.clone();
        async move {
            let response = http.get(path).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap()
        }
    };
    let project = get(api.clone()).await;
    let production = &project["environments"][0];
    assert_eq!(production["name"], "production");
    assert_eq!(production["serving"]["delivery"], delivery.as_str());
    assert_eq!(production["serving"]["sha"], a.as_str());
    assert_eq!(production["url"], format!("https://{host}/"));
    let rollback = get(format!("{api}/deployments/{delivery}")).await;
    assert_eq!(rollback["trigger"], "rollback");
    assert_eq!(rollback["pusher"], "token:ci", "who asked");
    assert_eq!(rollback["outcome"], "succeeded");
    // Its events, as the worker published them on the events topic.
    let events = get(format!("{api}/deployments/{delivery}/events")).await;
    let names: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[names.len().saturating_sub(2)..],
        ["deploy_succeeded", "ended"],
        "{events}"
    );
    let history = get(format!("{api}/deployments")).await;
    let deliveries: Vec<&str> = history["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["delivery"].as_str().unwrap())
        .collect();
    assert_eq!(deliveries.len(), 3, "{history}");
    assert_eq!(deliveries[0], delivery, "newest first: {history}");

    // A preview destroyed on request while its branch still exists: its
    // URL is gone, production untouched.
    let f = h.commit("feature", "www/index.html", "a preview\n");
    let preview = push(&h, "feature", &f).await;
    assert_eq!(
        ended(&h, &worker, &preview).last().unwrap(),
        "deploy_succeeded"
    );
    assert_eq!(served(&preview_host), "a preview");
    settled(&h, "preview-feature");

    // The preview promoted: production runs its image, built once.
    let queued = act(
        &http,
        token,
        format!("{api}/environments/preview-feature/promote"),
        serde_json::json!({}),
    )
    .await;
    let delivery = queued["delivery"].as_str().unwrap().to_owned();
    let steps = ended(&h, &worker, &delivery);
    assert_eq!(steps, ["deploy_started", "deploy_succeeded"], "no build");
    assert_eq!(served(&host), "a preview");
    settled(&h, "production");
    let promoted = get(format!("{api}/deployments/{delivery}")).await;
    assert_eq!(
        (
            promoted["trigger"].as_str(),
            promoted["sha"].as_str(),
            promoted["image"].as_str()
        ),
        (
            Some("promote"),
            Some(f.as_str()),
            Some(h.image(&f).as_str())
        )
    );

    let queued = act(
        &http,
        token,
        format!("{api}/environments/preview-feature/destroy"),
        serde_json::json!({}),
    )
    .await;
    let delivery = queued["delivery"].as_str().unwrap().to_owned();
    assert_eq!(
        ended(&h, &worker, &delivery).last().unwrap(),
        "preview_destroyed"
    );
    assert_eq!(routed_get(&preview_host).map(|r| r.status).ok(), Some(404));
    assert_eq!(served(&host), "a preview", "production untouched");
}
