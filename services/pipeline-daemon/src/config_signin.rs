//! The `api` block's `sign_in` block: how people sign in to
//! `dumcel-pipeline serve` (OAuth 2.0 authorization code with PKCE).
//!
//! ```hcl
//! api {
//!   sign_in {
//!     provider          = "github"                  # or "oidc"
//!     client_id         = "Iv1.0123456789abcdef"
//!     client_secret_env = "DUMCEL_SIGNIN_SECRET"    # the variable holding the client secret
//!     public_url        = "https://deploy.example.com"   # where people reach serve: the callback is <public_url>/auth/callback
//!     session_ttl       = "12h"
//!     # github: github_url = "https://github.example.com" for GitHub Enterprise Server
//!     # oidc:   issuer = "https://login.example.com" (its discovery document gives the endpoints)
//!     # either: authorize_url, token_url, userinfo_url override what the preset or discovery gives
//!   }
//! }
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::config::{ConfigError, duration};

/// Whose sign-in, which decides where the user's login and groups come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// GitHub's OAuth apps: the login from `GET /user`, a group per
    /// organization from `GET /user/orgs`.
    Github,
    /// Any OpenID Connect provider: `preferred_username` (else `sub`) and
    /// the `groups` claim from its userinfo endpoint.
    Oidc,
}

#[derive(Debug, Clone)]
pub struct SignIn {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret_env: String,
    /// Without a trailing slash.
    pub public_url: String,
    pub session_ttl: Duration,
    /// OIDC: the issuer whose discovery document gives what is not set.
    pub issuer: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
}

impl SignIn {
    /// Where the provider sends people back.
    pub fn callback_url(&self) -> String {
        format!("{}/auth/callback", self.public_url)
    }

    /// Whether session cookies are marked Secure: always but on plain-HTTP
    /// loopback, where browsers would still send them and tests run.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignIn {
    provider: String,
    client_id: String,
    client_secret_env: String,
    public_url: String,
    session_ttl: Option<String>,
    github_url: Option<String>,
    issuer: Option<String>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
}

/// `https://...`, or `http://` to a loopback address (local runs, tests).
fn web_url(url: &str) -> bool {
    url.starts_with("https://")
        || ["http://127.", "http://localhost:", "http://[::1]"]
            .iter()
            .any(|p| url.starts_with(p))
}

