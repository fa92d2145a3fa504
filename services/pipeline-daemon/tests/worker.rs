//! `dumcel-pipeline worker` (and `webhook`), the real binary, end to end on
//! loopback: a bare git repository for GitHub, tansu for Kafka, dockerd
//! building the image, the local registry standing in for ECR's registry
//! host, moto for ECR's API, ECS, ELBv2 and DynamoDB (started by
//! dev/test.sh with MOTO_ECS_SERVICE_RUNNING so that a new service's
//! deployment reports COMPLETED). Every check reads the services
//! themselves, not the worker's word.

mod common;

use std::time::Duration;

use common::harness::{
    Harness, Message, REGISTRY, SIGNING_KEY, deliver, free_port, has, names_for, wait_for_port,
};
use dumcel_pipeline::push::Push;
use serde_json::Value;

const MINUTES: Duration = Duration::from_secs(240);

/// The digest the local registry holds for `project:tag`.
async fn registry_digest(project: &str, tag: &str) -> Option<String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let res = reqwest::Client::new()
        .head(format!("http://{REGISTRY}/v2/{project}/manifests/{tag}"))
        .header(
            "accept",
            "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .await
        .ok()?;
    if !res.status().is_success() {
        return None;
    }
    res.headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_push_is_built_pushed_and_rolled_out_once() {
    let port = free_port();
    let secret = "worker-e2e-secret";
    let (s3, logs) = common::harness::new_bucket("logs").await;
    let mut h = Harness::new(&format!(
        "webhook {{\n  listen = \"127.0.0.1:{port}\"\n  secret_env = \"E2E_SECRET\"\n}}\nbuild_logs_bucket = \"{logs}\"\n"
    ));
    let mut webhook = h.daemon("webhook", &[("E2E_SECRET", secret)]);
    wait_for_port(port, &mut webhook);
    let worker = h.worker();

    let sha = h.head();
    let body = common::branch_push(&h.repository, "main", &sha, "https://github.com/x/y.git");
    assert_eq!(deliver(port, b"not the secret", "forged", &body).await, 401);
    assert_eq!(deliver(port, secret.as_bytes(), "first", &body).await, 202);

    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &sha, "deploy_succeeded") || has(e, &sha, "deploy_failed")
    });
    assert_eq!(
        names_for(&events, &sha),
        [
            "cloned",
            "build_started",
            "build_succeeded",
            "image_pushed",
            "deploy_started",
            "deploy_succeeded"
        ]
    );
    let pushed = events
        .iter()
        .find(|e| e["event"] == "image_pushed")
        .unwrap();
    assert_eq!(pushed["image"], h.image(&sha));
    assert_eq!(pushed["environment"], "production");
    assert_eq!(pushed["schema_version"], 1);

    // The service runs the pushed SHA; the registry has it, with the digest
    // the event gave; the deployment is recorded.
    let (image, td) = h.running_image("production").await;
    assert_eq!(image, h.image(&sha));
    assert_eq!(
        registry_digest(&h.project, &sha).await.as_deref(),
        pushed["digest"].as_str()
    );
    assert_eq!(
        h.records("production").await,
        [(sha.clone(), "succeeded".to_owned(), h.image(&sha))]
    );
    // The build's output is kept in the bucket, for a `serve` elsewhere.
    let log = s3
        .get_object()
        .bucket(&logs)
        .key(format!("build-logs/{}/first.log", h.project))
        .send()
        .await
        .expect("the build log in S3");
    let log = log.body.collect().await.unwrap().into_bytes();
    let log = String::from_utf8_lossy(&log);
    assert!(log.contains("COPY"), "{log}");

    // GitHub delivers again (a retry, with the same delivery id): the
    // webhook remembers it and queues nothing.
    assert_eq!(deliver(port, secret.as_bytes(), "first", &body).await, 200);
    // The same delivery reaching the worker again (a webhook restarted in
    // between, a partition read twice) ends at its record: skipped.
    let again = Push {
        delivery: "first".into(),
        ..h.push_of("main", &sha, false)
    };
    h.produce(&Message::signed(&again, SIGNING_KEY.as_bytes()))
        .await;
    let events = h.events_until(&worker, MINUTES, |e| has(e, &sha, "skipped"));
    assert_eq!(
        names_for(&events, &sha)
            .iter()
            .filter(|n| *n == "deploy_started")
            .count(),
        1
    );
    assert_eq!(h.running_image("production").await.1, td, "no new revision");
    assert_eq!(h.records("production").await.len(), 1);
    // Each time the push is seen its end is published, from its record and
    // under one id: a consumer keeping one event per id sees it once.
    let deadline = std::time::Instant::now() + MINUTES;
    let ends = loop {
        let ends: Vec<Value> = h
            .all_events()
            .into_iter()
            .filter(|e| e["event"] == "ended" && e["delivery"] == "first")
            .collect();
        if ends.len() >= 2 || std::time::Instant::now() > deadline {
            break ends;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(ends.len(), 2, "{ends:?}");
    for end in &ends {
        assert_eq!(end["id"], "first:ended");
        assert_eq!(end["outcome"], "succeeded");
        assert_eq!(end["image"], h.image(&sha));
    }

    // SIGTERM: a clean stop of both.
    let mut worker = worker;
    assert!(
        worker.terminate(Duration::from_secs(30)).success(),
        "{}",
        worker.log()
    );
    assert!(webhook.terminate(Duration::from_secs(10)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_quick_pushes_the_second_wins() {
    let mut h = Harness::new("");
    let first = h.commit("main", "www/index.html", "first");
    let second = h.commit("main", "www/index.html", "second");
    // Both are queued before the worker starts: it sees them back to back.
    h.produce(&h.push("main", &first, false)).await;
    h.produce(&h.push("main", &second, false)).await;
    let worker = h.worker();

    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &second, "deploy_succeeded") || has(e, &second, "deploy_failed")
    });
    assert!(has(&events, &first, "superseded"), "{events:#?}");
    assert!(!has(&events, &first, "deploy_started"), "{events:#?}");
    let by = events.iter().find(|e| e["event"] == "superseded").unwrap();
    assert_eq!(by["by_sha"], second.as_str());
    assert_eq!(h.running_image("production").await.0, h.image(&second));
    let mut records = h.records("production").await;
    let mut want = vec![
        (first.clone(), "superseded".to_owned(), h.image(&first)),
        (second.clone(), "succeeded".to_owned(), h.image(&second)),
    ];
    want.sort();
    // The first may be stopped before its image name was known.
    records.iter_mut().for_each(|r| {
        if r.0 == first {
            r.2 = h.image(&first);
        }
    });
    assert_eq!(records, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_dockerfile_fails_its_build_and_leaves_the_deployment_alone() {
    let mut h = Harness::new("");
    let good = h.head();
    h.produce(&h.push("main", &good, false)).await;
    let worker = h.worker();
    h.events_until(&worker, MINUTES, |e| has(e, &good, "deploy_succeeded"));
    let (_, td) = h.running_image("production").await;

    let dockerfile = std::fs::read_to_string(h.dir.path().join("work/Dockerfile")).unwrap();
    let broken = h.commit(
        "main",
        "Dockerfile",
        &dockerfile.replace(
            "COPY www /www",
            "COPY www /www\nRUN [\"/bin/busybox\", \"false\"]",
        ),
    );
    h.produce(&h.push("main", &broken, false)).await;
    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &broken, "build_failed") || has(e, &broken, "deploy_started")
    });
    assert_eq!(
        names_for(&events, &broken),
        ["cloned", "build_started", "build_failed"]
    );
    let failed = events
        .iter()
        .find(|e| e["event"] == "build_failed")
        .unwrap();
    let step = failed["step"].as_str().unwrap_or_default();
    assert!(step.contains("RUN") && step.contains("false"), "{failed}");

    let (image, still) = h.running_image("production").await;
    assert_eq!((image, still), (h.image(&good), td));
    let outcome: Vec<String> = h
        .records("production")
        .await
        .into_iter()
        .filter(|r| r.0 == broken)
        .map(|r| r.1)
        .collect();
    assert_eq!(outcome, ["build_failed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_comes_up_with_its_branch_and_goes_with_it() {
    let mut h = Harness::new("");
    let sha = h.commit("feature", "www/index.html", "a preview");
    h.produce(&h.push("feature", &sha, false)).await;
    let worker = h.worker();
    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &sha, "deploy_succeeded") || has(e, &sha, "deploy_failed")
    });
    assert!(has(&events, &sha, "deploy_succeeded"), "{events:#?}");
    assert_eq!(events.last().unwrap()["environment"], "preview-feature");
    assert_eq!(h.running_image("preview-feature").await.0, h.image(&sha));

    // Its own host name, a rule on the platform's shared HTTPS listener.
    assert_eq!(
        h.served_hosts().await,
        [format!("feature--{}.apps.test", h.project)]
    );

    // The branch is deleted: the preview goes away.
    h.delete_branch("feature");
    h.produce(&h.push("feature", &sha, true)).await;
    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &sha, "preview_destroyed") || names_for(e, &sha).len() > 7
    });
    assert!(has(&events, &sha, "preview_destroyed"), "{events:#?}");
    assert!(
        !h.service_active("preview-feature").await,
        "the preview's service is still active"
    );
    assert!(
        h.served_hosts().await.is_empty(),
        "the preview's host rule is still on the shared listener"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_and_forged_messages_go_to_the_dead_letter_topic_and_the_worker_goes_on() {
    let mut h = Harness::new("");
    let key = SIGNING_KEY.as_bytes();
    let sha = h.head();
    // Someone who can write to the topic but holds no key: unsigned, and
    // signed with a key of their own. Neither deploys anything.
    let forged = h.push_of("main", &sha, false);
    h.produce(&Message::unsigned(&forged.to_message())).await;
    h.produce(&Message::signed(&forged, b"the attacker's own key"))
        .await;
    let garbage = Message {
        payload: b"{ not json".to_vec(),
        signature: Some(dumcel_pipeline::signature::sign(key, b"{ not json")),
    };
    h.produce(&garbage).await;
    let stranger = Push {
        repository: "someone-else/unknown".into(),
        ..h.push_of("main", &sha, false)
    };
    h.produce(&Message::signed(&stranger, key)).await;
    let real = h.push_of("main", &sha, false);
    h.produce(&Message::signed(&real, key)).await;
    let worker = h.worker();

    let events = h.events_until(&worker, MINUTES, |e| has(e, &sha, "deploy_succeeded"));
    let deliveries: Vec<&Value> = events.iter().map(|e| &e["delivery"]).collect();
    assert!(
        deliveries.iter().all(|d| *d == real.delivery.as_str()),
        "only the signed push ran: {events:#?}"
    );
    let letters = h.dead_letters();
    let reasons: Vec<&str> = letters
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 4, "{letters:#?}");
    assert!(
        reasons[0].contains("unsigned or wrongly signed"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].contains("signature does not match"),
        "{}",
        reasons[1]
    );
    assert!(reasons[2].contains("not a JSON object"), "{}", reasons[2]);
    assert_eq!(letters[2]["payload"], "{ not json");
    assert!(
        reasons[3].contains("someone-else/unknown is not configured"),
        "{}",
        reasons[3]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_build_finishes_the_push_once_restarted() {
    let mut h = Harness::new("");
    // A build slow enough to be killed in the middle of.
    let sha = h.commit_slow_build(8);
    h.produce(&h.push("main", &sha, false)).await;
    let mut first = h.worker();
    h.events_until(&first, MINUTES, |e| has(e, &sha, "build_started"));
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    // A supervisor restarts a crashed worker after a delay (systemd's
    // RestartSec, a container's back-off): the new member joins while the
    // dead one still holds the group, and is there when it is dropped.
    std::thread::sleep(Duration::from_secs(5));

    let second = h.worker();
    let events = h.events_until(&second, MINUTES, |e| {
        has(e, &sha, "deploy_succeeded") || has(e, &sha, "deploy_failed")
    });
    let names = names_for(&events, &sha);
    assert_eq!(
        names.iter().filter(|n| *n == "deploy_succeeded").count(),
        1,
        "{names:?}"
    );
    assert_eq!(names.iter().filter(|n| *n == "build_started").count(), 2);
    let (image, td) = h.running_image("production").await;
    assert_eq!(image, h.image(&sha));
    assert!(td.ends_with(":1"), "one deployment, one revision: {td}");
    assert_eq!(
        h.records("production").await,
        [(sha.clone(), "succeeded".to_owned(), h.image(&sha))]
    );
}

/// A worker killed for good, with no replacement: the broker drops it when
/// its session runs out, and its partition must go to the worker left. The
/// push topic has one partition, owned by the first worker; the second joined
/// after it and owns nothing, so its own rejoin tells the broker nothing new:
/// only the broker's expiry of the dead member can hand the partition on
/// (tansu 0.6.0 dropped the member and kept the partition assigned to it:
/// dev/services/tansu/patch_broker.py, mend 3).
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_for_good_hands_its_partition_to_the_one_left() {
    let mut h = Harness::new("");
    h.expire_members_quickly();
    h.edit_config("  group        =", "  partitions   = 1\n  group        =");
    let assigned = |partitions: &'static str| {
        move |line: &str| line.contains("partitions assigned") && line.contains(partitions)
    };
    let mut first = h.worker();
    first.log_until(MINUTES, assigned("[0]"));
    let left = h.worker();
    left.log_until(MINUTES, assigned("[]"));
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let sha = h.commit("main", "www/index.html", "after the kill\n");
    h.produce(&h.push("main", &sha, false)).await;
    let events = h.events_until(&left, MINUTES, |e| {
        has(e, &sha, "deploy_succeeded") || has(e, &sha, "deploy_failed")
    });
    assert!(has(&events, &sha, "deploy_succeeded"), "{}", left.log());
    let (image, _) = h.running_image("production").await;
    assert_eq!(image, h.image(&sha));
    assert_eq!(
        h.records("production").await,
        [(sha.clone(), "succeeded".to_owned(), h.image(&sha))]
    );
}

/// moto never rolls a second deployment of a service (its first deployment
/// entry keeps the first task definition), so the rollout of a second push
/// never completes: with a short rollout_timeout the service's
/// `wait_for_steady_state` gives up and the apply fails, which is what a
/// stuck rollout looks like, and the worker applies the last good image
/// again. moto does not roll that deployment out either, so the rollback's
/// own wait times out too: the push ends `deploy_failed`, not `rolled_back`,
/// with the service sent back to the good image.
#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_that_does_not_complete_fails_and_the_last_good_image_is_put_back() {
    let mut h = Harness::new("");
    h.edit_config(
        "rollout_timeout       = \"60s\"",
        "rollout_timeout       = \"4s\"",
    );
    let good = h.head();
    h.produce(&h.push("main", &good, false)).await;
    let worker = h.worker();
    h.events_until(&worker, MINUTES, |e| has(e, &good, "deploy_succeeded"));

    let next = h.commit("main", "www/index.html", "next");
    h.produce(&h.push("main", &next, false)).await;
    let events = h.events_until(&worker, MINUTES, |e| has(e, &next, "deploy_failed"));
    assert_eq!(
        names_for(&events, &next)[4..],
        ["deploy_started", "deploy_failed"]
    );
    let failed = events
        .iter()
        .find(|e| e["sha"] == next.as_str() && e["event"] == "deploy_failed")
        .unwrap();
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("did not finish rolling out within 4s"),
        "{failed}"
    );
    // The push's record ends once the rollback's own wait has given up.
    let deadline = std::time::Instant::now() + MINUTES;
    let records = loop {
        let records = h.records("production").await;
        if records
            .iter()
            .any(|(sha, outcome, _)| *sha == next && outcome != "in_progress")
        {
            break records;
        }
        assert!(std::time::Instant::now() < deadline, "{records:?}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut want = vec![
        (good.clone(), "succeeded".to_owned(), h.image(&good)),
        (next.clone(), "deploy_failed".to_owned(), h.image(&next)),
    ];
    want.sort();
    assert_eq!(records, want);
    assert_eq!(h.running_image("production").await.0, h.image(&good));
    assert!(worker.log().contains("rolling back"), "{}", worker.log());
}

