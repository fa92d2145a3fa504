//! A stack opened for one operation. Everything between "here is a directory
//! with a configuration" and "the engine may plan": which backend holds the
//! state (local file or S3 object with a DynamoDB lock), which workspace, the
//! lock, and recovery from an apply that was cut off. The CLI's commands and
//! the pipeline worker both go through here, so a stack's own backend and
//! lock are honoured whoever runs it.

mod backend;
mod credentials;
mod error;
mod headless;
mod locked;
mod planning;
mod registry;
mod sandbox;
pub mod workspace;

pub use dumcel_provider_aws::AwsRole;

pub use backend::{BackendConfig, backend_config, base_state_path};
pub use error::SessionError;
pub use headless::{Applied, Operation, Request, RunError, run};
pub use locked::{LockOptions, Locked, Recovery, local_backend, lock_and_load, open_state};
pub use planning::make_plan;
pub use registry::registry;
pub use sandbox::{Sandbox, backend_of};
