//! People signing in to `serve`: OAuth 2.0's authorization code flow with
//! PKCE against GitHub or any OpenID Connect provider (the `oauth2` crate
//! builds the authorization URL and exchanges the code), the person's login
//! and groups read from the provider with the access token, then a session
//! of serve's own.
//!
//! The session is a random token in an HttpOnly, SameSite=Lax cookie
//! (Secure when `public_url` is https), kept by serve only as its SHA-256
//! and for `session_ttl`. A browser sends cookies by itself, so an action
//! (any request but GET and HEAD) made with a session must also carry the
//! session's CSRF token in `X-CSRF-Token`, which only serve's own pages can
//! read (from `GET /api/v1/me`). A sign-in started in one browser cannot be
//! finished in another: its `state` is also in a cookie of the browser that
//! started it. Sessions live in memory: a restart of serve signs everyone
//! out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::{ApiError, ApiState};
use crate::access::Caller;
use crate::config_signin::{Provider, SignIn};

pub const SESSION_COOKIE: &str = "dumcel_session";
const STARTED_COOKIE: &str = "dumcel_signin";
/// How long a started sign-in may take.
const SIGN_IN_TIME: Duration = Duration::from_secs(600);
/// At most this many sign-ins in progress and sessions, so that no one can
/// fill serve's memory by starting sign-ins.
const MAX_PENDING: usize = 10_000;
const MAX_SESSIONS: usize = 100_000;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A sign-in started and not finished yet.
struct Pending {
    verifier: PkceCodeVerifier,
    return_to: String,
    expires: Instant,
}

/// A signed-in person.
#[derive(Clone)]
pub struct Session {
    pub caller: Caller,
    /// What their page sends in `X-CSRF-Token` with every action.
    pub csrf: String,
    expires: Instant,
}

pub struct SignInService {
    settings: SignIn,
    client: Client,
    userinfo_url: String,
    http: reqwest::Client,
    pending: Mutex<HashMap<String, Pending>>,
    /// By the SHA-256 of the session token.
    sessions: Mutex<HashMap<[u8; 32], Session>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// oauth2's requests, sent with serve's reqwest client (oauth2's own
/// reqwest feature is built for another reqwest version).
struct OAuthHttp<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

async fn send(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, HttpError> {
    let request =
        reqwest::Request::try_from(request).map_err(|e| HttpError(e.without_url().to_string()))?;
    let response = http
        .execute(request)
        .await
        .map_err(|e| HttpError(e.without_url().to_string()))?;
    let mut out = axum::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| HttpError(e.without_url().to_string()))?;
    out.body(body.to_vec())
        .map_err(|e| HttpError(e.to_string()))
}

/// A GET's JSON answer. Errors never carry the URL (a userinfo URL is
/// harmless, but the same client sends tokens).
async fn get_json(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request
        .header("accept", "application/json")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.without_url().to_string())?;
    let body = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))
}

fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// A login or group name as the provider gave it, if it can be a principal.
fn name_part(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    ok.then_some(name)
}

