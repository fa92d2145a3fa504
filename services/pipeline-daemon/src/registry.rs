//! The image registry. On the ECS target: an ECR repository per project
//! (created when missing) and a push token from ECR's
//! `GetAuthorizationToken`; with `registry_endpoint` set, images are pushed
//! to that `host[:port]` instead of the repository's own host (a local
//! registry standing in for ECR's), the repository and the token still
//! coming from the ECR API. On the Docker-host target: the registry at
//! `registry_endpoint`, which makes repositories on first push.

use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata};
use base64::Engine;
use dumcel_provider_docker::RegistryAuth;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("ECR {operation} failed: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
    #[error("ECR {0}: the answer is missing what it should hold")]
    Malformed(&'static str),
}

fn api<E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: &'static str,
    e: aws_sdk_ecr::error::SdkError<E>,
) -> RegistryError {
    let message = match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        _ => DisplayErrorContext(&e).to_string(),
    };
    RegistryError::Api { operation, message }
}

/// Where to push and with what credentials (`RegistryAuth`'s Debug hides
/// the password).
#[derive(Debug)]
pub struct Login {
    /// `host[:port]/repository`, to be suffixed with `:<sha>`.
    pub repository: String,
    /// None for a registry that takes pushes without credentials.
    pub auth: Option<RegistryAuth>,
}

pub enum Registry {
    Ecr(Ecr),
    /// A registry at `host[:port]` that takes pushes without credentials.
    Open {
        endpoint: String,
    },
}

pub struct Ecr {
    pub ecr: aws_sdk_ecr::Client,
    pub endpoint_override: Option<String>,
}

impl Registry {
    /// Where to push `name`'s images, and with what credentials.
    pub async fn login(&self, name: &str) -> Result<Login, RegistryError> {
        match self {
            Registry::Ecr(ecr) => ecr.login(name).await,
            Registry::Open { endpoint } => Ok(Login {
                repository: format!("{endpoint}/{name}"),
                auth: None,
            }),
        }
    }
}

impl Ecr {
    /// Makes sure `name` exists and gets a token to push to it.
    async fn login(&self, name: &str) -> Result<Login, RegistryError> {
        let uri = self.repository_uri(name).await?;
        let token = self
            .ecr
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| api("GetAuthorizationToken", e))?;
        let data = token
            .authorization_data()
            .first()
            .and_then(|d| d.authorization_token())
            .ok_or(RegistryError::Malformed("GetAuthorizationToken"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(RegistryError::Malformed("GetAuthorizationToken"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or(RegistryError::Malformed("GetAuthorizationToken"))?;
        let path = uri.split_once('/').map(|(_, p)| p).unwrap_or(name);
        let host = match &self.endpoint_override {
            Some(h) => h.clone(),
            None => uri.split('/').next().unwrap_or_default().to_owned(),
        };
        Ok(Login {
            repository: format!("{host}/{path}"),
            auth: Some(RegistryAuth {
                registry: host,
                username: username.to_owned(),
                password: password.to_owned(),
            }),
        })
    }

    async fn repository_uri(&self, name: &str) -> Result<String, RegistryError> {
        let found = self
            .ecr
            .describe_repositories()
            .repository_names(name)
            .send()
            .await;
        let repo = match found {
            Ok(out) => out.repositories().first().cloned(),
            Err(e) if e.code() == Some("RepositoryNotFoundException") => None,
            Err(e) => return Err(api("DescribeRepositories", e)),
        };
        let repo = match repo {
            Some(r) => r,
            None => {
                tracing::info!(repository = name, "creating the ECR repository");
                match self
                    .ecr
                    .create_repository()
                    .repository_name(name)
                    .send()
                    .await
                {
                    Ok(out) => out
                        .repository()
                        .cloned()
                        .ok_or(RegistryError::Malformed("CreateRepository"))?,
                    // Another worker made it in the meantime.
                    Err(e) if e.code() == Some("RepositoryAlreadyExistsException") => {
                        return Box::pin(self.repository_uri(name)).await;
                    }
                    Err(e) => return Err(api("CreateRepository", e)),
                }
            }
        };
        repo.repository_uri()
            .filter(|u| u.contains('/'))
            .map(str::to_owned)
            .ok_or(RegistryError::Malformed("DescribeRepositories"))
    }
}
