//! The webhook receiver over real HTTP on loopback: what GitHub (or anyone
//! else) gets back for each kind of delivery, and what reaches the queue. The
//! queue here is an in-memory sink; tests/webhook_kafka.rs uses the real broker.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dumcel_pipeline::push::Push;
use dumcel_pipeline::signature::sign;
use dumcel_pipeline::webhook::{PushSink, Receiver, Seen, router};
use dumcel_pipeline::webhook_server::{Limits, serve as serve_webhook};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &[u8] = b"webhook-secret-for-tests";
const SIGNING_KEY: &[u8] = b"the-pipeline-signing-key";
const DELIVERY: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

#[derive(Default)]
struct Queue {
    messages: Mutex<Vec<(String, Push)>>,
    broken: bool,
}

#[async_trait::async_trait]
impl PushSink for Queue {
    async fn send(&self, key: &str, payload: Vec<u8>, signature: String) -> Result<(), String> {
        if self.broken {
            return Err("broker unreachable".into());
        }
        // What a worker would do with it: check the signature, then read it.
        let push = Push::from_signed(&payload, Some(signature.as_bytes()), SIGNING_KEY)
            .map_err(|e| e.to_string())?;
        self.messages.lock().unwrap().push((key.to_owned(), push));
        Ok(())
    }
}

const LIMITS: Limits = Limits {
    max_connections: 4,
    header_timeout: Duration::from_millis(500),
    request_timeout: Duration::from_secs(1),
};

/// Serves the webhook on an ephemeral loopback port, as the daemon does;
/// returns its URL.
async fn serve(queue: Arc<Queue>, max_body: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = Receiver {
        secret: SECRET.to_vec(),
        signing_key: SIGNING_KEY.to_vec(),
        sink: queue,
        seen: Mutex::new(Seen::new(Duration::from_secs(3600), 1000)),
    };
    tokio::spawn(async move {
        serve_webhook(
            listener,
            router(receiver, max_body),
            &LIMITS,
            std::future::pending(),
        )
        .await
        .unwrap()
    });
    format!("http://{addr}/webhook")
}

async fn deliver(
    url: &str,
    event: Option<&str>,
    signature: Option<String>,
    body: Vec<u8>,
) -> (u16, String) {
    deliver_as(url, DELIVERY, event, signature, body).await
}

