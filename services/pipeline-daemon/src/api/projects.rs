//! The read routes: who the caller is, the projects they may see, each
//! project's environments and its deployment history.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::views::{Deployment, Environment, Project};
use super::{ApiError, ApiState, page};
use crate::access::{Caller, Permission};
use crate::commands::repository;
use crate::config::Repository;
use crate::records::{Record, newest, now_ms};

/// The project `name`, when `caller` may do `permission` with it: 404 for
/// a project that does not exist, 403 for one the caller may not see or act on.
pub fn allowed<'a>(
    state: &'a ApiState,
    caller: &Caller,
    name: &str,
    permission: Permission,
) -> Result<(&'a str, &'a Repository), ApiError> {
    let (repository, repo) = repository(&state.config, name)
        .map_err(|_| ApiError::not_found(format!("no project {name:?}")))?;
    if repo.access.allows(caller, permission) {
        return Ok((repository, repo));
    }
    let what = match permission {
        Permission::View => "see",
        Permission::Deploy => "deploy",
        Permission::Approve => "approve changes of",
    };
    Err(ApiError::forbidden(format!(
        "{} may not {what} project {name}: its repository's `access` block decides who may",
        caller.name
    )))
}

pub async fn me(caller: Caller) -> Json<Value> {
    let mut me = json!({"name": caller.name, "principals": caller.principals});
    // A signed-in person's page reads the token its actions must carry.
    if let Some(csrf) = caller.csrf {
        me["csrf_token"] = json!(csrf);
    }
    Json(me)
}

pub async fn list(State(state): State<Arc<ApiState>>, caller: Caller) -> Json<Value> {
    Json(json!({ "projects": visible(&state, &caller) }))
}

/// The projects `caller` may see.
pub fn visible(state: &ApiState, caller: &Caller) -> Vec<Project> {
    state
        .config
        .repositories
        .iter()
        .filter(|(_, r)| r.access.allows(caller, Permission::View))
        .map(|(name, r)| Project::of(name, r, caller))
        .collect()
}

/// Every record of `project`, over all its environments (or only `only`).
pub async fn history(
    state: &ApiState,
    project: &str,
    only: Option<&str>,
) -> Result<Vec<Record>, ApiError> {
    let mut records = Vec::new();
    for env in state.records.environments().await? {
        if env.project == project && only.is_none_or(|o| o == env.environment) {
            records.extend(state.records.history(project, &env.environment).await?);
        }
    }
    Ok(records)
}

pub async fn one(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (repository, repo) = allowed(&state, &caller, &name, Permission::View)?;
    let records = history(&state, &repo.project, None).await?;
    Ok(Json(json!({
        "project": Project::of(repository, repo, &caller),
        "environments": environments_of(&state, repo, &records).await?,
    })))
}

/// `repo`'s environments, by name; `records` is its history (from
/// [`history`]), which the caller has read already.
pub async fn environments_of(
    state: &ApiState,
    repo: &Repository,
    records: &[Record],
) -> Result<Vec<Environment>, ApiError> {
    let now = now_ms();
    let mut environments = Vec::new();
    for status in state.records.environments().await? {
        if status.project != repo.project {
            continue;
        }
        let last = newest(
            records
                .iter()
                .filter(|r| r.environment == status.environment),
        );
        environments.push(Environment::of(
            &state.config,
            &state.api,
            repo,
            &status,
            last,
            now,
        ));
    }
    environments.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(environments)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentsQuery {
    environment: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn deployments(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(name): Path<String>,
    query: Result<Query<DeploymentsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let (_, repo) = allowed(&state, &caller, &name, Permission::View)?;
    let limit = page::limit(query.limit.as_deref())?;
    let records = history(&state, &repo.project, query.environment.as_deref()).await?;
    let (records, next) = page::page(records, query.cursor.as_deref(), limit)?;
    let deployments: Vec<Deployment> = records.iter().map(Deployment::from).collect();
    Ok(Json(
        json!({ "deployments": deployments, "next_cursor": next }),
    ))
}

/// The record of `delivery`, in whichever of `project`'s environments it is.
pub async fn find_deployment(
    state: &ApiState,
    project: &str,
    delivery: &str,
) -> Result<Option<Record>, ApiError> {
    for env in state.records.environments().await? {
        if env.project != project {
            continue;
        }
        if let Some(record) = state
            .records
            .get(project, &env.environment, delivery)
            .await?
        {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

pub async fn deployment(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((name, delivery)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (_, repo) = allowed(&state, &caller, &name, Permission::View)?;
    match find_deployment(&state, &repo.project, &delivery).await? {
        Some(record) => Ok(Json(json!(Deployment::from(&record)))),
        None => Err(ApiError::not_found(format!(
            "project {name} has no deployment {delivery:?}"
        ))),
    }
}
