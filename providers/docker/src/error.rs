//! The provider's errors. Each says what was being done and carries Docker's
//! own message; none ever contains a registry password.

use dumcel_engine::provider::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "cannot reach the Docker engine at {host}: {message} (is dockerd running, and do DOCKER_HOST or the provider's `host` point at it?)"
    )]
    Connect { host: String, message: String },

    #[error("{action}: {source}")]
    Api {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },

    #[error("{0}")]
    Invalid(String),

    #[error("reading the build context {path}: {source}")]
    Context {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("building image {image} failed{}: {message}{output}", step.as_deref().map(|s| format!(" at step \"{s}\"")).unwrap_or_default())]
    Build {
        image: String,
        /// `Step 2/4 : RUN make`; none when the build failed before its first step.
        step: Option<String>,
        message: String,
        /// The failing step's output, indented, or empty.
        output: String,
    },

    #[error("container {name} {problem}{logs}")]
    Container {
        name: String,
        problem: String,
        /// The container's last log lines, indented, or empty.
        logs: String,
    },

    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },

    #[error("the router at {admin}: {message}")]
    Router { admin: String, message: String },
}

impl DockerError {
    /// An API call that failed; `action` says what it was for.
    pub fn api(action: impl Into<String>, source: bollard::errors::Error) -> DockerError {
        DockerError::Api {
            action: action.into(),
            source,
        }
    }

    /// The HTTP status Docker answered with, when the error is an API answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            DockerError::Api { source, .. } => status_of(source),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// The HTTP status of a Docker API answer.
pub fn status_of(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

impl From<DockerError> for ProviderError {
    fn from(e: DockerError) -> ProviderError {
        ProviderError::new(e.to_string())
    }
}

/// Indents lines under an error message (`\n  | line`), keeping the last `max`.
pub fn indented(lines: &[String], max: usize) -> String {
    let skip = lines.len().saturating_sub(max);
    lines[skip..].iter().map(|l| format!("\n  | {l}")).collect()
}