/// A build longer than the consumer's `max.poll.interval.ms`: the worker
/// keeps polling while it builds, so it stays in its group and the push is
/// not delivered a second time (which would show as a duplicate, or as a
/// second build).
#[tokio::test(flavor = "multi_thread")]
async fn a_build_longer_than_the_poll_interval_keeps_the_worker_in_its_group() {
    let mut h = Harness::new("");
    h.set_consumer_properties(&[
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "1000"),
        ("max.poll.interval.ms", "7000"),
    ]);
    let sha = h.commit_slow_build(12);
    h.produce(&h.push("main", &sha, false)).await;
    let worker = h.worker();
    let events = h.events_until(&worker, MINUTES, |e| {
        has(e, &sha, "deploy_succeeded") || has(e, &sha, "deploy_failed")
    });
    // Past another poll interval, in case a redelivery were on its way.
    std::thread::sleep(Duration::from_secs(8));
    let events = h.events_until(&worker, MINUTES, |e| e.len() >= events.len());
    let names = names_for(&events, &sha);
    assert_eq!(
        names,
        [
            "cloned",
            "build_started",
            "build_succeeded",
            "image_pushed",
            "deploy_started",
            "deploy_succeeded"
        ]
    );
    assert!(
        !worker.log().contains("maximum poll interval"),
        "{}",
        worker.log()
    );
}
