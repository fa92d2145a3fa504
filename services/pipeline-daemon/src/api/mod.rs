//! `dumcel-pipeline serve`: the deployments API, JSON over HTTP under
//! `/api/v1` (described by `/api/v1/openapi.json`). It reads the records
//! the workers write and queues actions on the push topic, so that a
//! rollback or redeploy runs in its environment's lane, under its lease, in
//! order with the pushes around it, never around them.
//!
//! Every route but the OpenAPI document needs a caller (an API token, see
//! [`auth`]); each project answers only callers its `access` block lists.
//! The same server renders the dashboard's pages (see [`crate::dashboard`]).

mod actions;
pub(crate) mod approvals;
pub mod auth;
mod error;
pub mod event_log;
pub(crate) mod page;
pub(crate) mod projects;
pub mod signin;
pub(crate) mod stream;
pub(crate) mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::routing::{get, post};

use tokio::sync::watch;

use crate::commands::Outbox;
use crate::config::{Api, Config};
use crate::records::Records;

pub use error::ApiError;

/// The OpenAPI 3.1 document of every route below.
pub const OPENAPI: &str = include_str!("openapi.json");

pub struct ApiState {
    pub config: Config,
    pub api: Api,
    pub records: Arc<dyn Records>,
    pub outbox: Outbox,
    pub events: Arc<event_log::EventLog>,
    /// Where build logs are also kept (`build_logs_bucket`).
    pub build_logs: Option<crate::build_log::Bucket>,
    /// People's sign-in, when the api block has a `sign_in` block.
    pub sign_in: Option<Arc<signin::SignInService>>,
    /// Turns true when the server stops: live streams end then.
    pub stop: watch::Receiver<bool>,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(projects::me))
        .route("/auth/login", get(signin::login))
        .route("/auth/callback", get(signin::callback))
        .route("/auth/logout", post(signin::logout))
        .route("/api/v1/projects", get(projects::list))
        .route("/api/v1/projects/{project}", get(projects::one))
        .route(
            "/api/v1/projects/{project}/deployments",
            get(projects::deployments),
        )
        .route(
            "/api/v1/projects/{project}/deployments/{delivery}",
            get(projects::deployment),
        )
        .route(
            "/api/v1/projects/{project}/deployments/{delivery}/events",
            get(stream::of_deployment),
        )
        .route(
            "/api/v1/projects/{project}/deployments/{delivery}/log",
            get(stream::build_log),
        )
        .route(
            "/api/v1/projects/{project}/deployments/{delivery}/plan",
            get(approvals::plan),
        )
        .route(
            "/api/v1/projects/{project}/deployments/{delivery}/approve",
            post(approvals::approve),
        )
        .route(
            "/api/v1/projects/{project}/deployments/{delivery}/reject",
            post(approvals::reject),
        )
        .route("/api/v1/projects/{project}/events", get(stream::live))
        .route(
            "/api/v1/projects/{project}/environments/{environment}/rollback",
            post(actions::rollback),
        )
        .route(
            "/api/v1/projects/{project}/environments/{environment}/redeploy",
            post(actions::redeploy),
        )
        .route(
            "/api/v1/projects/{project}/environments/{environment}/destroy",
            post(actions::destroy),
        )
        .route(
            "/api/v1/projects/{project}/environments/{environment}/promote",
            post(actions::promote),
        )
        .merge(crate::dashboard::routes())
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(Arc::new(state))
}

async fn openapi() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