impl SignInService {
    /// Ready to sign people in with `settings`: the client secret from its
    /// variable, and for OIDC the endpoints the issuer's discovery document
    /// gives (those the configuration does not set).
    pub async fn start(settings: SignIn) -> Result<SignInService, String> {
        let secret = std::env::var(&settings.client_secret_env)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                format!(
                    "api.sign_in: the client secret is not set: export {}",
                    settings.client_secret_env
                )
            })?;
        // reqwest is built without a bundled crypto provider (see the
        // Docker provider's http_client); this fails harmlessly when one is in.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // No redirects: a token endpoint's redirect is never followed.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("dumcel-pipeline")
            .build()
            .map_err(|e| e.to_string())?;
        let (mut authorize, mut token, mut userinfo) = (
            settings.authorize_url.clone(),
            settings.token_url.clone(),
            settings.userinfo_url.clone(),
        );
        if let Some(issuer) = &settings.issuer {
            let url = format!("{issuer}/.well-known/openid-configuration");
            let document = get_json(http.get(&url))
                .await
                .map_err(|e| format!("api.sign_in: reading {url}: {e}"))?;
            let field = |name: &str| document[name].as_str().map(str::to_owned);
            authorize = authorize.or_else(|| field("authorization_endpoint"));
            token = token.or_else(|| field("token_endpoint"));
            userinfo = userinfo.or_else(|| field("userinfo_endpoint"));
        }
        let missing = |what: &str| {
            format!("api.sign_in: no {what} (set it, or an issuer whose discovery document has it)")
        };
        let authorize = AuthUrl::new(authorize.ok_or_else(|| missing("authorize_url"))?)
            .map_err(|e| format!("api.sign_in: authorize_url: {e}"))?;
        let token = TokenUrl::new(token.ok_or_else(|| missing("token_url"))?)
            .map_err(|e| format!("api.sign_in: token_url: {e}"))?;
        let userinfo_url = userinfo.ok_or_else(|| missing("userinfo_url"))?;
        let redirect = RedirectUrl::new(settings.callback_url())
            .map_err(|e| format!("api.sign_in: public_url: {e}"))?;
        let client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(secret))
            .set_auth_uri(authorize)
            .set_token_uri(token)
            .set_redirect_uri(redirect);
        Ok(SignInService {
            settings,
            client,
            userinfo_url,
            http,
            pending: Mutex::default(),
            sessions: Mutex::default(),
        })
    }

    fn scopes(&self) -> &'static [&'static str] {
        match self.settings.provider {
            Provider::Github => &["read:user", "read:org"],
            Provider::Oidc => &["openid", "profile"],
        }
    }

    /// The session a cookie's token names, while it lasts.
    pub fn session(&self, token: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let key = hash(token);
        match sessions.get(&key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// The person the access token belongs to, as a caller.
    async fn identify(&self, access_token: &str) -> Result<Caller, String> {
        let get = |url: String| async move {
            get_json(self.http.get(&url).bearer_auth(access_token))
                .await
                .map_err(|e| format!("asking the provider who signed in: {e}"))
        };
        let user = get(self.userinfo_url.clone()).await?;
        let (login, groups): (Option<&str>, Vec<String>) = match self.settings.provider {
            Provider::Github => {
                let orgs = get(format!("{}/orgs", self.userinfo_url)).await?;
                let groups = orgs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o["login"].as_str().map(str::to_owned))
                    .collect();
                (user["login"].as_str(), groups)
            }
            Provider::Oidc => {
                let groups = user["groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect();
                (
                    user["preferred_username"]
                        .as_str()
                        .or_else(|| user["sub"].as_str()),
                    groups,
                )
            }
        };
        let login = login.and_then(name_part).ok_or(
            "the provider gave no login that can be a principal (letters, digits, - _ . @)",
        )?;
        let user = format!("user:{login}");
        let mut principals = vec![user.clone()];
        principals.extend(
            groups
                .iter()
                .filter_map(|g| name_part(g))
                .map(|g| format!("group:{g}")),
        );
        Ok(Caller {
            name: user,
            principals,
            csrf: None,
        })
    }

    fn cookie(&self, name: &str, value: &str, path: &str, max_age: Duration) -> HeaderValue {
        let secure = if self.settings.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        let text = format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            max_age.as_secs()
        );
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

fn see_other(location: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    for c in cookies {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

fn service(state: &ApiState) -> Result<&SignInService, ApiError> {
    state.sign_in.as_deref().ok_or_else(|| {
        ApiError::not_found("sign-in is not configured: add a sign_in block to the api block")
    })
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /auth/login?return_to=/path`: off to the provider.
pub async fn login(
    State(state): State<Arc<ApiState>>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, ApiError> {
    let service = service(&state)?;
    let return_to = return_path(query.return_to);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = service
        .client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in service.scopes() {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state_token) = request.url();
    {
        let mut pending = service.pending.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        pending.retain(|_, p| p.expires > now);
        if pending.len() >= MAX_PENDING {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "too many sign-ins in progress: try again in a few minutes",
            ));
        }
        pending.insert(
            state_token.secret().clone(),
            Pending {
                verifier,
                return_to,
                expires: now + SIGN_IN_TIME,
            },
        );
    }
    let started = service.cookie(STARTED_COOKIE, state_token.secret(), "/auth", SIGN_IN_TIME);
    Ok(see_other(url.as_str(), vec![started]))
}

/// Where a sign-in may send the person back: only a path of this site,
/// never a redirect elsewhere; `/` otherwise. Browsers read `//host` and
/// `/\\host` as another site, and drop tabs and line breaks from a URL
/// (so `/<tab>/host` is `//host`): none of those is a path here.
fn return_path(asked: Option<String>) -> String {
    asked
        .filter(|r| {
            r.starts_with('/')
                && !r.starts_with("//")
                && !r.contains('\\')
                && !r.chars().any(char::is_control)
        })
        .unwrap_or_else(|| "/".into())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: where the provider sends the person back.
pub async fn callback(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let service = service(&state)?;
    if let Some(error) = &query.error {
        return Err(ApiError::forbidden(format!(
            "the provider did not sign you in ({error}): start again at /auth/login"
        )));
    }
    let (Some(code), Some(state_token)) = (query.code, query.state) else {
        return Err(ApiError::invalid(
            "the callback needs `code` and `state`: start at /auth/login",
        ));
    };
    if cookie(&headers, STARTED_COOKIE) != Some(state_token.as_str()) {
        return Err(ApiError::invalid(
            "this sign-in was not started in this browser: start again at /auth/login",
        ));
    }
    let pending = service
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&state_token)
        .filter(|p| p.expires > Instant::now())
        .ok_or_else(|| {
            ApiError::invalid(
                "this sign-in expired or was used already: start again at /auth/login",
            )
        })?;
    let exchanged = service
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(pending.verifier)
        .request_async(&OAuthHttp(&service.http))
        .await
        .map_err(|e| {
            let detail = match &e {
                oauth2::RequestTokenError::ServerResponse(r) => r.to_string(),
                other => other.to_string(),
            };
            tracing::warn!(error = %detail, "sign-in: exchanging the code");
            ApiError::forbidden(format!(
                "the provider refused the sign-in ({detail}): start again at /auth/login"
            ))
        })?;
    let caller = service
        .identify(exchanged.access_token().secret())
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "provider_failed",
                format!("{e}: start again at /auth/login"),
            )
        })?;
    let token = random_hex()
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e))?;
    let csrf = random_hex()
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e))?;
    tracing::info!(user = %caller.name, "signed in");
    {
        let mut sessions = service.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, s| s.expires > now);
        }
        sessions.insert(
            hash(&token),
            Session {
                caller,
                csrf,
                expires: now + service.settings.session_ttl,
            },
        );
    }
    let session = service.cookie(SESSION_COOKIE, &token, "/", service.settings.session_ttl);
    let done = service.cookie(STARTED_COOKIE, "", "/auth", Duration::ZERO);
    Ok(see_other(&pending.return_to, vec![session, done]))
}

/// `POST /auth/logout` (with the CSRF token): ends the session.
pub async fn logout(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    caller: Caller,
) -> Result<Response, ApiError> {
    let service = service(&state)?;
    if caller.csrf.is_none() {
        return Err(ApiError::invalid("only a signed-in person signs out"));
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        service
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&hash(token));
    }
    tracing::info!(user = %caller.name, "signed out");
    let gone = service.cookie(SESSION_COOKIE, "", "/", Duration::ZERO);
    Ok(see_other("/", vec![gone]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_returns_only_to_a_path_of_this_site() {
        let back = |r: &str| return_path(Some(r.to_owned()));
        assert_eq!(back("/projects/shop?x=1"), "/projects/shop?x=1");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "evil.example",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "",
        ] {
            assert_eq!(back(elsewhere), "/", "{elsewhere:?}");
        }
        assert_eq!(return_path(None), "/");
    }

    #[test]
    fn cookies_are_read_by_name_and_names_checked() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; dumcel_session=abc"));
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "dumcel"), None);
        assert_eq!(name_part("octo-cat"), Some("octo-cat"));
        assert_eq!(name_part("a:b"), None);
        assert_eq!(name_part("a b"), None);
        assert_eq!(name_part(""), None);
    }
}
