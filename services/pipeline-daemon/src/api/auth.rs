//! Who is calling. Machines send an API token, `Authorization: Bearer
//! dcp_...`; the configuration holds only its SHA-256, so reading the file
//! gives no one a token. People sign in (see [`super::signin`]) and send
//! their session cookie, with the session's CSRF token on every action.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use sha2::{Digest, Sha256};

use super::{ApiError, ApiState, signin};
use crate::access::Caller;

/// The header an action made with a session carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What every token starts with, so that secret scanners can find a leaked one.
pub const TOKEN_PREFIX: &str = "dcp_";

/// A new random token (256 bits from the operating system).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// The SHA-256 the configuration keeps of `token`.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Caller, ApiError> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            return by_token(value, state);
        }
        let Some(caller) = signed_in(&parts.headers, state) else {
            return Err(ApiError::unauthorized(
                "sign in: at /auth/login in a browser, or send an API token as `Authorization: Bearer <token>`",
            ));
        };
        // A browser sends the cookie by itself, whatever page makes the
        // request: an action must also show the token only serve's pages know.
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(HeaderValue::as_bytes)
                .unwrap_or_default();
            let expected = caller.csrf.as_deref().unwrap_or_default().as_bytes();
            // Compared as hashes: how long the comparison takes says
            // nothing about the token.
            if Sha256::digest(sent) != Sha256::digest(expected) {
                return Err(ApiError::forbidden(
                    "an action with a session needs its CSRF token in X-CSRF-Token (from GET /api/v1/me)",
                ));
            }
        }
        Ok(caller)
    }
}

/// The person whose session cookie `headers` carry, with their CSRF token.
pub fn signed_in(headers: &HeaderMap, state: &ApiState) -> Option<Caller> {
    let service = state.sign_in.as_ref()?;
    let session = service.session(signin::cookie(headers, signin::SESSION_COOKIE)?)?;
    Some(Caller {
        csrf: Some(session.csrf),
        ..session.caller
    })
}

fn by_token(value: &HeaderValue, state: &ApiState) -> Result<Caller, ApiError> {
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;
    // Looked up by hash: the comparison never touches the token itself.
    match state.api.token_named(&token_hash(token)) {
        Some(name) => Ok(Caller::token(name)),
        None => Err(ApiError::unauthorized(
            "that API token is not one of the configuration's: make one with `dumcel-pipeline token NAME`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(
            hex::encode(token_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
