//! The project list and a project's page: its environments, its numbers
//! and its deployment timeline, which `dashboard.js` redraws as events
//! arrive.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::{Markup, html};

use super::analytics::Analytics;
use super::layout::{self, commit, duration, outcome, when};
use super::{PageError, secured, viewer};
use crate::access::Permission;
use crate::api::ApiState;
use crate::api::projects::{allowed, environments_of, history, visible};
use crate::api::views::{Deployment, Environment, Project};
use crate::records::{Outcome, Record};

/// How many deployments the timeline shows.
const TIMELINE: usize = 50;

/// `/`: the projects the person may see, or a way to sign in.
pub async fn home(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    let viewer = match viewer(&state, &headers, "/") {
        Ok(viewer) => viewer,
        Err(PageError::SignIn { .. }) => {
            let body = html! {
                h1 { "Dumcel" }
                p { "See and steer your deployments." }
                p { a.button href="/auth/login?return_to=%2F" { "Sign in" } }
            };
            return secured(
                StatusCode::OK,
                layout::page("Sign in", None, body).into_string(),
            );
        }
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let projects = visible(&state, &viewer);
    let body = html! {
        h1 { "Projects" }
        @if projects.is_empty() {
            p.empty { "No project lets " (viewer.name) " see it. A repository's `access` block says who may." }
        }
        ul.projects {
            @for p in &projects {
                li {
                    a href=(link(&[&p.name])) { (p.name) }
                    span.muted { " " (p.repository) " · " (p.default_branch) }
                }
            }
        }
    };
    secured(
        StatusCode::OK,
        layout::page("Projects", Some(&viewer), body).into_string(),
    )
}

/// `/projects/{project}`.
pub async fn project(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers, uri.path())?;
    let (repository, repo) = allowed(&state, &viewer, &name, Permission::View)?;
    let project = Project::of(repository, repo, &viewer);
    let records = history(&state, &repo.project, None).await?;
    let environments = environments_of(&state, repo, &records).await?;
    let analytics = Analytics::of(&records);
    let (timeline, _) = crate::api::page::page(records, None, TIMELINE)?;
    let by_delivery: HashMap<&str, &Record> =
        timeline.iter().map(|r| (r.delivery.as_str(), r)).collect();
    let body = html! {
        h1 { (project.name) }
        p.muted { (project.repository) " · default branch " code { (project.default_branch) } }
        div #live data-live=(project.name) {
            section {
                h2 { "Environments" }
                @if environments.is_empty() { p.empty { "Nothing deployed yet: push to " code { (project.default_branch) } "." } }
                div.cards {
                    @for env in &environments { (card(&project, env, &by_delivery)) }
                }
            }
            section { h2 { "Numbers" } (numbers(&analytics)) }
            section {
                h2 { "Deployments" }
                (deployments(&project, &timeline, &environments))
            }
        }
    };
    Ok(secured(
        StatusCode::OK,
        layout::page(&project.name, Some(&viewer), body).into_string(),
    ))
}

/// An environment: its URL, what it serves and what can be done to it.
fn card(project: &Project, env: &Environment, by_delivery: &HashMap<&str, &Record>) -> Markup {
    let status = match (&env.lease, &env.last_deployment) {
        (Some(_), _) => "in_progress",
        (None, Some(last)) => last.outcome,
        (None, None) => "none",
    };
    let preview = env.name != crate::environment::PRODUCTION;
    let action = |verb: &str| link(&[&project.name, "environments", &env.name, verb]);
    html! {
        article.card data-environment=(env.name) {
            h3 { (env.name) " " (outcome(status)) }
            @if let Some(url) = &env.url {
                p { a.url href=(url) target="_blank" rel="noopener noreferrer" { (url) } }
            }
            @match &env.serving {
                Some(serving) => {
                    p.serving {
                        "Serving " (commit(&serving.sha))
                        @if let Some(message) = by_delivery.get(serving.delivery.as_str()).map(|r| r.message.as_str()).filter(|m| !m.is_empty()) {
                            " " span.message { (message) }
                        }
                    }
                }
                None => p.muted { "Serving nothing" },
            }
            @if project.can_deploy && env.serving.is_some() {
                p.actions {
                    a.button href=(action("redeploy")) { "Redeploy" }
                    @if preview {
                        " " a.button href=(action("promote")) { "Promote to production" }
                        " " a.button.danger href=(action("destroy")) { "Destroy" }
                    }
                }
            }
        }
    }
}

fn numbers(a: &Analytics) -> Markup {
    let time = |d: Option<std::time::Duration>| d.map(duration).unwrap_or_else(|| "–".into());
    html! {
        dl.numbers {
            div { dt { "Builds" } dd data-stat="builds" { (a.builds) } }
            div { dt { "Deploys" } dd data-stat="deploys" { (a.deploys) } }
            div { dt { "Failures" } dd data-stat="failures" { (a.failures) } }
            div { dt { "Median build" } dd data-stat="median_build" { (time(a.median_build)) } }
            div { dt { "Median deploy" } dd data-stat="median_deploy" { (time(a.median_deploy)) } }
        }
    }
}

fn deployments(project: &Project, timeline: &[Record], environments: &[Environment]) -> Markup {
    html! {
        @if timeline.is_empty() { p.empty { "No deployment yet." } }
        @else {
            table.timeline {
                thead { tr { th { "Started" } th { "Environment" } th { "Trigger" } th { "Commit" } th { "By" } th { "Outcome" } th { "Took" } th {} } }
                tbody {
                    @for r in timeline {
                        @let d = Deployment::from(r);
                        tr data-delivery=(d.delivery) data-sha=(d.sha) {
                            td { (when(&r.started_at)) }
                            td { (d.environment) }
                            td { (d.trigger) }
                            td { (commit(&d.sha)) " " span.message { (r.message) } }
                            td { (r.pusher) }
                            td { (outcome(d.outcome)) }
                            td { (layout::between(&r.started_at, &r.finished_at).map(duration).unwrap_or_default()) }
                            td.actions {
                                a href=(link(&[&project.name, "deployments", &d.delivery])) { "Details" }
                                @if let Some(href) = rollback_link(project, r, environments) {
                                    " " a.button href=(href) { "Roll back to this" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The confirmation page of rolling `r`'s environment back to `r`, when
/// the viewer may and it is not what the environment serves already.
pub fn rollback_link(
    project: &Project,
    r: &Record,
    environments: &[Environment],
) -> Option<String> {
    let env = environments.iter().find(|e| e.name == r.environment)?;
    let serving = env.serving.as_ref()?;
    let eligible = project.can_deploy
        && r.outcome == Outcome::Succeeded
        && !r.image.is_empty()
        && serving.delivery != r.delivery
        && serving.image != r.image;
    eligible.then(|| {
        let to =
            percent_encoding::utf8_percent_encode(&r.delivery, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "{}?deployment={to}",
            link(&[&project.name, "environments", &r.environment, "rollback"])
        )
    })
}

/// `/projects/<parts...>`, each part percent-encoded.
pub fn link(parts: &[&str]) -> String {
    let mut path = String::from("/projects");
    for part in parts {
        path.push('/');
        path.extend(percent_encoding::utf8_percent_encode(part, SEGMENT));
    }
    path
}

/// What a path segment may not hold as itself.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
