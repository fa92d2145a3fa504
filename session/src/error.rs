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
    #[error(
        "an interrupted apply left {0} with an unknown outcome: it may or may not exist, and its provider could not tell. Nothing is changed until that is settled: run the command again once the provider answers, or for each address run `dumcel import ADDRESS ID` if the object exists, `dumcel state rm ADDRESS` if it does not"
    )]
    Pending(String),
    /// Configuration diagnostics, rendered as plain text with file and line.
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(String),
}
