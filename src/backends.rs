//! The CLI's view of a stack's state backend: the stack in the current
//! directory, the selected workspace, errors reported to the terminal. The
//! backend logic itself lives in dumcel-session.

use std::path::{Path, PathBuf};

use dumcel_engine::config::Module;
pub use dumcel_session::BackendConfig;
use dumcel_session::{Locked, SessionError};
use dumcel_state::LocalBackend;
use dumcel_state_s3::S3Remote;

use crate::session::{LockFlags, report};
use crate::ui::Ui;
use crate::workspaces;

/// The stack is always the current directory.
const ROOT: &str = "";

pub use dumcel_session::backend_config;

fn config(module: Option<&Module>) -> anyhow::Result<BackendConfig> {
    backend_config(module).map_err(report)
}

/// The default workspace's local snapshot path (for S3, its mirror).
pub fn base_state_path(module: Option<&Module>) -> anyhow::Result<PathBuf> {
    dumcel_session::base_state_path(Path::new(ROOT), module).map_err(report)
}

/// The selected workspace's local snapshot.
pub fn backend(module: Option<&Module>) -> anyhow::Result<LocalBackend> {
    dumcel_session::local_backend(Path::new(ROOT), module, &workspaces::current()).map_err(report)
}

/// The S3 object and lock of the selected workspace, when that backend is configured.
pub async fn remote(module: Option<&Module>) -> anyhow::Result<Option<S3Remote>> {
    Ok(match config(module)? {
        BackendConfig::Local(_) => None,
        BackendConfig::S3(s) => Some(S3Remote::connect(s, &workspaces::current()).await),
    })
}

/// Locks and loads the selected workspace's state from whichever backend holds it.
pub async fn open_state(
    module: Option<&Module>,
    operation: &str,
    flags: &LockFlags,
) -> anyhow::Result<Locked> {
    try_open_state(module, operation, flags)
        .await
        .map_err(report)
}

/// `open_state`, leaving the error to the caller to report.
#[tracing::instrument(name = "open_state", level = "debug", skip_all)]
pub async fn try_open_state(
    module: Option<&Module>,
    operation: &str,
    flags: &LockFlags,
) -> Result<Locked, SessionError> {
    dumcel_session::open_state(
        Path::new(ROOT),
        module,
        &workspaces::current(),
        operation,
        &flags.options(),
    )
    .await
}

/// `open_state` for commands that need only the stack's backend, not a plan.
/// The configuration must still load: it names the backend, and a state in
/// S3 must never be mistaken for a missing local file.
pub async fn open_state_of_config(
    ui: &Ui,
    operation: &str,
    flags: &LockFlags,
) -> anyhow::Result<Locked> {
    let (module, _) = crate::session::load_config(ui)?;
    open_state(Some(&module), operation, flags).await
}
