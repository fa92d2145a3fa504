//! The page that asks before an action: says what will happen, and its
//! button sends the action to the API (see `dashboard.js`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::layout::{self, commit};
use super::projects::link;
use super::{PageError, secured, viewer};
use crate::access::Permission;
use crate::api::projects::{allowed, environments_of, history};
use crate::api::{ApiError, ApiState};
use crate::environment::PRODUCTION;
use crate::records::Outcome;

#[derive(Deserialize)]
pub struct ConfirmQuery {
    /// For a rollback: the deployment to return to.
    deployment: Option<String>,
}

/// `/projects/{project}/environments/{environment}/{action}`.
pub async fn page(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, environment, action)): Path<(String, String, String)>,
    Query(query): Query<ConfirmQuery>,
) -> Result<Response, PageError> {
    let return_to = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let viewer = viewer(&state, &headers, &return_to)?;
    let (_, repo) = allowed(&state, &viewer, &name, Permission::Deploy)?;
    let records = history(&state, &repo.project, None).await?;
    let env = environments_of(&state, repo, &records)
        .await?
        .into_iter()
        .find(|e| e.name == environment)
        .ok_or_else(|| {
            ApiError::not_found(format!("project {name} has no environment {environment:?}"))
        })?;
    let serving = env.serving.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("{environment} serves nothing: there is nothing to {action}"),
        )
    })?;
    let preview_only = || -> Result<(), ApiError> {
        if environment == PRODUCTION {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("only a preview can be {action}d: {environment} is production"),
            ));
        }
        Ok(())
    };
    let (title, question, body, danger): (String, Markup, serde_json::Value, bool) = match action
        .as_str()
    {
        "rollback" => {
            let delivery = query.deployment.ok_or_else(|| {
                ApiError::invalid("say which deployment to roll back to: ?deployment=<delivery>")
            })?;
            let to = records
                .iter()
                .find(|r| r.delivery == delivery)
                .filter(|r| r.environment == environment && r.outcome == Outcome::Succeeded)
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "{environment} has no succeeded deployment {delivery:?} to roll back to"
                    ))
                })?;
            (
                format!("Roll back {environment}"),
                html! {
                    "Roll " strong { (environment) } " back from " (commit(&serving.sha))
                    " to " (commit(&to.sha)) " " span.message { (to.message) }
                    ", as deployed at " (layout::when(&to.finished_at)) "?"
                },
                json!({ "deployment": delivery }),
                true,
            )
        }
        "redeploy" => (
            format!("Redeploy {environment}"),
            html! {
                "Build and deploy " strong { (environment) } " again from the newest commit of its branch"
                @if let Some(branch) = &env.branch { " " code { (branch) } }
                "?"
            },
            json!({}),
            false,
        ),
        "promote" => {
            preview_only()?;
            (
                format!("Promote {environment}"),
                html! {
                    "Run production on the image " strong { (environment) } " serves, "
                    (commit(&serving.sha)) ", with the default branch's stack?"
                },
                json!({}),
                true,
            )
        }
        "destroy" => {
            preview_only()?;
            (
                format!("Destroy {environment}"),
                html! {
                    "Destroy the preview " strong { (environment) } ": its containers, its URL and its state?"
                },
                json!({}),
                true,
            )
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no action {other:?}: rollback, redeploy, promote or destroy"
            ))
            .into());
        }
    };
    let api = format!(
        "/api/v1{}/{action}",
        link(&[&name, "environments", &environment])
    );
    let page_body = html! {
        h1 { (title) }
        p.question { (question) }
        form.confirm data-api=(api) data-body=(body.to_string()) data-then=(link(&[&name])) {
            button type="submit" class=(if danger { "danger" } else { "primary" }) { (title) }
            " "
            a.button.quiet href=(link(&[&name])) { "Cancel" }
            p.error role="alert" hidden {}
        }
    };
    Ok(secured(
        StatusCode::OK,
        layout::page(&title, Some(&viewer), page_body).into_string(),
    ))
}
