//! `dumcel-pipeline webhook`: GitHub deliveries in, signed pushes out to Kafka.
//!
//! The body is checked in this order: size (413 over the limit), signature
//! (401: missing or wrong `X-Hub-Signature-256`), event (`ping` answers 200,
//! other events are acknowledged and dropped), the delivery id (400 when
//! missing; a delivery seen within the dedup window is answered 200 and not
//! queued again, so a captured body replayed does nothing), then the push
//! itself (400 when malformed). A valid push is signed with the pipeline's
//! key and produced to the push topic keyed by repository, and answered 202
//! only once the broker has it; a broker failure answers 503 so that GitHub
//! delivers again. Slow and idle clients are cut off by [`crate::webhook_server`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::push::{Push, PushError, valid_delivery};
use crate::signature;

/// Where accepted pushes go: Kafka in the daemon, a vector in unit tests.
#[async_trait::async_trait]
pub trait PushSink: Send + Sync {
    /// Queues `payload` under `key`, with its signature header.
    async fn send(&self, key: &str, payload: Vec<u8>, signature: String) -> Result<(), String>;
}

/// Delivery ids seen lately, oldest first, bounded in time and number.
pub struct Seen {
    window: Duration,
    capacity: usize,
    order: VecDeque<(Instant, String)>,
    ids: HashMap<String, Instant>,
}

impl Seen {
    pub fn new(window: Duration, capacity: usize) -> Seen {
        Seen {
            window,
            capacity,
            order: VecDeque::new(),
            ids: HashMap::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, id)) = self.order.front() {
            if now.duration_since(*at) < self.window && self.order.len() <= self.capacity {
                break;
            }
            if self.ids.get(id) == Some(at) {
                self.ids.remove(id);
            }
            self.order.pop_front();
        }
    }

    /// Whether `id` was queued within the window.
    pub fn contains(&mut self, id: &str) -> bool {
        self.expire(Instant::now());
        self.ids.contains_key(id)
    }

    /// Remembers `id` as queued now.
    pub fn insert(&mut self, id: &str) {
        let now = Instant::now();
        self.ids.insert(id.to_owned(), now);
        self.order.push_back((now, id.to_owned()));
        self.expire(now);
    }
}

pub struct Receiver {
    pub secret: Vec<u8>,
    /// The key push messages are signed with.
    pub signing_key: Vec<u8>,
    pub sink: Arc<dyn PushSink>,
    pub seen: Mutex<Seen>,
}

/// The webhook's routes: `POST /webhook` (and `/`, for a bare URL).
pub fn router(receiver: Receiver, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/webhook", post(deliver))
        .route("/", post(deliver))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(Arc::new(receiver))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn deliver(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let delivery = header(&headers, "x-github-delivery")
        .unwrap_or_default()
        .to_owned();
    if let Err(e) = signature::verify(
        &receiver.secret,
        &body,
        header(&headers, "x-hub-signature-256"),
    ) {
        tracing::warn!(%delivery, "refused a delivery: {e}");
        return (StatusCode::UNAUTHORIZED, format!("{e}\n"));
    }
    match header(&headers, "x-github-event") {
        Some("ping") => return (StatusCode::OK, "pong\n".into()),
        Some("push") => {}
        Some(other) => {
            return (
                StatusCode::ACCEPTED,
                format!("event {other:?} ignored: only push deploys\n"),
            );
        }
        None => {
            return (
                StatusCode::BAD_REQUEST,
                "the X-GitHub-Event header is missing\n".into(),
            );
        }
    }
    if !valid_delivery(&delivery) {
        return (
            StatusCode::BAD_REQUEST,
            "the X-GitHub-Delivery header is missing or not a delivery id\n".into(),
        );
    }
    let seen = |r: &Receiver| {
        r.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&delivery)
    };
    if seen(&receiver) {
        tracing::warn!(%delivery, "a delivery seen before: not queued again");
        return (
            StatusCode::OK,
            "already queued: this delivery was received before\n".into(),
        );
    }
    let push = match Push::from_github(&body, &delivery) {
        Ok(p) => p,
        // Tag pushes come to the same hook; only branches deploy.
        Err(e @ PushError::NotABranch(_)) => {
            return (StatusCode::ACCEPTED, format!("ignored: {e}\n"));
        }
        Err(e) => {
            tracing::warn!(%delivery, "malformed push: {e}");
            return (StatusCode::BAD_REQUEST, format!("malformed push: {e}\n"));
        }
    };
    let (payload, signature) = push.signed_message(&receiver.signing_key);
    match receiver
        .sink
        .send(&push.repository, payload, signature)
        .await
    {
        Ok(()) => {
            receiver
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(&delivery);
            tracing::info!(%delivery, repository = %push.repository, branch = %push.branch, sha = %push.sha, "push queued");
            (StatusCode::ACCEPTED, "queued\n".into())
        }
        Err(e) => {
            tracing::error!(%delivery, "cannot queue the push: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the push could not be queued; deliver it again\n".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_deliveries_expire_by_time_and_by_number() {
        let mut seen = Seen::new(Duration::from_millis(50), 2);
        seen.insert("a");
        assert!(seen.contains("a"));
        seen.insert("b");
        seen.insert("c");
        assert!(!seen.contains("a"), "over capacity, the oldest goes");
        assert!(seen.contains("b") && seen.contains("c"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!seen.contains("c"), "after the window");
        assert!(valid_delivery("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert!(!valid_delivery("") && !valid_delivery("a b") && !valid_delivery(&"a".repeat(65)));
    }
}
