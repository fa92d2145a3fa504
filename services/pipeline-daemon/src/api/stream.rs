//! Events: one deployment's, and a project's as they happen, as
//! Server-Sent Events (`text/event-stream`): each with its name as the SSE
//! event, the worker's JSON as data and an id a reconnecting client sends
//! back as `Last-Event-ID` to get what it missed.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::event_log::Entry;
use super::projects::{allowed, find_deployment};
use super::{ApiError, ApiState};
use crate::access::{Caller, Permission};

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
    let events: Vec<&Value> = events.iter().map(|e| &e.event).collect();
    Ok(Json(json!({ "events": events })))
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
