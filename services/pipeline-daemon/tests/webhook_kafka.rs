//! `dumcel-pipeline webhook`, the real binary, against a real Kafka-compatible
//! broker (tansu, started by dev/services/kafka.sh): it creates its topics,
//! a signed push delivery ends up on the push topic keyed by repository, a
//! badly signed one never does, and SIGTERM stops it cleanly.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

use common::harness::{Daemon, broker, free_port, unique, wait_for_port};
use dumcel_pipeline::push::{Push, SIGNATURE_HEADER};
use dumcel_pipeline::signature::sign;
use rdkafka::message::Headers;

const SECRET: &str = "kafka-test-secret";
const SIGNING_KEY: &str = "kafka-test-signing-key-0123";
const SHA: &str = "9fceb02d0ae598e95dc970b74767f19372d61af8";

async fn deliver(port: u16, signature: String, body: Vec<u8>) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/webhook"))
        .header("x-github-event", "push")
        .header("x-github-delivery", "kafka-test")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_push_reaches_the_push_topic() {
    let brokers = broker();
    let topic = unique("dumcel.push.test");
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.hcl");
    let mut f = std::fs::File::create(&config).unwrap();
    write!(
        f,
        r#"
target = "ecs"
kafka {{
  brokers      = "{brokers}"
  push_topic   = "{topic}"
  events_topic = "{topic}.events"
  dlq_topic    = "{topic}.dlq"
}}
webhook {{
  listen     = "127.0.0.1:{port}"
  secret_env = "TEST_WEBHOOK_SECRET"
}}
repository "octo/app" {{
  stack = "deploy"
}}
"#
    )
    .unwrap();
    let log = dir.path().join("webhook.log");
    let mut daemon = Daemon {
        child: Command::new(env!("CARGO_BIN_EXE_dumcel-pipeline"))
            .args(["webhook", "--config"])
            .arg(&config)
            .env("TEST_WEBHOOK_SECRET", SECRET)
            .env("DUMCEL_PUSH_SIGNING_KEY", SIGNING_KEY)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        log,
    };
    wait_for_port(port, &mut daemon);

    let forged = common::branch_push("octo/app", "main", &"f".repeat(40), "file:///x.git");
    assert_eq!(deliver(port, sign(b"guess", &forged), forged).await, 401);
    let body = common::branch_push("octo/app", "main", SHA, "file:///srv/app.git");
    assert_eq!(
        deliver(port, sign(SECRET.as_bytes(), &body), body).await,
        202
    );

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", unique("test-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        assert!(Instant::now() < deadline, "nothing arrived on {topic}");
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => break m.detach(),
            Some(Err(e)) => eprintln!("poll: {e}"),
            None => {}
        }
    };
    assert_eq!(message.key(), Some(&b"octo/app"[..]));
    // Signed for the workers: the header verifies under the pipeline's key.
    let signature = message
        .headers()
        .and_then(|h| h.iter().find(|h| h.key == SIGNATURE_HEADER))
        .and_then(|h| h.value);
    let push = Push::from_signed(
        message.payload().unwrap(),
        signature,
        SIGNING_KEY.as_bytes(),
    )
    .expect("a signed push message");
    assert_eq!(push.sha, SHA, "the forged push must never be queued");
    assert_eq!(push.branch, "main");

    // SIGTERM: a clean stop.
    let status = daemon.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status}");
}
