//! The configuration's `api` block: where `dumcel-pipeline serve` listens
//! and the API tokens machines call it with.
//!
//! ```hcl
//! api {
//!   listen          = "127.0.0.1:8089"
//!   environment_url = "https://{host}/"   # how an environment's host is linked
//!   max_connections = 256
//!   header_timeout  = "10s"
//!   request_timeout = "30s"
//!   token "ci" {                          # `dumcel-pipeline token ci` makes one
//!     sha256 = "<64 hex digits>"          # the token's SHA-256, never the token
//!   }
//!   sign_in { ... }                       # people: see crate::config_signin
//! }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{ConfigError, duration, listen};
use crate::config_signin::{RawSignIn, SignIn};

#[derive(Debug, Clone)]
pub struct Api {
    pub listen: SocketAddr,
    /// An environment's link: `{host}` replaced by its host name.
    pub environment_url: String,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    /// Token name by the SHA-256 of the token.
    tokens: BTreeMap<[u8; 32], String>,
    /// How people sign in; without it, only API tokens get in.
    pub sign_in: Option<SignIn>,
}

impl Api {
    /// The name of the token whose SHA-256 is `hash`.
    pub fn token_named(&self, hash: &[u8; 32]) -> Option<&str> {
        self.tokens.get(hash).map(String::as_str)
    }

    pub fn has_token(&self, name: &str) -> bool {
        self.tokens.values().any(|n| n == name)
    }

    /// `environment_url` for `host`.
    pub fn url_of(&self, host: &str) -> String {
        self.environment_url.replace("{host}", host)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApi {
    listen: Option<String>,
    environment_url: Option<String>,
    max_connections: Option<usize>,
    header_timeout: Option<String>,
    request_timeout: Option<String>,
    #[serde(default)]
    token: BTreeMap<String, RawToken>,
    sign_in: Option<RawSignIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    sha256: String,
}

impl RawApi {
    pub(crate) fn parse(
        self,
        at: &impl Fn(&str, String) -> ConfigError,
    ) -> Result<Api, ConfigError> {
        let listen = listen(at, "api.listen", self.listen, "127.0.0.1:8089")?;
        let environment_url = self
            .environment_url
            .unwrap_or_else(|| "https://{host}/".into());
        if !environment_url.contains("{host}") {
            return Err(at(
                "environment_url",
                format!(
                    "api.environment_url {environment_url:?} has no {{host}}: write it like \"https://{{host}}/\""
                ),
            ));
        }
        let max_connections = self.max_connections.unwrap_or(256);
        if max_connections == 0 {
            return Err(at(
                "max_connections",
                "api.max_connections must be above 0".into(),
            ));
        }
        let mut tokens = BTreeMap::new();
        for (name, token) in self.token {
            let here = format!("token \"{name}\"");
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(at(
                    &here,
                    format!("api: {here}: a token's name is letters, digits, - _ ."),
                ));
            }
            let hash = hex::decode(&token.sha256)
                .ok()
                .and_then(|h| <[u8; 32]>::try_from(h).ok())
                .ok_or_else(|| {
                    at(
                        &here,
                        format!(
                            "api: {here}: sha256 must be the token's SHA-256 in 64 hex digits, as `dumcel-pipeline token {name}` prints it"
                        ),
                    )
                })?;
            if let Some(other) = tokens.insert(hash, name.clone()) {
                return Err(at(
                    &here,
                    format!(
                        "api: tokens {other:?} and {name:?} have the same sha256: make each its own token"
                    ),
                ));
            }
        }
        Ok(Api {
            listen,
            environment_url,
            max_connections,
            header_timeout: duration(at, "header_timeout", self.header_timeout, 10)?,
            request_timeout: duration(at, "request_timeout", self.request_timeout, 30)?,
            tokens,
            sign_in: self.sign_in.map(|s| s.parse(at)).transpose()?,
        })
    }
}
