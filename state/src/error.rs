//! Every way the recorded world can fail, each with a message that says
//! what the user should do next: these strings reach the terminal as-is.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::lock::LockInfo;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Any filesystem failure; the path tells the user which file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The snapshot is not valid state JSON (hand edit, foreign file, disk damage).
    #[error(
        "{}the state file is not valid dumcel state JSON ({detail}); restore it from {} or fix it by hand",
        prefix(path),
        backup_name(path)
    )]
    Corrupt { path: PathBuf, detail: String },

    /// The snapshot was written in a format this build does not understand.
    #[error("{}{}", prefix(path), unsupported_version_advice(*found, *supported))]
    UnsupportedVersion {
        path: PathBuf,
        found: u64,
        supported: u32,
    },

    /// A journal line other than the last one is damaged. The last line is
    /// allowed to be torn (kill -9 mid-write), so this is never a crash artefact
    /// of dumcel itself.
    #[error(
        "{}:{line}: the state journal is corrupt ({detail}); it holds the changes of an interrupted command that were not yet folded into the state file: fix or delete that line by hand, then run the command again (resources whose records are lost must be re-imported or refreshed)",
        path.display()
    )]
    CorruptJournal {
        path: PathBuf,
        line: usize,
        detail: String,
    },

    /// A journal left by an interrupted command does not fit the remote
    /// state it would be replayed onto: replaying it would lose changes.
    #[error(
        "{}: this machine's interrupted command left changes that do not fit {remote}: {detail}. Nothing was written. Compare them (the journal is one JSON record per line; `dumcel state pull` prints the remote state), record what is missing with `dumcel import` or `dumcel state rm`, then delete the journal and run the command again",
        journal.display()
    )]
    JournalConflict {
        journal: PathBuf,
        remote: String,
        detail: String,
    },

    /// Another process holds the state lock. (`info` is boxed to keep every
    /// `Result<_, StateError>` small.)
    #[error("{}", locked_message(info.as_deref(), path))]
    Locked {
        info: Option<Box<LockInfo>>,
        path: PathBuf,
    },

    /// `force-unlock` was asked to break a lock whose holder is alive.
    #[error("{}", live_holder_message(info.as_deref(), path))]
    LockHeldByLiveProcess {
        info: Option<Box<LockInfo>>,
        path: PathBuf,
    },

    /// `force-unlock` was given an ID that is not the recorded holder's.
    #[error(
        "lock ID {given:?} does not match the lock recorded in {} (ID {actual:?}); check the ID and run: dumcel force-unlock {actual}",
        path.display()
    )]
    LockIdMismatch {
        given: String,
        actual: String,
        path: PathBuf,
    },
}

impl StateError {
    pub(crate) fn io(path: &Path, source: io::Error) -> StateError {
        StateError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `"<path>: "`, or nothing for in-memory input (`State::from_json`), which
/// has an empty path.
fn prefix(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        String::new()
    } else {
        format!("{}: ", path.display())
    }
}

/// Name the actual backup next to the broken file, so a custom `-state` path
/// gets a hint that points at the right file.
fn backup_name(path: &Path) -> String {
    match path.file_name() {
        Some(name) => format!("{}.backup", name.to_string_lossy()),
        _ => "dumcel.tfstate.backup".to_string(),
    }
}

fn unsupported_version_advice(found: u64, supported: u32) -> String {
    if found > u64::from(supported) {
        format!(
            "state format version {found} was written by a newer dumcel (this one reads version {supported}); upgrade dumcel to use this state"
        )
    } else {
        format!(
            "state format version {found} is not a dumcel state format (this dumcel reads version {supported}); is this a state file from another tool?"
        )
    }
}

fn locked_message(info: Option<&LockInfo>, path: &Path) -> String {
    match info {
        Some(info) => format!(
            "state is locked by {} (pid {}) for {:?} since {}, lock ID {}; wait for it to finish, retry with -lock-timeout=60s, or if that process is gone run: dumcel force-unlock {}",
            info.who, info.pid, info.operation, info.created, info.id, info.id
        ),
        None => format!(
            "state is locked by another process (the lock file {} names no holder yet); wait for it to finish or retry with -lock-timeout=60s",
            path.display()
        ),
    }
}

fn live_holder_message(info: Option<&LockInfo>, path: &Path) -> String {
    let holder = match info {
        Some(info) => HolderSummary(info).to_string(),
        None => "a live process".to_string(),
    };
    format!(
        "the state lock {} is held by {holder}; an OS file lock cannot be broken from outside: stop that process and the lock is released automatically",
        path.display()
    )
}

struct HolderSummary<'a>(&'a LockInfo);

impl fmt::Display for HolderSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0;
        write!(
            f,
            "{} (pid {}) for {:?} since {}, lock ID {}",
            i.who, i.pid, i.operation, i.created, i.id
        )
    }
}
