//! What can go wrong talking to S3 and DynamoDB, with AWS's own words.

use dumcel_state::{LockInfo, StateError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum S3Error {
    /// An AWS call failed; `message` carries the service's error code and text.
    #[error("{operation}: {message}")]
    Aws { operation: String, message: String },
    #[error(
        "state is locked by {} (pid {}) for {:?} since {}, lock ID {}; wait for it to finish, retry with -lock-timeout=60s, or if that process is gone run: dumcel force-unlock {}",
        info.who, info.pid, info.operation, info.created, info.id, info.id
    )]
    Locked { info: Box<LockInfo> },
    #[error(
        "state is locked, but the lock item could not be read ({0}); if no dumcel is running, run dumcel force-unlock with the lock ID"
    )]
    LockedUnreadable(String),
    #[error(
        "no lock with ID {given}: the lock in {table} is {actual}; check the ID from the \"state is locked\" message"
    )]
    LockIdMismatch {
        given: String,
        actual: String,
        table: String,
    },
    #[error("s3://{bucket}/{key}: {source}")]
    Corrupt {
        bucket: String,
        key: String,
        #[source]
        source: StateError,
    },
    #[error("the S3 backend needs {0}; add it to the backend \"s3\" block")]
    MissingSetting(&'static str),
}