impl RawSignIn {
    pub(crate) fn parse(
        self,
        at: &impl Fn(&str, String) -> ConfigError,
    ) -> Result<SignIn, ConfigError> {
        let bad = |field: &str, message: String| at(field, format!("api.sign_in: {message}"));
        let provider = match self.provider.as_str() {
            "github" => Provider::Github,
            "oidc" => Provider::Oidc,
            other => {
                return Err(bad(
                    "provider",
                    format!("provider {other:?}: use \"github\" or \"oidc\""),
                ));
            }
        };
        if self.client_id.is_empty() || self.client_secret_env.is_empty() {
            return Err(bad(
                "client_id",
                "client_id and client_secret_env are required (the secret itself stays in that environment variable)".into(),
            ));
        }
        let urls = [
            ("public_url", Some(&self.public_url)),
            ("github_url", self.github_url.as_ref()),
            ("issuer", self.issuer.as_ref()),
            ("authorize_url", self.authorize_url.as_ref()),
            ("token_url", self.token_url.as_ref()),
            ("userinfo_url", self.userinfo_url.as_ref()),
        ];
        for (field, url) in urls {
            if let Some(url) = url
                && !web_url(url)
            {
                return Err(bad(
                    field,
                    format!("{field} {url:?} must be an https:// URL (http:// only on loopback)"),
                ));
            }
        }
        let trim = |u: String| u.trim_end_matches('/').to_owned();
        let (mut authorize_url, mut token_url, mut userinfo_url) =
            (self.authorize_url, self.token_url, self.userinfo_url);
        match provider {
            Provider::Github => {
                if self.issuer.is_some() {
                    return Err(bad(
                        "issuer",
                        "issuer is for provider = \"oidc\"; GitHub Enterprise Server is github_url"
                            .into(),
                    ));
                }
                let web = trim(
                    self.github_url
                        .unwrap_or_else(|| "https://github.com".into()),
                );
                // github.com's API has a host of its own; a GHES instance's
                // is under /api/v3.
                let api = if web == "https://github.com" {
                    "https://api.github.com".to_owned()
                } else {
                    format!("{web}/api/v3")
                };
                authorize_url.get_or_insert(format!("{web}/login/oauth/authorize"));
                token_url.get_or_insert(format!("{web}/login/oauth/access_token"));
                userinfo_url.get_or_insert(format!("{api}/user"));
            }
            Provider::Oidc => {
                if self.github_url.is_some() {
                    return Err(bad(
                        "github_url",
                        "github_url is for provider = \"github\"".into(),
                    ));
                }
                let complete =
                    authorize_url.is_some() && token_url.is_some() && userinfo_url.is_some();
                if self.issuer.is_none() && !complete {
                    return Err(bad(
                        "provider",
                        "provider = \"oidc\" needs issuer (or all of authorize_url, token_url and userinfo_url)".into(),
                    ));
                }
            }
        }
        Ok(SignIn {
            provider,
            client_id: self.client_id,
            client_secret_env: self.client_secret_env,
            public_url: trim(self.public_url),
            session_ttl: duration(at, "session_ttl", self.session_ttl, 12 * 3600)?,
            issuer: self.issuer.map(trim),
            authorize_url,
            token_url,
            userinfo_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn parse(sign_in: &str) -> Result<super::SignIn, String> {
        let text = format!(
            "target = \"ecs\"\nkafka {{\n  brokers = \"b:1\"\n}}\nrepository \"o/app\" {{\n}}\napi {{\n  sign_in {{\n{sign_in}  }}\n}}\n"
        );
        Config::parse("d.hcl", &text)
            .map(|c| c.api.unwrap().sign_in.unwrap())
            .map_err(|e| e.to_string())
    }

    const BASE: &str = "    client_id = \"c\"\n    client_secret_env = \"S\"\n    public_url = \"https://deploy.example.com/\"\n";

    #[test]
    fn github_is_a_preset_and_enterprise_moves_every_endpoint() {
        let s = parse(&format!("    provider = \"github\"\n{BASE}")).unwrap();
        assert_eq!(
            s.authorize_url.as_deref(),
            Some("https://github.com/login/oauth/authorize")
        );
        assert_eq!(
            s.userinfo_url.as_deref(),
            Some("https://api.github.com/user")
        );
        assert_eq!(s.callback_url(), "https://deploy.example.com/auth/callback");
        assert_eq!(s.session_ttl.as_secs(), 12 * 3600);
        let s = parse(&format!(
            "    provider = \"github\"\n    github_url = \"https://git.example.com\"\n{BASE}"
        ))
        .unwrap();
        assert_eq!(
            s.token_url.as_deref(),
            Some("https://git.example.com/login/oauth/access_token")
        );
        assert_eq!(
            s.userinfo_url.as_deref(),
            Some("https://git.example.com/api/v3/user")
        );
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        let e = parse(&format!("    provider = \"oidc\"\n{BASE}")).unwrap_err();
        assert!(e.contains("needs issuer"), "{e}");
        let e = parse(&format!("    provider = \"gitlab\"\n{BASE}")).unwrap_err();
        assert!(
            e.starts_with("d.hcl:9: api.sign_in: provider \"gitlab\""),
            "{e}"
        );
        let e = parse(&format!(
            "    provider = \"oidc\"\n    issuer = \"http://login.example.com\"\n{BASE}"
        ))
        .unwrap_err();
        assert!(e.contains("must be an https:// URL"), "{e}");
        let e = parse(&format!(
            "    provider = \"github\"\n    secret = \"x\"\n{BASE}"
        ))
        .unwrap_err();
        assert!(e.contains("unknown field `secret`"), "{e}");
    }
}
