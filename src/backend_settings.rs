//! Partial backend configuration, as Terraform has it: `terraform { backend
//! "s3" {} }` in the stack, and the values (bucket, key, lock table) given
//! to `dumcel init -backend-config=KEY=VALUE` or `-backend-config=FILE`, so
//! CI passes them instead of writing a backend file. `init` keeps them in
//! `.dumcel/backend-config.json`, and every later command of the CLI reads
//! them back into the backend block, as Terraform keeps them under
//! `.terraform/`. (Only the CLI reads that file: a pipeline checkout's
//! `.dumcel/` is the branch's, and never chooses where state goes.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dumcel_engine::config::ast::{Expr, ExprKind};
use dumcel_engine::config::lower::Lowerer;
use dumcel_engine::config::{AttrDecl, Module};
use dumcel_engine::eval::{Scope, eval};
use dumcel_planner::Value;

use crate::session::report;

/// Where `init` keeps the values.
pub fn saved_path() -> PathBuf {
    Path::new(".dumcel").join("backend-config.json")
}

#[derive(serde::Serialize, serde::Deserialize, Default, PartialEq, Debug)]
pub struct Saved {
    /// The backend type the values are for (`s3`).
    #[serde(rename = "type")]
    pub kind: String,
    pub config: BTreeMap<String, serde_json::Value>,
}

/// Reads `-backend-config` arguments in order: `KEY=VALUE` pairs, or the
/// path of a file of `key = "value"` lines. Later ones win.
pub fn from_args(args: &[String]) -> Result<BTreeMap<String, serde_json::Value>> {
    let mut out = BTreeMap::new();
    for arg in args {
        let path = Path::new(arg);
        if !arg.contains('=') || path.is_file() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("-backend-config={arg}: cannot read the file"))?;
            out.extend(from_file(arg, &text)?);
            continue;
        }
        let (key, value) = arg.split_once('=').unwrap_or((arg, ""));
        let key = key.trim();
        if key.is_empty() {
            return Err(report(format!(
                "-backend-config={arg}: expected KEY=VALUE or the path of a file"
            )));
        }
        let value = match value {
            "true" => serde_json::Value::Bool(true),
            "false" => serde_json::Value::Bool(false),
            other => serde_json::Value::String(other.to_owned()),
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

/// A backend settings file: attributes with literal values only.
fn from_file(name: &str, text: &str) -> Result<BTreeMap<String, serde_json::Value>> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        report(format!(
            "{name}:{}: {}",
            e.location().line(),
            e.message().lines().next().unwrap_or("invalid syntax")
        ))
    })?;
    let mut out = BTreeMap::new();
    for structure in body.iter() {
        let hcl_edit::structure::Structure::Attribute(a) = structure else {
            return Err(report(format!(
                "{name}: a backend settings file holds only `key = value` lines"
            )));
        };
        let expr = Lowerer::new(0).expr(&a.value);
        let json = eval(&expr, &Scope::default())
            .ok()
            .and_then(|v| v.to_json())
            .ok_or_else(|| report(format!("{name}: {} must be a literal value", a.key.value())))?;
        out.insert(a.key.value().to_string(), json);
    }
    Ok(out)
}

/// The values `init` saved, if any.
pub fn load() -> Result<Option<Saved>> {
    let path = saved_path();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            report(format!(
                "{}: {e}; run `dumcel init -reconfigure`",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(report(format!("reading {}: {e}", path.display()))),
    }
}

pub fn save(saved: &Saved) -> Result<()> {
    let path = saved_path();
    std::fs::create_dir_all(".dumcel").map_err(|e| report(format!("creating .dumcel: {e}")))?;
    let text = serde_json::to_vec_pretty(saved).map_err(|e| report(e.to_string()))?;
    std::fs::write(&path, text).map_err(|e| report(format!("writing {}: {e}", path.display())))
}

pub fn forget() -> Result<()> {
    match std::fs::remove_file(saved_path()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(report(format!("removing {}: {e}", saved_path().display())))
        }
        _ => Ok(()),
    }
}

/// Puts saved values into the stack's backend block (they win over the
/// block's own, as `-backend-config` does in Terraform). Values for another
/// backend type are left out: the block changed since `init`.
pub fn merge_into(module: &mut Module, saved: &Saved) {
    let Some(backend) = module.backend.as_mut() else {
        return;
    };
    if backend.kind != saved.kind {
        return;
    }
    for (name, value) in &saved.config {
        let expr = Expr {
            kind: ExprKind::Literal(Value::from_json(value)),
            span: backend.span,
        };
        backend.body.attributes.insert(
            name.clone(),
            AttrDecl {
                name: name.clone(),
                expr,
                span: backend.span,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_files_later_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("prod.s3.tfbackend");
        std::fs::write(&file, "bucket = \"from-file\"\nencrypt = true\n").unwrap();
        let got = from_args(&[
            "bucket=first".into(),
            file.display().to_string(),
            "key=a/b.tfstate".into(),
        ])
        .unwrap();
        assert_eq!(got["bucket"], "from-file");
        assert_eq!(got["encrypt"], true);
        assert_eq!(got["key"], "a/b.tfstate");
        assert!(from_args(&["=x".into()]).is_err());
        assert!(from_args(&["/no/such/file".into()]).is_err());
    }
}
