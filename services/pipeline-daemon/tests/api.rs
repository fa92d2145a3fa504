//! The deployments API with the real `dumcel-pipeline serve` binary, over
//! the Docker-host target's record store (the SQLite file its workers
//! write) and the push topic on tansu: every route, who may see and do
//! what, paging, and bad input answered with a clear 4xx and nothing queued.
//! tests/trust.rs steers a live environment through it end to end.

mod common;

use std::time::Duration;

use common::harness::{Harness, Target, free_port, wait_for_port};
use dumcel_pipeline::api::auth::token_hash;
use dumcel_pipeline::events::{Event, EventKind};
use dumcel_pipeline::records::{Outcome, Record, Records, Serving, ServingChange};
use dumcel_pipeline::records_sqlite::SqliteRecords;
use serde_json::{Value, json};

const CI: &str = "dcp_ci-token-for-the-api-test-0123456789";
const VIEWER: &str = "dcp_viewer-token-for-the-api-test-0123456789";
const OUTSIDER: &str = "dcp_outsider-token-for-the-api-test-0123456789";

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered {status} with no JSON ({e}): {text}"));
        (status, value)
    }

    /// A plain-text route: its status, content type and text.
    async fn text(&self, path: &str, token: &str) -> (u16, String, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, response.text().await.unwrap())
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("GET", path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: &str) -> (u16, Value) {
        self.call("POST", path, Some(token), Some(body)).await
    }
}

fn record(project: &str, environment: &str, i: usize, outcome: Outcome) -> Record {
    let mut r = Record::start(
        project,
        environment,
        &format!("d{i:02}"),
        "main",
        &format!("{i:02}{}", "a".repeat(38)),
    );
    r.started_at = format!("2026-12-01T10:00:{i:02}Z");
    r.finished_at = format!("2026-12-01T10:01:{i:02}Z");
    r.image = format!("127.0.0.1:5000/{project}:{i:02}");
    r.outcome = outcome;
    r.attempts = 1;
    r
}

/// 23 production pushes (the even ones succeeded), production serving the
/// last good one, and 3 of a preview, the last waiting for approval.
async fn seed(h: &Harness) -> Vec<Record> {
    let records = SqliteRecords::open(&h.dir.path().join("daemon/deployments.sqlite3")).unwrap();
    records.ensure().await.unwrap();
    let mut all = Vec::new();
    for (environment, range, branch) in [
        ("production", 0..23, "main"),
        ("preview-feature", 23..26, "feature"),
    ] {
        let lease = records
            .acquire(&h.project, environment, "seed", Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        for i in range {
            let outcome = if i % 2 == 0 {
                Outcome::Succeeded
            } else if i == 25 {
                // The preview's newest push changed the stack.
                Outcome::AwaitingApproval
            } else {
                Outcome::DeployFailed
            };
            let mut r = record(&h.project, environment, i, outcome);
            r.branch = branch.into();
            let serving = if outcome == Outcome::Succeeded {
                ServingChange::Now(Serving {
                    delivery: r.delivery.clone(),
                    sha: r.sha.clone(),
                    image: r.image.clone(),
                })
            } else {
                ServingChange::Unchanged
            };
            records.write(&r, &serving, &lease).await.unwrap();
            all.push(r);
        }
        records.release(&lease).await.unwrap();
    }
    // d00's build log, where its worker would have kept it.
    let logs = h
        .dir
        .path()
        .join(format!("daemon/build-logs/{}", h.project));
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("d00.log"),
        "Step 1/3 : FROM busybox\nStep 2/3 : COPY www /www\n",
    )
    .unwrap();
    // And a plan, as a stack change waiting for approval would keep it.
    let plans = h.dir.path().join(format!("daemon/plans/{}", h.project));
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(plans.join("d00.txt"), PLAN).unwrap();
    all
}

const PLAN: &str = "Plan: 1 to add, 0 to change, 0 to destroy.\n";

/// A new bucket in moto's S3 for build logs.
async fn build_logs_bucket() -> dumcel_pipeline::build_log::Bucket {
    let (s3, name) = common::harness::new_bucket("logs").await;
    dumcel_pipeline::build_log::Bucket { s3, name }
}

