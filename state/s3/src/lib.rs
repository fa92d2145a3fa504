//! Dumcel's S3 state backend: the state snapshot is an object in S3 (one key
//! per workspace), the lock an item in a DynamoDB table written with a
//! condition, so two commands never write the state at once.
//!
//! Durability during apply costs O(change): the CLI keeps a local mirror of
//! the snapshot with the journal beside it (see `dumcel-state`), copies each
//! group commit of the journal to S3 so another machine can recover after a
//! crash, and uploads the snapshot when the command records its changes.

mod error;
mod journal;
mod lock;
mod remote;
mod settings;

pub use error::S3Error;
pub use lock::RemoteLock;
pub use remote::S3Remote;
pub use settings::S3Settings;
