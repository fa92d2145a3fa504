//! What every resource type of the provider shares: the evaluated `provider
//! "docker"` block and one Docker client, connected on first use so that a
//! stack that never touches Docker does not fail when no daemon runs.

use std::collections::HashMap;
use std::sync::OnceLock;

use bollard::auth::DockerCredentials;
use dumcel_planner::Value;
use tokio::sync::OnceCell;

use crate::attrs::{blocks, opt_str};
use crate::error::DockerError;
use crate::reference::registry_host;
use crate::router::{DEFAULT_ADMIN, Router};

/// Where the Docker engine listens when neither the provider nor DOCKER_HOST say.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Credentials for one registry, from a `registry_auth` block.
#[derive(Clone)]
pub struct RegistryAuth {
    /// `host[:port]`, as [`registry_host`] reduces it.
    pub registry: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for RegistryAuth {
    // Never print the password, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"(sensitive)")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub host: Option<String>,
    pub registry_auth: Vec<RegistryAuth>,
    /// The router's runtime API (docker_route), `host:port`.
    pub router: Option<String>,
}

impl Settings {
    /// Reads the evaluated provider block.
    pub fn from_config(config: &Value) -> Result<Settings, DockerError> {
        let host = opt_str(config, "host")
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        let mut registry_auth = Vec::new();
        for b in blocks(config, "registry_auth") {
            let field = |name: &str| {
                opt_str(b, name).map(str::to_owned).ok_or_else(|| {
                    DockerError::Invalid(format!("registry_auth: \"{name}\" must be a string"))
                })
            };
            registry_auth.push(RegistryAuth {
                registry: registry_host(&field("address")?),
                username: field("username")?,
                password: field("password")?,
            });
        }
        let router = opt_str(config, "router")
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        Ok(Settings {
            host,
            registry_auth,
            router,
        })
    }
}

#[derive(Default)]
pub struct Shared {
    settings: OnceLock<Settings>,
    client: OnceCell<bollard::Docker>,
    router: OnceLock<Router>,
}

impl Shared {
    pub fn configure(&self, settings: Settings) {
        if self.settings.set(settings).is_err() {
            tracing::warn!(
                "the docker provider was configured twice; keeping the first configuration"
            );
        }
    }

    fn settings(&self) -> Settings {
        self.settings.get().cloned().unwrap_or_default()
    }

    /// The engine's address: the provider's `host`, else DOCKER_HOST, else the
    /// local socket. A bare path means a unix socket.
    pub fn host(&self) -> String {
        let host = self
            .settings()
            .host
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_owned());
        if host.starts_with('/') {
            format!("unix://{host}")
        } else {
            host
        }
    }

    /// The client, connected (and its API version agreed with the daemon) on
    /// first use. A failure is not remembered: the next call tries again.
    pub async fn docker(&self) -> Result<&bollard::Docker, DockerError> {
        self.client
            .get_or_try_init(|| async {
                let host = self.host();
                let fail = |e: bollard::errors::Error| DockerError::Connect {
                    host: host.clone(),
                    message: e.to_string(),
                };
                let docker = bollard::Docker::connect_with_host(&host).map_err(fail)?;
                // Daemons older than this client refuse its newest API version.
                let docker = docker.negotiate_version().await.map_err(fail)?;
                tracing::debug!(%host, version = ?docker.client_version(), "connected to the Docker engine");
                Ok(docker)
            })
            .await
    }

    /// The router's runtime API: the provider's `router`, else
    /// DUMCEL_ROUTER, else the local default.
    pub fn router(&self) -> &Router {
        self.router.get_or_init(|| {
            let admin = self
                .settings()
                .router
                .or_else(|| {
                    std::env::var("DUMCEL_ROUTER")
                        .ok()
                        .filter(|r| !r.is_empty())
                })
                .unwrap_or_else(|| DEFAULT_ADMIN.to_owned());
            Router::new(&admin)
        })
    }

    /// Credentials for the registry at `registry` (`host[:port]`), if configured.
    pub fn auth_for(&self, registry: &str) -> Option<RegistryAuth> {
        let settings = self.settings.get()?;
        settings
            .registry_auth
            .iter()
            .find(|a| a.registry == registry)
            .cloned()
    }

    pub fn credentials_for(&self, registry: &str) -> Option<DockerCredentials> {
        self.auth_for(registry).map(|a| credentials(&a))
    }

    /// Every configured credential, keyed by registry, for builds (whose
    /// `FROM` lines may name any of them).
    pub fn all_credentials(&self) -> HashMap<String, DockerCredentials> {
        self.settings()
            .registry_auth
            .iter()
            .map(|a| (a.registry.clone(), credentials(a)))
            .collect()
    }
}

fn credentials(a: &RegistryAuth) -> DockerCredentials {
    DockerCredentials {
        username: Some(a.username.clone()),
        password: Some(a.password.clone()),
        serveraddress: Some(a.registry.clone()),
        ..Default::default()
    }
}

/// An HTTP client (for registries). reqwest is built without a bundled TLS
/// crypto provider; this installs ring's, which fails harmlessly when one
/// is installed already.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}
