//! Durable file primitives: private modes, directory fsync, atomic replace.
//!
//! State files carry secrets (sensitive attributes), hence mode 0600
//! everywhere; and a crash must leave either the old or the new file, never
//! a half-written one, hence temp-file + fsync + rename + directory fsync.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::StateError;

/// Permission bits for every file this crate creates.
pub(crate) const PRIVATE_MODE: u32 = 0o600;

/// `path` with `suffix` appended to its file name: `x.tfstate` -> `x.tfstate.lock`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The directory holding `path`; `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Open options that create files 0600 from the start, so a secret is never
/// readable by others, not even between create and chmod.
pub(crate) fn private_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(PRIVATE_MODE);
    }
    opts
}

/// Force 0600: the create mode is filtered by the umask, and a pre-existing
/// file keeps whatever mode it had.
pub(crate) fn set_private(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(PRIVATE_MODE))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Make renames/creates/unlinks inside `dir` durable. A no-op off unix, where
/// directories cannot be opened for syncing.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StateError::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Replace `path` with `bytes` atomically and durably, mode 0600.
///
/// The caller must fsync the directory afterwards (see [`sync_dir`]); it is
/// left out so that several replacements in one directory share one fsync.
pub(crate) fn atomic_replace(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    // Unique per process and call: two dumcels never share a lock, but a
    // stale temp from a crashed run must not collide with ours.
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = write_new_file(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| StateError::io(path, e)));
    if result.is_err() {
        // Best effort: do not leave a temp file holding secrets behind.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let io = |e| StateError::io(path, e);
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    set_private(&file).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Read a whole file; `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::io(path, e)),
    }
}

/// Remove a file; `false` when it did not exist.
pub(crate) fn remove_optional(path: &Path) -> Result<bool, StateError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StateError::io(path, e)),
    }
}
