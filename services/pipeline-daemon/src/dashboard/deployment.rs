//! One deployment: what it was, its steps, and its build log, which
//! `dashboard.js` follows line by line while it runs.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;

use super::layout::{self, commit, outcome, when};
use super::projects::{link, rollback_link};
use super::{PageError, secured, viewer};
use crate::access::Permission;
use crate::api::approvals::kept_plan;
use crate::api::projects::{allowed, environments_of, history};
use crate::api::stream::kept_build_log;
use crate::api::views::{Deployment, Project};
use crate::api::{ApiError, ApiState};
use crate::records::Outcome;

/// `/projects/{project}/deployments/{delivery}`.
pub async fn page(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    Path((name, delivery)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers, uri.path())?;
    let (repository, repo) = allowed(&state, &viewer, &name, Permission::View)?;
    let project = Project::of(repository, repo, &viewer);
    let records = history(&state, &repo.project, None).await?;
    let record = records
        .iter()
        .find(|r| r.delivery == delivery)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "project {name} has no deployment {delivery:?} (yet: a queued one appears when a worker takes it)"
            ))
        })?;
    let running = record.outcome == Outcome::InProgress;
    let events = state.events.of_deployment(&repo.project, &delivery);
    // While it runs, the lines seen so far (the page follows the rest);
    // after, the log the worker kept.
    let (lines, kept_log) = if running {
        let lines: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e.name == "build_log")
            .map(|e| {
                (
                    e.event["id"].as_str().unwrap_or_default(),
                    e.event["line"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        (lines, Err(String::new()))
    } else {
        let kept = kept_build_log(&state, &repo.project, &delivery)
            .await
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|e| e.message);
        (Vec::new(), kept)
    };
    // A stack change waiting: its plan, and whether someone decided.
    let approval = if record.outcome == Outcome::AwaitingApproval {
        let plan = kept_plan(&state, &repo.project, &delivery)
            .await
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|e| e.message);
        let decision = state
            .records
            .decision(&repo.project, &record.sha)
            .await
            .map_err(ApiError::from)?;
        Some((plan, decision))
    } else {
        None
    };
    let environments = environments_of(&state, repo, &records).await?;
    let d = Deployment::from(&record);
    let field = |label: &str, value: Option<&str>| {
        html! { @if let Some(v) = value { div { dt { (label) } dd { (v) } } } }
    };
    let body = html! {
        p { a href=(link(&[&project.name])) { "← " (project.name) } }
        h1 {
            (commit(&d.sha)) " "
            @if let Some(m) = &d.message { span.message { (m) } }
        }
        p { (outcome(d.outcome)) " " (d.trigger) " to " strong { (d.environment) } }
        @if let Some(href) = rollback_link(&project, &record, &environments) {
            p.actions { a.button href=(href) { "Roll back to this" } }
        }
        @if let Some((plan, decision)) = &approval {
            section.approval {
                h2 { "Stack change" }
                p { "This branch changes the stack. What applying the branch's stack would do:" }
                @match plan {
                    Ok(text) => pre #plan { (text) },
                    Err(why) => p.muted { (why) },
                }
                @match decision {
                    Some(decided) => p.decision data-approved=(decided.approved) {
                        (if decided.approved { "Approved" } else { "Rejected" }) " by " (decided.by) " at " (when(&decided.at))
                    },
                    None if project.can_approve => p.actions {
                        form.inline data-api=(format!("/api/v1{}/approve", link(&[&project.name, "deployments", &d.delivery]))) data-then=(link(&[&project.name])) {
                            button.primary type="submit" { "Approve and deploy" }
                            p.error role="alert" hidden {}
                        }
                        " "
                        form.inline data-api=(format!("/api/v1{}/reject", link(&[&project.name, "deployments", &d.delivery]))) data-then=(link(&[&project.name, "deployments", &d.delivery])) {
                            button.danger type="submit" { "Reject" }
                            p.error role="alert" hidden {}
                        }
                    },
                    None => p.muted { "Waiting for a person the project lets approve." },
                }
            }
        }
        dl.fields {
            (field("Branch", d.branch.as_deref()))
            (field("By", d.pusher.as_deref()))
            (field("Image", d.image.as_deref()))
            (field("Digest", d.digest.as_deref()))
            (field("Started", d.started_at.as_deref().map(when).as_deref()))
            (field("Built", d.built_at.as_deref().map(when).as_deref()))
            (field("Finished", d.finished_at.as_deref().map(when).as_deref()))
            (field("Reason", d.reason.as_deref()))
            div { dt { "Delivery" } dd { code { (d.delivery) } } }
        }
        h2 { "Steps" }
        ol.steps {
            @for e in events.iter().filter(|e| e.name != "build_log") {
                li data-step=(e.name) {
                    span.muted { (when(e.event["at"].as_str().unwrap_or_default())) } " " (e.name.replace('_', " "))
                    @if let Some(reason) = e.event["reason"].as_str().filter(|r| !r.is_empty()) { ": " (reason) }
                }
            }
        }
        h2 { "Build log" }
        @match &kept_log {
            Ok(text) => pre #log { (text) },
            Err(why) if !running => p.muted { (why) },
            Err(_) => {
                pre #log data-follow=(d.delivery) data-live=(project.name) {
                    @for (id, line) in &lines { span data-id=(id) { (line) "\n" } }
                }
            }
        }
    };
    Ok(secured(
        StatusCode::OK,
        layout::page(&format!("{} {}", project.name, &d.sha), Some(&viewer), body).into_string(),
    ))
}
