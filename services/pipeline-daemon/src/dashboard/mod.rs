//! The dashboard: pages `serve` renders for people who signed in. Every
//! page is HTML made on the server from the same records and checks as the
//! API (maud escapes everything it prints, commit messages included); the
//! one script, `dashboard.js`, follows the project's live events and sends
//! the actions people confirm to the JSON API with the session's CSRF
//! token, so that a page steers nothing the API would refuse.

mod analytics;
mod confirm;
mod deployment;
mod layout;
mod projects;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::access::Caller;
use crate::api::{ApiError, ApiState};

/// The dashboard's routes, all `GET`: its actions go to `/api/v1`.
pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/", get(projects::home))
        .route("/projects/{project}", get(projects::project))
        .route(
            "/projects/{project}/deployments/{delivery}",
            get(deployment::page),
        )
        .route(
            "/projects/{project}/environments/{environment}/{action}",
            get(confirm::page),
        )
        .route("/assets/dashboard.css", get(css))
        .route("/assets/dashboard.js", get(script))
}

/// Why a page cannot be shown.
pub enum PageError {
    /// Nobody signed in: off to sign in, then back to `return_to`.
    SignIn {
        return_to: String,
    },
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError::Api(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { return_to } => {
                let to = percent_encoding::utf8_percent_encode(
                    &return_to,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                let location = format!("/auth/login?return_to={to}");
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
            }
            PageError::Api(e) => {
                let status = e.status;
                let body = layout::error_page(status, &e.message);
                secured(status, body.into_string())
            }
        }
    }
}

/// The person viewing `path`, or why there is none.
pub fn viewer(
    state: &ApiState,
    headers: &axum::http::HeaderMap,
    path: &str,
) -> Result<Caller, PageError> {
    if state.sign_in.is_none() {
        return Err(PageError::Api(ApiError::not_found(
            "the dashboard is for people who sign in: add a `sign_in` block to the `api` block",
        )));
    }
    crate::api::auth::signed_in(headers, state).ok_or_else(|| PageError::SignIn {
        return_to: path.to_owned(),
    })
}

/// An HTML answer that no other site may frame (a confirmation button
/// under someone else's page) and that runs only this site's script.
pub fn secured(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("assets/dashboard.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/dashboard.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
