//! A stack change waiting for approval (see [`crate::approval`]): its plan,
//! and the people allowed to approve deciding on it. Approving records the
//! decision and queues the environment's redeploy, through the same queue
//! and lane as every push; rejecting records it, and nothing runs.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use axum::body::Bytes;

use super::actions::{NoOptions, accepted, body, steering};
use super::projects::{allowed, find_deployment};
use super::stream::{kept_of, plain_text};
use super::views::QueuedView;
use super::{ApiError, ApiState};
use crate::access::{Caller, Permission};
use crate::approval::plan_key;
use crate::commands;
use crate::records::{Decision, Outcome, Record};

/// `GET .../deployments/{delivery}/plan`: the plan, as `dumcel plan` prints it.
pub async fn plan(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((name, delivery)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::View)?;
    let text = kept_plan(&state, &repo.project, &delivery).await?;
    Ok(plain_text(text))
}

/// The plan the worker kept of `delivery`; a 404 naming why when there is none.
pub async fn kept_plan(
    state: &ApiState,
    project: &str,
    delivery: &str,
) -> Result<Vec<u8>, ApiError> {
    kept_of(
        state,
        project,
        delivery,
        plan_key(project, delivery),
        "plan",
        "only a preview push that changes the stack waits with one",
    )
    .await
}

/// The deployment `delivery`, when it waits for approval.
async fn waiting(state: &ApiState, project: &str, delivery: &str) -> Result<Record, ApiError> {
    let record = find_deployment(state, project, delivery)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("project {project} has no deployment {delivery:?}"))
        })?;
    if record.outcome != Outcome::AwaitingApproval {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "deployment {delivery} does not wait for approval (it {}): only a preview push that changes the stack does",
                record.outcome.as_str().replace('_', " ")
            ),
        ));
    }
    Ok(record)
}

/// Records `caller`'s decision on the stack change `delivery` waits with:
/// its record.
async fn decide(
    state: &ApiState,
    caller: &Caller,
    (name, delivery): (String, String),
    bytes: &Bytes,
    approved: bool,
) -> Result<Record, ApiError> {
    let (_, repo) = allowed(state, caller, &name, Permission::Approve)?;
    let NoOptions {} = body(bytes)?;
    let record = waiting(state, &repo.project, &delivery).await?;
    let decision = Decision::now(approved, &caller.name);
    state
        .records
        .decide(&record.project, &record.sha, &decision)
        .await?;
    let verb = if approved { "approved" } else { "rejected" };
    tracing::info!(caller = %caller.name, sha = %record.sha, "api: {verb} the stack change of {delivery}");
    Ok(record)
}

/// `POST .../deployments/{delivery}/approve`: 202 with the queued redeploy.
pub async fn approve(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    let record = decide(&state, &caller, path, &bytes, true).await?;
    let queued = commands::redeploy(
        &steering(&state, &caller),
        &record.project,
        &record.environment,
    )
    .await?;
    Ok(accepted(&caller, queued))
}

/// `POST .../deployments/{delivery}/reject`.
pub async fn reject(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let record = decide(&state, &caller, path, &bytes, false).await?;
    Ok(Json(json!({
        "rejected": true,
        "delivery": record.delivery,
        "sha": record.sha,
        "by": caller.name,
    })))
}
