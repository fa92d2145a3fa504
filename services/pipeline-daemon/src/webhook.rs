//! `dumcel-pipeline webhook`: GitHub deliveries in, pushes out to Kafka.
//!
//! The body is checked in this order: size (413 over the limit), signature
//! (401: missing or wrong `X-Hub-Signature-256`), event (`ping` answers 200,
//! other events are acknowledged and dropped), then the push itself (400 when
//! malformed). A valid push is produced to the push topic keyed by repository
//! and answered 202 only once the broker has it; a broker failure answers 503
//! so that GitHub delivers again.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use crate::push::{Push, PushError};
use crate::signature;

/// Where accepted pushes go: Kafka in the daemon, a vector in unit tests.
#[async_trait::async_trait]
pub trait PushSink: Send + Sync {
    async fn send(&self, key: &str, payload: Vec<u8>) -> Result<(), String>;
}

struct Receiver {
    secret: Vec<u8>,
    sink: Arc<dyn PushSink>,
}

/// The webhook's routes: `POST /webhook` (and `/`, for a bare URL).
pub fn router(secret: Vec<u8>, max_body_bytes: usize, sink: Arc<dyn PushSink>) -> Router {
    let state = Arc::new(Receiver { secret, sink });
    Router::new()
        .route("/webhook", post(deliver))
        .route("/", post(deliver))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
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
        .unwrap_or("-")
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
    match receiver
        .sink
        .send(&push.repository, push.to_message())
        .await
    {
        Ok(()) => {
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
