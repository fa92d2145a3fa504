//! The webhook receiver over real HTTP on loopback: what GitHub (or anyone
//! else) gets back for each kind of delivery, and what reaches the queue. The
//! queue here is an in-memory sink; tests/webhook_kafka.rs uses the real broker.

mod common;

use std::sync::{Arc, Mutex};

use dumcel_pipeline::signature::sign;
use dumcel_pipeline::webhook::{PushSink, router};

const SECRET: &[u8] = b"webhook-secret-for-tests";
const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

#[derive(Default)]
struct Queue {
    messages: Mutex<Vec<(String, serde_json::Value)>>,
    broken: bool,
}

#[async_trait::async_trait]
impl PushSink for Queue {
    async fn send(&self, key: &str, payload: Vec<u8>) -> Result<(), String> {
        if self.broken {
            return Err("broker unreachable".into());
        }
        let value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
        self.messages.lock().unwrap().push((key.to_owned(), value));
        Ok(())
    }
}

/// Serves the webhook on an ephemeral loopback port; returns its URL.
async fn serve(queue: Arc<Queue>, max_body: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router(SECRET.to_vec(), max_body, queue))
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
    // reqwest is built without a default TLS provider; plain HTTP still needs one set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
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
    let (key, msg) = &messages[0];
    assert_eq!(key, "octo/app");
    assert_eq!(msg["branch"], "main");
    assert_eq!(msg["sha"], SHA);
    assert_eq!(msg["clone_url"], "file:///srv/app.git");
    assert_eq!(msg["delivery"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_eq!(msg["deleted"], false);
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
