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
        source: Box<StateError>,
    },
    #[error(
        "the state lock {id} in {table} is no longer held by this command (its lease expired and another command took it over); the state was not written. What this command changed is kept in the local journal; run the command again"
    )]
    LockLost { id: String, table: String },
    #[error(
        "{object}: the state in S3 does not have the expected content: its MD5 digest is {actual}, the digest recorded in DynamoDB table {table} at the last write is {expected}. The object was changed outside dumcel, or a write was lost. If you changed it on purpose, update the Digest value of the item {item} in {table} to {actual}"
    )]
    DigestMismatch {
        /// `s3://BUCKET/KEY`.
        object: String,
        table: String,
        /// The digest item's `LockID`.
        item: String,
        expected: String,
        actual: String,
    },
    #[error("the S3 backend needs {0}; add it to the backend \"s3\" block")]
    MissingSetting(&'static str),
}
