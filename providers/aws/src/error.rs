//! Errors of AWS calls, carrying the service's own code and message so that the
//! user sees what AWS said (`RepositoryNotFoundException: The repository ...`).

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use dumcel_engine::provider::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The service answered with an error.
    #[error("{code}: {message} ({operation})")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// The call did not get an answer (connection, credentials, timeout).
    #[error("{operation} failed: {detail}")]
    Transport {
        operation: &'static str,
        detail: String,
    },
    /// The configuration asks for something the provider cannot express.
    #[error("{0}")]
    Invalid(String),
    /// The service answered with something the provider did not expect.
    #[error("{operation}: unexpected response: {detail}")]
    Unexpected {
        operation: &'static str,
        detail: String,
    },
    /// A wait for a state gave up.
    #[error("{0}")]
    Timeout(String),
    /// Watching an ECS rollout failed (the service is gone, or an API error).
    #[error(transparent)]
    Rollout(#[from] crate::ecs_rollout::RolloutError),
}

impl AwsError {
    pub fn invalid(message: impl Into<String>) -> AwsError {
        AwsError::Invalid(message.into())
    }

    pub fn unexpected(operation: &'static str, detail: impl Into<String>) -> AwsError {
        AwsError::Unexpected {
            operation,
            detail: detail.into(),
        }
    }

    /// The AWS error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Wraps an SDK error, keeping the code and message AWS sent.
    pub fn sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = match &err {
            SdkError::ServiceError(s) => Some(Some(s.raw().status().as_u16())),
            _ => None,
        };
        match (err.code(), status) {
            (Some(code), _) => AwsError::Service {
                operation,
                code: code.to_owned(),
                message: err.message().unwrap_or("").to_owned(),
            },
            // Some answers (S3's HEAD requests) have no body, hence no code:
            // the HTTP status is all there is.
            (None, Some(Some(status))) if status >= 300 => AwsError::Service {
                operation,
                code: match status {
                    404 => "NotFound".to_owned(),
                    403 => "Forbidden".to_owned(),
                    s => format!("HTTP{s}"),
                },
                message: format!("the service answered HTTP {status}"),
            },
            _ => AwsError::Transport {
                operation,
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    /// Whether this error says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| {
            c.ends_with("NotFoundException")
                || c.ends_with("NotFound")
                || c.starts_with("NoSuch")
                || c == "ResourceNotFoundException"
                || c.starts_with("InvalidGroup.NotFound")
        })
    }
}

impl From<AwsError> for ProviderError {
    fn from(e: AwsError) -> ProviderError {
        ProviderError::new(e.to_string())
    }
}

pub type AwsResult<T> = Result<T, AwsError>;

/// A delete's outcome: an object already gone is what the delete wanted.
pub fn deleted<T>(result: AwsResult<T>) -> Result<(), ProviderError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Shorthand: `.map_err(sdk("CreateRepository"))`.
pub fn sdk<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| AwsError::sdk(operation, e)
}