fn api_block(port: u16) -> String {
    let token = |name: &str, t: &str| {
        format!(
            "  token \"{name}\" {{\n    sha256 = \"{}\"\n  }}\n",
            hex::encode(token_hash(t))
        )
    };
    format!(
        "api {{\n  listen = \"127.0.0.1:{port}\"\n  environment_url = \"http://{{host}}:8480/\"\n{}{}{}}}\n",
        token("ci", CI),
        token("viewer", VIEWER),
        token("outsider", OUTSIDER)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_only_whom_access_lets_in() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let bucket = build_logs_bucket().await;
    let mut h = Harness::on(
        Target::Docker,
        &format!(
            "{}build_logs_bucket = \"{}\"\n",
            api_block(port),
            bucket.name
        ),
    );
    h.edit_config(
        "  previews  = true\n",
        "  previews  = true\n  access {\n    view    = [\"token:viewer\"]\n    deploy  = [\"token:ci\"]\n    approve = [\"token:ci\"]\n  }\n",
    );
    let seeded = seed(&h).await;
    let mut serve = h.daemon("serve", &[]);
    wait_for_port(port, &mut serve);
    let api = Client {
        base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    };
    let project = h.project.clone();
    let p = format!("/api/v1/projects/{project}");

    // The document lists every route; each is served (no 404 "no such
    // route", no 405) for its method.
    let (status, doc) = api.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 16, "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, item) in paths {
        let path = path
            .replace("{project}", &project)
            .replace("{environment}", "production")
            .replace("{delivery}", "d00");
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            // A POST with a malformed body: routed, refused, nothing queued.
            // Only the status is read: the event stream never ends.
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = api
                .http
                .request(method.clone(), format!("{}{path}", api.base))
                .bearer_auth(CI)
                .body("{\"sha\": 1}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(status == 200 || status == 400, "{method} {path}: {status}");
        }
    }

    // Nobody gets in without a token of the configuration's.
    for token in [None, Some("dcp_not-a-configured-token")] {
        let (status, body) = api.call("GET", "/api/v1/projects", token, None).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let response = api
        .http
        .get(format!("{}/api/v1/me", api.base))
        .header("authorization", "Basic Y2k6Y2k=")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"dumcel\""
    );
    assert_eq!(
        api.get("/api/v1/me", VIEWER).await.1,
        json!({"name": "token:viewer", "principals": ["token:viewer"]})
    );

    // A token the project's access block does not name sees nothing of it.
    assert_eq!(
        api.get("/api/v1/projects", OUTSIDER).await,
        (200, json!({"projects": []}))
    );
    for path in [
        p.clone(),
        format!("{p}/deployments"),
        format!("{p}/deployments/d00"),
    ] {
        let (status, body) = api.get(&path, OUTSIDER).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("token:outsider"),
            "{body}"
        );
    }
    // A viewer sees, and may not act.
    let (_, projects) = api.get("/api/v1/projects", VIEWER).await;
    assert_eq!(projects["projects"][0]["name"], project.as_str());
    assert_eq!(projects["projects"][0]["can_deploy"], false);
    for token in [VIEWER, OUTSIDER] {
        for action in ["rollback", "redeploy", "destroy", "promote"] {
            let (status, body) = api
                .post(
                    &format!("{p}/environments/production/{action}"),
                    token,
                    "{}",
                )
                .await;
            assert_eq!(status, 403, "{action}: {body}");
        }
    }

    // The project: its environments, what they serve, where, who holds them.
    let (status, one) = api.get(&p, CI).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["project"]["can_deploy"], true);
    let envs = one["environments"].as_array().unwrap();
    let names: Vec<&str> = envs.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["preview-feature", "production"]);
    let production = &envs[1];
    assert_eq!(
        production["url"],
        format!("http://{project}.localhost:8480/")
    );
    assert_eq!(production["serving"]["delivery"], "d22");
    assert_eq!(production["last_deployment"]["delivery"], "d22");
    assert_eq!(production["lease"], Value::Null);
    assert_eq!(
        envs[0]["url"],
        format!("http://feature--{project}.localhost:8480/")
    );
    assert_eq!(envs[0]["branch"], "feature");

    // History: newest first, every record once over the pages.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("{p}/deployments?limit=10"),
            Some(c) => format!("{p}/deployments?limit=10&cursor={c}"),
        };
        let (status, page) = api.get(&path, CI).await;
        assert_eq!(status, 200, "{page}");
        let items = page["deployments"].as_array().unwrap();
        assert!(items.len() <= 10);
        seen.extend(
            items
                .iter()
                .map(|d| d["delivery"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<String> = seeded.iter().map(|r| r.delivery.clone()).collect();
    expected.reverse();
    assert_eq!(seen, expected);
    let (_, only) = api
        .get(&format!("{p}/deployments?environment=preview-feature"), CI)
        .await;
    assert_eq!(only["deployments"].as_array().unwrap().len(), 3);
    let (status, d) = api.get(&format!("{p}/deployments/d05"), CI).await;
    assert_eq!(status, 200);
    assert_eq!(d["outcome"], "deploy_failed");
    assert_eq!(d["trigger"], "push");
    assert_eq!(d["sha"], seeded[5].sha.as_str());
    assert_eq!(d["image"], seeded[5].image.as_str());
    assert_eq!(d["reason"], Value::Null);

    // Bad input: a clear 4xx naming what to change.
    let bad_reads = [
        (format!("{p}/deployments?limit=0"), 400, "limit"),
        (format!("{p}/deployments?limit=many"), 400, "limit"),
        (format!("{p}/deployments?cursor=%40%40"), 400, "cursor"),
        (format!("{p}/deployments?colour=red"), 400, "colour"),
        (format!("{p}/deployments/nope"), 404, "nope"),
        ("/api/v1/projects/nope".into(), 404, "nope"),
        ("/api/v1/nope".into(), 404, "openapi.json"),
    ];
    for (path, want, mentions) in bad_reads {
        let (status, body) = api.get(&path, CI).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(mentions),
            "{path}: {body}"
        );
    }
    // Approving or rejecting: only a deployment that waits for approval,
    // only by whom the access block lets approve; nothing is queued.
    let decisions = [
        (
            format!("{p}/deployments/d05/approve"),
            CI,
            409,
            "does not wait",
        ),
        (
            format!("{p}/deployments/d05/reject"),
            CI,
            409,
            "does not wait",
        ),
        (format!("{p}/deployments/nope/approve"), CI, 404, "nope"),
        (
            format!("{p}/deployments/d05/approve"),
            VIEWER,
            403,
            "approve",
        ),
        (format!("{p}/deployments/d05/plan"), CI, 404, "no plan"),
    ];
    assert_eq!(
        api.text(&format!("{p}/deployments/d00/plan"), VIEWER).await,
        (200, "text/plain; charset=utf-8".into(), PLAN.into())
    );
    for (path, token, want, mentions) in decisions {
        let method = if path.ends_with("plan") {
            "GET"
        } else {
            "POST"
        };
        let (status, body) = api.call(method, &path, Some(token), None).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(mentions),
            "{path}: {body}"
        );
    }
    // The build log: plain text; none for a deployment that kept none.
    assert_eq!(
        api.text(&format!("{p}/deployments/d00/log"), VIEWER).await,
        (
            200,
            "text/plain; charset=utf-8".into(),
            "Step 1/3 : FROM busybox\nStep 2/3 : COPY www /www\n".into()
        )
    );
    // A log only in the bucket (its worker ran elsewhere) is read from there.
    bucket
        .s3
        .put_object()
        .bucket(&bucket.name)
        .key(format!("build-logs/{project}/d02.log"))
        .body(b"Step 1/3 : FROM busybox\n(from S3)\n".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.text(&format!("{p}/deployments/d02/log"), VIEWER)
            .await
            .2,
        "Step 1/3 : FROM busybox\n(from S3)\n"
    );
    let (status, body) = api.get(&format!("{p}/deployments/d01/log"), VIEWER).await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has no build log"),
        "{body}"
    );
    for bad in ["..%2F..%2Fpipeline.hcl", "d99", "d00.log"] {
        let (status, body) = api.get(&format!("{p}/deployments/{bad}/log"), VIEWER).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("has no deployment"),
            "{bad}: {body}"
        );
    }
    assert_eq!(
        api.get(&format!("{p}/deployments/d00/log"), OUTSIDER)
            .await
            .0,
        403
    );
    let (status, _) = api.call("DELETE", "/api/v1/projects", Some(CI), None).await;
    assert_eq!(status, 405);
    let rollback = format!("{p}/environments/production/rollback");
    let bad_actions = [
        (rollback.clone(), "not json", 400, "body"),
        (rollback.clone(), "{\"sha\": \"zz\"}", 400, "sha"),
        (
            rollback.clone(),
            "{\"sha\": \"00aaaaa\", \"deployment\": \"d00\"}",
            400,
            "not both",
        ),
        (rollback.clone(), "{\"to\": \"d00\"}", 400, "to"),
        (
            rollback.clone(),
            "{\"deployment\": \"d01\"}",
            409,
            "deploy_failed",
        ),
        (rollback.clone(), "{\"deployment\": \"nope\"}", 404, "nope"),
        (rollback.clone(), "{\"sha\": \"fffffff\"}", 409, "fffffff"),
        (
            format!("{p}/environments/preview-gone/rollback"),
            "",
            404,
            "preview-gone",
        ),
        (
            format!("{p}/environments/preview-gone/redeploy"),
            "",
            404,
            "preview-gone",
        ),
        (
            format!("{p}/environments/production/redeploy"),
            "{\"force\": true}",
            400,
            "force",
        ),
        (
            format!("{p}/environments/production/destroy"),
            "",
            409,
            "not a preview",
        ),
        (
            format!("{p}/environments/preview-gone/destroy"),
            "{}",
            404,
            "preview-gone",
        ),
        (
            format!("{p}/environments/production/promote"),
            "",
            409,
            "only previews are promoted",
        ),
        (
            format!("{p}/environments/preview-gone/promote"),
            "",
            404,
            "preview-gone",
        ),
        (
            format!("{p}/environments/preview-feature/promote"),
            "{\"to\": \"production\"}",
            400,
            "to",
        ),
    ];
    for (path, body, want, mentions) in bad_actions {
        let (status, answer) = api.post(&path, CI, body).await;
        assert_eq!(status, want, "{path} {body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(mentions),
            "{path} {body}: {answer}"
        );
    }
    assert_eq!(
        h.queued_pushes(),
        Vec::<Value>::new(),
        "a refused request queued something"
    );

    // Actions queue signed messages on the push topic, as a push would be.
    let (status, to_d02) = api.post(&rollback, CI, "{\"deployment\": \"d02\"}").await;
    assert_eq!(status, 202, "{to_d02}");
    assert_eq!(
        (to_d02["sha"].as_str(), to_d02["image"].as_str()),
        (Some(seeded[2].sha.as_str()), Some(seeded[2].image.as_str()))
    );
    let (status, previous) = api.post(&rollback, CI, "").await;
    assert_eq!(status, 202, "{previous}");
    assert_eq!(
        previous["sha"],
        seeded[20].sha.as_str(),
        "the newest good one before d22, which is served"
    );
    let (status, redeploy) = api
        .post(&format!("{p}/environments/production/redeploy"), CI, "{}")
        .await;
    assert_eq!(status, 202, "{redeploy}");
    assert_eq!(redeploy["sha"], h.head().as_str());
    let (status, destroy) = api
        .post(&format!("{p}/environments/preview-feature/destroy"), CI, "")
        .await;
    assert_eq!(status, 202, "{destroy}");
    assert_eq!(
        (destroy["branch"].as_str(), destroy["sha"].as_str()),
        (Some("feature"), Some(seeded[25].sha.as_str()))
    );
    // Promoting the preview: production, on the image the preview serves.
    let (status, promote) = api
        .post(&format!("{p}/environments/preview-feature/promote"), CI, "")
        .await;
    assert_eq!(status, 202, "{promote}");
    assert_eq!(
        (
            promote["environment"].as_str(),
            promote["branch"].as_str(),
            promote["sha"].as_str(),
            promote["image"].as_str()
        ),
        (
            Some("production"),
            Some("main"),
            Some(seeded[24].sha.as_str()),
            Some(seeded[24].image.as_str())
        ),
        "the newest good deployment of the preview, d24, is what it serves"
    );
    let promoted = h.queued_pushes().pop().unwrap();
    assert_eq!(
        promoted["action"],
        json!({"kind": "promote", "from": "preview-feature"})
    );
    assert_eq!(promoted["pusher"], "token:ci");
    // The preview's stack change (d25): rejected, then approved, which
    // records the decision and queues the preview's redeploy at its
    // branch's head.
    let feature = h.commit("feature", "www/index.html", "feature\n");
    let (status, rejected) = api
        .post(&format!("{p}/deployments/d25/reject"), CI, "")
        .await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(
        (&rejected["rejected"], &rejected["by"], &rejected["sha"]),
        (&json!(true), &json!("token:ci"), &json!(seeded[25].sha))
    );
    let store = SqliteRecords::open(&h.dir.path().join("daemon/deployments.sqlite3")).unwrap();
    let decided = store.decision(&h.project, &seeded[25].sha).await.unwrap();
    assert_eq!(
        decided.map(|d| (d.approved, d.by)),
        Some((false, "token:ci".into()))
    );
    let (status, approved) = api
        .post(&format!("{p}/deployments/d25/approve"), CI, "{}")
        .await;
    assert_eq!(status, 202, "{approved}");
    assert_eq!(
        (approved["environment"].as_str(), approved["sha"].as_str()),
        (Some("preview-feature"), Some(feature.as_str()))
    );
    let decided = store.decision(&h.project, &seeded[25].sha).await.unwrap();
    assert_eq!(
        decided.map(|d| (d.approved, d.by)),
        Some((true, "token:ci".into()))
    );
    let queued: Vec<(String, String, String)> = h
        .queued_pushes()
        .iter()
        .map(|m| {
            (
                m["delivery"].as_str().unwrap().to_owned(),
                m["sha"].as_str().unwrap().to_owned(),
                m["action"]["kind"].as_str().unwrap_or("push").to_owned(),
            )
        })
        .collect();
    let answered: Vec<(String, String, String)> = [
        (&to_d02, "rollback"),
        (&previous, "rollback"),
        (&redeploy, "push"),
        (&destroy, "destroy"),
        (&promote, "promote"),
        (&approved, "push"),
    ]
    .iter()
    .map(|(a, kind)| {
        (
            a["delivery"].as_str().unwrap().to_owned(),
            a["sha"].as_str().unwrap().to_owned(),
            kind.to_string(),
        )
    })
    .collect();
    assert_eq!(queued, answered);
    assert!(
        serve.log().contains("token:ci"),
        "actions are logged with their caller:\n{}",
        serve.log()
    );
    for token in [CI, VIEWER, OUTSIDER] {
        assert!(!serve.log().contains(token), "a token reached the log");
    }
}

