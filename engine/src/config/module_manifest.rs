//! `.dumcel/modules/modules.json`: which module `dumcel init` installed
//! where, in the format of Terraform's `.terraform/modules/modules.json`.
//! The loader finds git modules through it; it never fetches anything.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::module_source::GitSource;

/// Where `dumcel init` puts fetched modules, relative to the stack directory.
pub const MODULES_DIR: &str = ".dumcel/modules";

/// The manifest, relative to the stack directory.
pub const MANIFEST_FILE: &str = ".dumcel/modules/modules.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "Modules", default)]
    pub modules: Vec<Record>,
}

/// One module call: its key (`vpc`, `app.vpc`; empty for the root), its
/// source as normalized, and its directory relative to the stack directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Source")]
    pub source: String,
    /// Registry modules' version in Terraform's manifests; never set here.
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(rename = "Dir")]
    pub dir: String,
}

impl Manifest {
    /// The manifest of the stack in `root`; `None` when init never
    /// installed modules there.
    pub fn read(root: &Path) -> Result<Option<Manifest>, String> {
        let path = root.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes the records sorted by key after the root's own, as Terraform does.
    pub fn write(&self, root: &Path) -> std::io::Result<()> {
        let mut modules: Vec<Record> = self
            .modules
            .iter()
            .filter(|r| !r.key.is_empty())
            .cloned()
            .collect();
        modules.sort_by(|a, b| a.key.cmp(&b.key));
        modules.insert(
            0,
            Record {
                key: String::new(),
                source: String::new(),
                version: None,
                dir: ".".into(),
            },
        );
        let text = serde_json::to_vec(&Manifest { modules }).map_err(std::io::Error::other)?;
        let path = root.join(MANIFEST_FILE);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)
    }

    pub fn get(&self, key: &str) -> Option<&Record> {
        self.modules.iter().find(|r| r.key == key)
    }
}

/// A module's key in the manifest: `module.app.module.vpc` is `app.vpc`.
pub fn key_of(address: &str) -> String {
    address
        .strip_prefix("module.")
        .unwrap_or(address)
        .replace(".module.", ".")
}

/// Why a git module cannot be loaded: a summary and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInstalled {
    pub summary: String,
    pub detail: String,
}

/// The directory `dumcel init` installed the git module at `address` in,
/// for the stack in `root`: installed from this very source, or an error
/// saying to run init.
pub fn installed_dir(
    root: &Path,
    address: &str,
    source: &GitSource,
) -> Result<PathBuf, NotInstalled> {
    let run_init = "Run \"dumcel init\" to install all modules required by this configuration.";
    let manifest = Manifest::read(root).map_err(|e| NotInstalled {
        summary: "Failed to read module manifest".into(),
        detail: format!("{e}. {run_init}"),
    })?;
    let not_installed = |why: String| NotInstalled {
        summary: "Module not installed".into(),
        detail: format!("{why} {run_init}"),
    };
    let shown = source.display();
    let Some(record) = manifest.as_ref().and_then(|m| m.get(&key_of(address))) else {
        return Err(not_installed(format!(
            "{address} (source \"{shown}\") is not yet installed."
        )));
    };
    if record.source != source.normalized() {
        return Err(NotInstalled {
            summary: "Module source has changed".into(),
            detail: format!(
                "The source of {address} was changed to \"{shown}\" since this module was installed. {run_init}"
            ),
        });
    }
    // The manifest is a file in the working directory, so a checkout could
    // carry a forged one: its directories must stay inside the stack.
    let relative = Path::new(&record.dir);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(not_installed(format!(
            "{address}: the module manifest names {:?}, outside the stack directory.",
            record.dir
        )));
    }
    let dir = root.join(relative);
    if !dir.is_dir() {
        return Err(not_installed(format!(
            "{address} (source \"{shown}\"): its local cache directory {} could not be read.",
            record.dir
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::module_source::{ModuleSource, parse};

    fn git(source: &str) -> GitSource {
        match parse(source) {
            Ok(ModuleSource::Git(g)) => g,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_follow_terraform() {
        assert_eq!(key_of("module.vpc"), "vpc");
        assert_eq!(key_of("module.app.module.vpc"), "app.vpc");
    }

    #[test]
    fn written_as_terraform_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest {
            modules: vec![
                Record {
                    key: "x".into(),
                    source: "git::file:///r.git//m?ref=v1".into(),
                    version: None,
                    dir: ".dumcel/modules/x/m".into(),
                },
                Record {
                    key: "l".into(),
                    source: "./local".into(),
                    version: None,
                    dir: "local".into(),
                },
            ],
        };
        manifest.write(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        assert_eq!(
            text,
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"l","Source":"./local","Dir":"local"},{"Key":"x","Source":"git::file:///r.git//m?ref=v1","Dir":".dumcel/modules/x/m"}]}"#
        );
        let back = Manifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(back.get("x"), manifest.modules.first());
    }

    #[test]
    fn installed_from_another_source_or_missing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = git("git::https://u:pw@h/r.git//m?ref=v1");
        let err = installed_dir(dir.path(), "module.x", &v1).unwrap_err();
        assert_eq!(err.summary, "Module not installed");
        assert!(err.detail.contains("module.x"), "{}", err.detail);
        assert!(err.detail.contains("dumcel init"), "{}", err.detail);
        assert!(!err.detail.contains("pw"), "{}", err.detail);
        Manifest {
            modules: vec![Record {
                key: "x".into(),
                source: v1.normalized(),
                version: None,
                dir: ".dumcel/modules/x/m".into(),
            }],
        }
        .write(dir.path())
        .unwrap();
        // Recorded, but its directory is gone.
        let err = installed_dir(dir.path(), "module.x", &v1).unwrap_err();
        assert_eq!(err.summary, "Module not installed");
        std::fs::create_dir_all(dir.path().join(".dumcel/modules/x/m")).unwrap();
        assert_eq!(
            installed_dir(dir.path(), "module.x", &v1).unwrap(),
            dir.path().join(".dumcel/modules/x/m")
        );
        let v2 = git("git::https://h/r.git//m?ref=v2");
        let err = installed_dir(dir.path(), "module.x", &v2).unwrap_err();
        assert_eq!(err.summary, "Module source has changed");
        // Another call with the same source is not installed.
        assert!(installed_dir(dir.path(), "module.y", &v1).is_err());
    }

    #[test]
    fn a_forged_manifest_cannot_point_outside_the_stack() {
        let dir = tempfile::tempdir().unwrap();
        let src = git("git::https://h/r.git?ref=v1");
        for forged in ["/etc", "../elsewhere", ".dumcel/modules/../../.."] {
            Manifest {
                modules: vec![Record {
                    key: "x".into(),
                    source: src.normalized(),
                    version: None,
                    dir: forged.into(),
                }],
            }
            .write(dir.path())
            .unwrap();
            let err = installed_dir(dir.path(), "module.x", &src).unwrap_err();
            assert!(
                err.detail.contains("outside the stack"),
                "{forged}: {}",
                err.detail
            );
        }
    }
}
