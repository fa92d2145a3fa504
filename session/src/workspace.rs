//! Workspaces: one state per workspace. The default workspace keeps the
//! backend's own path; workspace W keeps `dumcel.tfstate.d/W/<file>` beside it.

use std::path::{Path, PathBuf};

pub const DEFAULT: &str = "default";
const DIR: &str = "dumcel.tfstate.d";

/// Where workspace `name` keeps the state whose default path is `base`.
pub fn state_path(base: &Path, name: &str) -> PathBuf {
    if name == DEFAULT {
        return base.to_path_buf();
    }
    let file = base
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(dumcel_state::DEFAULT_STATE_FILE));
    let parent = base.parent().unwrap_or(Path::new(""));
    parent.join(DIR).join(name).join(file)
}

/// Every workspace, default first.
pub fn list(base: &Path) -> Vec<String> {
    let parent = base.parent().unwrap_or(Path::new(""));
    let mut names: Vec<String> = std::fs::read_dir(parent.join(DIR))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    names.insert(0, DEFAULT.to_owned());
    names
}

pub fn exists(base: &Path, name: &str) -> bool {
    name == DEFAULT || state_path(base, name).parent().is_some_and(Path::is_dir)
}

/// Names become directory names: letters, digits, `-` and `_` only.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\" is not a valid workspace name: use letters, digits, - and _ (at most 90)"
        ))
    }
}

/// Makes the workspace's directory and an empty state in it.
pub fn create(base: &Path, name: &str) -> Result<(), crate::SessionError> {
    let path = state_path(base, name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::SessionError::Io(format!("creating {}: {e}", dir.display())))?;
    }
    let backend = dumcel_state::LocalBackend::new(path);
    let lock = backend.lock("workspace new", std::time::Duration::ZERO)?;
    backend.persist(&lock, &dumcel_state::State::new())?;
    Ok(())
}