async fn deliver_as(
    url: &str,
    delivery: &str,
    event: Option<&str>,
    signature: Option<String>,
    body: Vec<u8>,
) -> (u16, String) {
    // reqwest is built without a default TLS provider; plain HTTP still needs one set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-delivery", delivery);
    if let Some(e) = event {
        req = req.header("x-github-event", e);
    }
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    let resp = req.body(body).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_signed_push_is_queued_keyed_by_repository() {
    let queue = Arc::new(Queue::default());
    let url = serve(queue.clone(), 1 << 20).await;
    let body = common::branch_push("octo/app", "main", SHA, "file:///srv/app.git");
    let (status, text) = deliver(&url, Some("push"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 202, "{text}");
    let messages = queue.messages.lock().unwrap();
    assert_eq!(messages.len(), 1);
    let (key, push) = &messages[0];
    assert_eq!(key, "octo/app");
    assert_eq!(push.branch, "main");
    assert_eq!(push.sha, SHA);
    assert_eq!(push.delivery, DELIVERY);
    assert!(!push.deleted);
}

/// A captured, correctly signed delivery replayed (here a "branch deleted",
/// which would destroy a preview each time) is queued once.
#[tokio::test]
async fn a_replayed_delivery_is_queued_once() {
    let queue = Arc::new(Queue::default());
    let url = serve(queue.clone(), 1 << 20).await;
    let body = common::branch_deleted("octo/app", "feature", SHA, "file:///srv/app.git");
    let (status, _) = deliver(&url, Some("push"), Some(sign(SECRET, &body)), body.clone()).await;
    assert_eq!(status, 202);
    for _ in 0..3 {
        let (status, text) =
            deliver(&url, Some("push"), Some(sign(SECRET, &body)), body.clone()).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("already queued"), "{text}");
    }
    // Another delivery (GitHub's next event) is its own.
    let (status, _) = deliver_as(
        &url,
        "0b989ba4-242f-11e5-81e1-c7b6966d2516",
        Some("push"),
        Some(sign(SECRET, &body)),
        body,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(queue.messages.lock().unwrap().len(), 2);
    // A delivery without an id is refused: it could never be told apart.
    let body = common::branch_push("octo/app", "main", SHA, "file:///srv/app.git");
    let (status, _) = deliver_as(&url, "", Some("push"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 400);
}

/// Raw TCP: what a slow or idle client gets.
async fn connect(url: &str) -> tokio::net::TcpStream {
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/webhook");
    tokio::net::TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut tokio::net::TcpStream, within: Duration) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut out))
        .await
        .expect("the server closed the connection in time")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_and_cannot_hold_every_connection() {
    let queue = Arc::new(Queue::default());
    let url = serve(queue.clone(), 1 << 20).await;

    // Headers that never end: closed after header_timeout.
    let mut slow = connect(&url).await;
    slow.write_all(b"POST /webhook HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    read_to_close(&mut slow, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(3));

    // A body that never comes: 408 after request_timeout.
    let mut stalled = connect(&url).await;
    stalled
        .write_all(b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\nx-github-event: push\r\n\r\n{")
        .await
        .unwrap();
    let answer = read_to_close(&mut stalled, Duration::from_secs(6)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");

    // More idle connections than the limit: the webhook still answers a
    // real delivery once theirs time out, and never more than the limit
    // are served at once.
    let mut idle = Vec::new();
    for _ in 0..(LIMITS.max_connections * 2) {
        idle.push(connect(&url).await);
    }
    let body = common::branch_push("octo/app", "main", SHA, "file:///srv/app.git");
    let started = std::time::Instant::now();
    let (status, _) = deliver(&url, Some("push"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 202);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the idle connections were cut off: {:?}",
        started.elapsed()
    );
    assert_eq!(queue.messages.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_or_missing_signatures_are_refused_and_nothing_is_queued() {
    let queue = Arc::new(Queue::default());
    let url = serve(queue.clone(), 1 << 20).await;
    let body = common::branch_push("octo/app", "main", SHA, "file:///srv/app.git");
    let (status, _) = deliver(
        &url,
        Some("push"),
        Some(sign(b"wrong secret", &body)),
        body.clone(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = deliver(&url, Some("push"), None, body.clone()).await;
    assert_eq!(status, 401);
    let mut tampered = body.clone();
    let sig = sign(SECRET, &body);
    tampered.extend_from_slice(b" ");
    let (status, _) = deliver(&url, Some("push"), Some(sig), tampered).await;
    assert_eq!(status, 401);
    assert!(queue.messages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn malformed_oversized_and_other_deliveries() {
    let queue = Arc::new(Queue::default());
    let url = serve(queue.clone(), 64 * 1024).await;

    let body = b"{\"ref\": ".to_vec();
    let (status, text) = deliver(&url, Some("push"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("malformed push"), "{text}");

    let body = vec![b' '; 64 * 1024 + 1];
    let (status, _) = deliver(&url, Some("push"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 413);

    let body = b"{\"zen\": \"Keep it logically awesome.\"}".to_vec();
    let (status, text) = deliver(&url, Some("ping"), Some(sign(SECRET, &body)), body.clone()).await;
    assert_eq!((status, text.as_str()), (200, "pong\n"));
    let (status, _) = deliver(&url, None, Some(sign(SECRET, &body)), body.clone()).await;
    assert_eq!(status, 400);
    let (status, text) = deliver(&url, Some("issues"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 202);
    assert!(text.contains("ignored"), "{text}");

    // GitHub's own tag-push example: acknowledged, not deployed.
    let tag = serde_json::to_vec(&common::github_pushes()[0]).unwrap();
    let (status, text) = deliver(&url, Some("push"), Some(sign(SECRET, &tag)), tag).await;
    assert_eq!(status, 202, "{text}");
    assert!(text.contains("not a branch"), "{text}");
    assert!(queue.messages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_push_the_queue_cannot_take_is_answered_503_for_redelivery() {
    let queue = Arc::new(Queue {
        broken: true,
        ..Queue::default()
    });
    let url = serve(queue, 1 << 20).await;
    let body = common::branch_push("octo/app", "main", SHA, "file:///srv/app.git");
    let (status, text) = deliver(&url, Some("push"), Some(sign(SECRET, &body)), body).await;
    assert_eq!(status, 503);
    assert!(
        !text.contains("broker unreachable"),
        "internal detail leaked: {text}"
    );
}
