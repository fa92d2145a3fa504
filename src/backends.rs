//! Which backend holds a stack's state, and where: `terraform { backend "local"
//! { path = ... } }` (the default, `dumcel.tfstate`), or `backend "s3" { bucket,
//! key, region, dynamodb_table, encrypt }`. The S3 backend keeps a local mirror
//! under `.dumcel/s3/` for the journal and crash recovery, and the snapshot in S3.

use std::path::PathBuf;

use anyhow::bail;

use dumcel_engine::config::{BackendDecl, Module};
use dumcel_state::{LocalBackend, State};
use dumcel_state_s3::{S3Remote, S3Settings};

use crate::session::{LockFlags, Locked, lock_and_load, report};
use crate::workspaces;

pub enum BackendConfig {
    Local(PathBuf),
    S3(S3Settings),
}

fn literal<'a>(decl: &'a BackendDecl, name: &str) -> Option<&'a dumcel_planner::Value> {
    decl.body
        .attributes
        .get(name)
        .and_then(|a| a.expr.as_literal())
}

pub fn backend_config(module: Option<&Module>) -> anyhow::Result<BackendConfig> {
    let default = PathBuf::from(dumcel_state::DEFAULT_STATE_FILE);
    let Some(decl) = module.and_then(|m| m.backend.as_ref()) else {
        return Ok(BackendConfig::Local(default));
    };
    let text = |name: &str| {
        literal(decl, name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    match decl.kind.as_str() {
        "local" => Ok(BackendConfig::Local(
            text("path").map(PathBuf::from).unwrap_or(default),
        )),
        "s3" => {
            let (Some(bucket), Some(key)) = (text("bucket"), text("key")) else {
                bail!("backend \"s3\" needs bucket and key (literal strings) in its block");
            };
            Ok(BackendConfig::S3(S3Settings {
                bucket,
                key,
                region: text("region"),
                dynamodb_table: text("dynamodb_table"),
                encrypt: literal(decl, "encrypt")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
                workspace_key_prefix: text("workspace_key_prefix")
                    .unwrap_or_else(|| "env:".to_owned()),
            }))
        }
        other => bail!(
            "backend \"{other}\" is not available in this dumcel; use backend \"local\" or \"s3\""
        ),
    }
}

/// The default workspace's local snapshot path (for S3, its mirror).
pub fn base_state_path(module: Option<&Module>) -> anyhow::Result<PathBuf> {
    Ok(match backend_config(module)? {
        BackendConfig::Local(path) => path,
        BackendConfig::S3(s) => PathBuf::from(".dumcel/s3").join(&s.bucket).join(&s.key),
    })
}

/// The selected workspace's local snapshot.
pub fn backend(module: Option<&Module>) -> anyhow::Result<LocalBackend> {
    let workspace = workspaces::current();
    let base = base_state_path(module)?;
    if !workspaces::exists(&base, &workspace) {
        return Err(report(format!(
            "workspace \"{workspace}\" does not exist; create it with `dumcel workspace new {workspace}` or select another"
        )));
    }
    Ok(LocalBackend::new(workspaces::state_path(&base, &workspace)))
}

/// The S3 object and lock of the selected workspace, when that backend is configured.
pub async fn remote(module: Option<&Module>) -> anyhow::Result<Option<S3Remote>> {
    Ok(match backend_config(module)? {
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
    let local = backend(module)?;
    let Some(remote) = remote(module).await? else {
        return lock_and_load(local, operation, flags).await;
    };
    // The remote lock first: it is what keeps other machines out.
    let remote_lock = if flags.lock {
        remote
            .lock(operation, flags.lock_timeout)
            .await
            .map_err(report)?
    } else {
        None
    };
    let mut locked = lock_and_load(local, operation, flags).await?;
    // A local journal means this machine's last apply was cut off: its replayed
    // mirror is newer than the object. Otherwise the object is the truth.
    if locked.replayed == 0 && locked.in_flight.is_empty() {
        locked.state = remote
            .download()
            .await
            .map_err(report)?
            .unwrap_or_else(State::new);
    }
    locked.remote = Some(remote);
    locked.remote_lock = remote_lock;
    Ok(locked)
}

/// `open_state` for commands that work without a configuration: the
/// configuration is read if it loads, to find the backend.
pub async fn open_state_quiet(operation: &str, flags: &LockFlags) -> anyhow::Result<Locked> {
    open_state(crate::session::quiet_module().as_ref(), operation, flags).await
}
