//! Which backend holds a stack's state, and where: `terraform { backend "local"
//! { path = ... } }` (the default, `dumcel.tfstate`), or `backend "s3" { bucket,
//! key, region, dynamodb_table, encrypt }`. The S3 backend keeps a local mirror
//! under `.dumcel/s3/` for the journal and crash recovery, and the snapshot in S3.

use std::path::{Path, PathBuf};

use dumcel_engine::config::{BackendDecl, Module};
use dumcel_state_s3::S3Settings;

use crate::SessionError;

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

pub fn backend_config(module: Option<&Module>) -> Result<BackendConfig, SessionError> {
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
                return Err(SessionError::Backend(
                    "backend \"s3\" needs bucket and key (literal strings) in its block".into(),
                ));
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
        other => Err(SessionError::Backend(format!(
            "backend \"{other}\" is not available in this dumcel; use backend \"local\" or \"s3\""
        ))),
    }
}

/// The default workspace's local snapshot path (for S3, its mirror), under
/// the stack directory `root` (`""` for the current directory).
pub fn base_state_path(root: &Path, module: Option<&Module>) -> Result<PathBuf, SessionError> {
    Ok(match backend_config(module)? {
        BackendConfig::Local(path) => root.join(path),
        BackendConfig::S3(s) => root.join(".dumcel/s3").join(&s.bucket).join(&s.key),
    })
}
