//! A stack change waiting for approval (see [`crate::approval`]): its plan,
//! and the people allowed to approve deciding on it. Approving records the
//! decision and queues the environment's redeploy, through the same queue
//! and lane as every push; rejecting records it, and nothing runs.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use axum::body::Bytes;

use super::actions::{NoOptions, accepted, body, steering};
use super::projects::{allowed, find_deployment};
use super::stream::kept;
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
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// The plan the worker kept of `delivery`; a 404 naming why when there is none.
pub async fn kept_plan(
    state: &ApiState,
    project: &str,
    delivery: &str,
) -> Result<Vec<u8>, ApiError> {
    let no_deployment =
        || ApiError::not_found(format!("project {project} has no deployment {delivery:?}"));
    let key = plan_key(project, delivery).ok_or_else(no_deployment)?;
    if let Some(text) = kept(state, &key, "plan").await? {
        return Ok(text);
    }
    if find_deployment(state, project, delivery).await?.is_none() {
        return Err(no_deployment());
    }
    Err(ApiError::not_found(format!(
        "deployment {delivery} has no plan: only a preview push that changes the stack waits with one"
    )))
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

/// `POST .../deployments/{delivery}/approve`: 202 with the queued redeploy.
pub async fn approve(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((name, delivery)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::Approve)?;
    let NoOptions {} = body(&bytes)?;
    let record = waiting(&state, &repo.project, &delivery).await?;
    state
        .records
        .decide(
            &record.project,
            &record.sha,
            &Decision::now(true, &caller.name),
        )
        .await?;
    tracing::info!(caller = %caller.name, sha = %record.sha, "api: approved the stack change of {delivery}");
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
    Path((name, delivery)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::Approve)?;
    let NoOptions {} = body(&bytes)?;
    let record = waiting(&state, &repo.project, &delivery).await?;
    state
        .records
        .decide(
            &record.project,
            &record.sha,
            &Decision::now(false, &caller.name),
        )
        .await?;
    tracing::info!(caller = %caller.name, sha = %record.sha, "api: rejected the stack change of {delivery}");
    Ok(Json(json!({
        "rejected": true,
        "delivery": delivery,
        "sha": record.sha,
        "by": caller.name,
    })))
}
