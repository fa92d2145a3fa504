//! Events and build logs: one deployment's, and a project's as they happen
//! (build log lines among them, as `build_log` events), as
//! Server-Sent Events (`text/event-stream`): each with its name as the SSE
//! event, the worker's JSON as data and an id a reconnecting client sends
//! back as `Last-Event-ID` to get what it missed.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::event_log::Entry;
use super::projects::{allowed, find_deployment};
use super::{ApiError, ApiState};
use crate::access::{Caller, Permission};
use crate::build_log;

pub async fn of_deployment(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((name, delivery)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::View)?;
    let events = state.events.of_deployment(&repo.project, &delivery);
    if events.is_empty()
        && find_deployment(&state, &repo.project, &delivery)
            .await?
            .is_none()
    {
        return Err(ApiError::not_found(format!(
            "project {name} has no deployment {delivery:?}"
        )));
    }
    // Build output has a route of its own (`.../log`).
    let events: Vec<&Value> = events
        .iter()
        .filter(|e| e.name != "build_log")
        .map(|e| &e.event)
        .collect();
    Ok(Json(json!({ "events": events })))
}

/// The build log of a deployment, as plain text, as the worker kept it.
pub async fn build_log(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((name, delivery)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::View)?;
    let text = kept_build_log(&state, &repo.project, &delivery).await?;
    Ok(plain_text(text))
}

/// A text answer as the workers kept it.
pub fn plain_text(text: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// The build log the workers kept of `delivery`; a 404 naming why when
/// there is none.
pub async fn kept_build_log(
    state: &ApiState,
    project: &str,
    delivery: &str,
) -> Result<Vec<u8>, ApiError> {
    kept_of(
        state,
        project,
        delivery,
        build_log::key(project, delivery),
        "build log",
        "it built no image, or its worker kept the log on another machine (set build_logs_bucket to share them)",
    )
    .await
}

/// What the workers kept of `delivery` under `key` (`None`: an id that
/// cannot be a key), or a 404 saying which: no such deployment, or no
/// `what` for it (`why` says why).
pub async fn kept_of(
    state: &ApiState,
    project: &str,
    delivery: &str,
    key: Option<String>,
    what: &str,
    why: &str,
) -> Result<Vec<u8>, ApiError> {
    let no_deployment =
        || ApiError::not_found(format!("project {project} has no deployment {delivery:?}"));
    let key = key.ok_or_else(no_deployment)?;
    if let Some(text) = kept(state, &key, what).await? {
        return Ok(text);
    }
    if find_deployment(state, project, delivery).await?.is_none() {
        return Err(no_deployment());
    }
    Err(ApiError::not_found(format!(
        "deployment {delivery} has no {what}: {why}"
    )))
}

/// What the workers kept under `key` (`what`: a build log, a plan), from
/// this machine's disk (a worker beside `serve`) or else the bucket.
async fn kept(state: &ApiState, key: &str, what: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let unavailable = |e: String| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("reading the {what} {key}: {e}"),
        )
    };
    match tokio::fs::read(state.config.work_dir.join(key)).await {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match &state.build_logs {
            Some(bucket) => bucket.get(key).await.map_err(unavailable),
            None => Ok(None),
        },
        Err(e) => Err(unavailable(e.to_string())),
    }
}

enum Update {
    Event(Arc<Entry>),
    /// The client fell this many events behind and they were dropped.
    Lagged(u64),
}

pub async fn live(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::View)?;
    let project = repo.project.clone();
    let last_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let (receiver, replay, stored_upto) = state.events.follow(&project, last_id);
    let arriving = stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(entry) => Some((Update::Event(entry), receiver)),
            Err(RecvError::Lagged(missed)) => Some((Update::Lagged(missed), receiver)),
            Err(RecvError::Closed) => None,
        }
    })
    .filter(move |update| {
        let keep = match update {
            Update::Event(e) => e.project == project && e.seq > stored_upto,
            Update::Lagged(_) => true,
        };
        std::future::ready(keep)
    });
    let log = state.events.clone();
    let mut stop = state.stop.clone();
    let events = stream::iter(replay.into_iter().map(Update::Event))
        .chain(arriving)
        .map(move |update| {
            Ok(match update {
                Update::Event(e) => Event::default()
                    .id(log.id(&e))
                    .event(&e.name)
                    .data(e.event.to_string()),
                // Some events were dropped: the client should fetch the
                // lists again rather than trust what it has.
                Update::Lagged(missed) => Event::default()
                    .event("lagged")
                    .data(json!({ "missed": missed }).to_string()),
            })
        })
        // Ends with the server, so that a shutdown does not wait on it.
        .take_until(async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
