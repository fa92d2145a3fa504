use dumcel_state::StateError;
use dumcel_state_s3::S3Error;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The `backend` block cannot be used as written.
    #[error("{0}")]
    Backend(String),
    #[error(
        "workspace \"{0}\" does not exist; create it with `dumcel workspace new {0}` or select another"
    )]
    NoWorkspace(String),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{0}")]
    Remote(#[from] S3Error),
    #[error("cannot write state without its lock (-lock=false)")]
    NotLocked,
    #[error(
        "an interrupted apply left {count} operation(s) in flight ({addresses}); run `dumcel plan` in the stack directory first to reconcile them"
    )]
    InFlight { count: usize, addresses: String },
    /// Configuration diagnostics, rendered as plain text with file and line.
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(String),
}
