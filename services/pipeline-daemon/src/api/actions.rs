//! The action routes. Each queues a signed message on the push topic and
//! answers 202 with its delivery id; a worker runs it in the environment's
//! lane, and its record and events appear under that id.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::projects::allowed;
use super::views::QueuedView;
use super::{ApiError, ApiState};
use crate::access::{Caller, Permission};
use crate::commands::{self, Queued, RollbackTo, Steering};

/// A rollback's body: at most one of the two; neither means the newest
/// good deployment before the one the environment serves.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    /// A deployment's delivery id.
    deployment: Option<String>,
    /// A commit (a prefix of its SHA will do).
    sha: Option<String>,
}

/// A JSON object, or nothing at all (an empty body means no options).
pub fn body<T: serde::de::DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("the request body: {e}")))
}

/// The commands' context for `caller`'s request.
pub fn steering<'a>(state: &'a ApiState, caller: &'a Caller) -> Steering<'a> {
    Steering {
        config: &state.config,
        records: state.records.as_ref(),
        outbox: &state.outbox,
        by: &caller.name,
    }
}

/// 202 with the queued message, logged with who asked.
pub fn accepted(caller: &Caller, queued: Queued) -> (StatusCode, Json<QueuedView>) {
    tracing::info!(caller = %caller.name, delivery = %queued.delivery, "api: {}", queued.to_string().trim_end());
    (StatusCode::ACCEPTED, Json(queued.into()))
}

pub async fn rollback(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((project, environment)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    allowed(&state, &caller, &project, Permission::Deploy)?;
    let body: RollbackBody = body(&bytes)?;
    let to = match (&body.deployment, &body.sha) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("give `deployment` or `sha`, not both"));
        }
        (Some(d), None) => RollbackTo::Deployment(d),
        (None, Some(sha)) if sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
            RollbackTo::Commit(sha)
        }
        (None, Some(sha)) => {
            return Err(ApiError::invalid(format!(
                "sha {sha:?}: give at least 7 hex digits of the commit"
            )));
        }
        (None, None) => RollbackTo::Previous,
    };
    let queued = commands::rollback(&steering(&state, &caller), &project, &environment, to).await?;
    Ok(accepted(&caller, queued))
}

/// Redeploy, destroy and promote take no options: `{}` or an empty body.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

pub async fn redeploy(
    state: State<Arc<ApiState>>,
    caller: Caller,
    path: Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    without_options(Plain::Redeploy, state, caller, path, bytes).await
}

pub async fn destroy(
    state: State<Arc<ApiState>>,
    caller: Caller,
    path: Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    without_options(Plain::Destroy, state, caller, path, bytes).await
}

pub async fn promote(
    state: State<Arc<ApiState>>,
    caller: Caller,
    path: Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    without_options(Plain::Promote, state, caller, path, bytes).await
}

/// The actions that take no options.
enum Plain {
    Redeploy,
    Destroy,
    Promote,
}

async fn without_options(
    action: Plain,
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((project, environment)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<QueuedView>), ApiError> {
    allowed(&state, &caller, &project, Permission::Deploy)?;
    let NoOptions {} = body(&bytes)?;
    let steering = steering(&state, &caller);
    let queued = match action {
        Plain::Redeploy => commands::redeploy(&steering, &project, &environment).await?,
        Plain::Destroy => commands::destroy(&steering, &project, &environment).await?,
        Plain::Promote => commands::promote(&steering, &project, &environment).await?,
    };
    Ok(accepted(&caller, queued))
}