#[test]
fn token_prints_a_new_token_and_only_its_hash_for_the_configuration() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dumcel-pipeline"))
        .args(["token", "ci"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let advice = String::from_utf8(out.stderr).unwrap();
    assert!(token.starts_with("dcp_") && token.len() == 68, "{token}");
    assert!(
        advice.contains(&format!(
            "token \"ci\" {{\n    sha256 = \"{}\"",
            hex::encode(token_hash(&token))
        )),
        "{advice}"
    );
    assert!(!advice.contains(&token));
}

/// Publishes `kind` for `delivery` of `project` on the events topic, in the
/// worker's own format.
async fn publish(h: &Harness, project: &str, delivery: &str, kind: EventKind) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let event = Event {
        schema_version: 1,
        id: Event::id(delivery, &kind, None),
        project: project.into(),
        environment: "production".into(),
        branch: "main".into(),
        sha: "a".repeat(40),
        delivery: delivery.into(),
        at: "2026-12-01T10:00:00Z".into(),
        kind,
    };
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", common::harness::broker())
        .create()
        .unwrap();
    let payload = serde_json::to_vec(&event).unwrap();
    let topic = format!("{}.events", h.topic);
    producer
        .send(
            FutureRecord::to(&topic).key(project).payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
}

/// Reads the event stream until it holds `until`; what it read.
async fn read_until(response: &mut reqwest::Response, until: &str) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !text.contains(until) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {until:?} on the stream; it said:\n{text}"))
            .unwrap()
            .expect("the stream ended");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_served_per_deployment_and_live_per_project() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let mut h = Harness::on(Target::Docker, &api_block(port));
    h.edit_config(
        "  previews  = true\n",
        "  previews  = true\n  access {\n    view   = [\"token:viewer\"]\n    deploy = [\"token:ci\"]\n  }\n",
    );
    seed(&h).await;
    let project = h.project.clone();
    let mut serve = h.daemon("serve", &[]);
    wait_for_port(port, &mut serve);
    // Published after `serve` started, before and while it follows the topic.
    publish(&h, &project, "d22", EventKind::Cloned).await;
    publish(&h, "another-project", "x1", EventKind::Cloned).await;
    let image = "127.0.0.1:5000/app:22".to_owned();
    publish(
        &h,
        &project,
        "d22",
        EventKind::DeploySucceeded {
            image: image.clone(),
            digest: "sha256:0".into(),
            services: vec![],
        },
    )
    .await;
    let api = Client {
        base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    };
    let p = format!("/api/v1/projects/{project}");

    // One deployment's events, in order, as the worker published them.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let events = loop {
        let (status, body) = api
            .get(&format!("{p}/deployments/d22/events"), VIEWER)
            .await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().unwrap().clone();
        if events.len() == 2 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cloned", "deploy_succeeded"]);
    assert_eq!(events[1]["image"], image.as_str());
    assert_eq!(
        api.get(&format!("{p}/deployments/d21/events"), VIEWER)
            .await,
        (200, json!({"events": []}))
    );
    assert_eq!(
        api.get(&format!("{p}/deployments/d99/events"), VIEWER)
            .await
            .0,
        404
    );
    assert_eq!(
        api.get(&format!("{p}/deployments/d22/events"), OUTSIDER)
            .await
            .0,
        403
    );
    assert_eq!(api.get(&format!("{p}/events"), OUTSIDER).await.0, 403);

    // Live: only this project's events, each with an id to resume from.
    let events_url = format!("{}{p}/events", api.base);
    let mut live = api
        .http
        .get(&events_url)
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    publish(&h, "another-project", "x2", EventKind::Cloned).await;
    publish(
        &h,
        &project,
        "d21",
        EventKind::BuildStarted {
            image: image.clone(),
        },
    )
    .await;
    let said = read_until(&mut live, "event: build_started").await;
    assert!(
        !said.contains("x2") && !said.contains("another-project"),
        "{said}"
    );
    assert!(
        !said.contains("d22"),
        "a new follower got old events: {said}"
    );
    let id = said
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .expect("events carry ids")
        .to_owned();
    drop(live);

    // What arrived while it was away is sent first when it comes back.
    publish(
        &h,
        &project,
        "d21",
        EventKind::BuildSucceeded {
            image: image.clone(),
        },
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while api
        .get(&format!("{p}/deployments/d21/events"), VIEWER)
        .await
        .1["events"]
        .as_array()
        .unwrap()
        .len()
        < 2
    {
        assert!(
            std::time::Instant::now() < deadline,
            "build_succeeded never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut again = api
        .http
        .get(&events_url)
        .bearer_auth(VIEWER)
        .header("last-event-id", &id)
        .send()
        .await
        .unwrap();
    let said = read_until(&mut again, "event: build_succeeded").await;
    assert!(!said.contains("event: build_started"), "{said}");
    assert_eq!(
        serve.terminate(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        serve.log()
    );
}
