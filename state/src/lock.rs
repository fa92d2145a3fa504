//! The state lock: an OS-level exclusive lock on `<state>.lock`, held for
//! the whole command.
//!
//! The OS lock is the only source of truth: the kernel drops it when the
//! holder dies (even by kill -9), so a crash never leaves the state locked.
//! The file's *content* (JSON [`LockInfo`]) is only there to name the holder
//! in messages; it may be stale or empty and is never trusted for exclusion.
//! The file itself is never deleted: unlinking a lock file lets two
//! processes lock two different inodes at once.

use std::fs::{File, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::StateError;
use crate::fsutil::{private_options, read_optional, set_private};
use crate::identity;

/// Who holds the lock, recorded in the lock file for other processes' messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// uuid v4; what `dumcel force-unlock` takes.
    pub id: String,
    /// The command holding the lock, e.g. `apply`.
    pub operation: String,
    /// `user@hostname`.
    pub who: String,
    pub pid: u32,
    /// RFC 3339 UTC, seconds precision.
    pub created: String,
    /// Version of the dumcel holding the lock.
    pub version: String,
    /// The holder's host name, boot and process start time: with `pid`,
    /// what tells whether the holder still runs (on this host). Empty in
    /// locks written by older versions.
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub boot: String,
    #[serde(default)]
    pub process_start: u64,
}

impl LockInfo {
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: identity::who(),
            pid: std::process::id(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            host: identity::host(),
            boot: identity::boot_id(),
            process_start: identity::process_start(std::process::id()).unwrap_or_default(),
        }
    }

    /// Whether the holder provably no longer runs: it ran on this host, in
    /// this boot, and its process is gone (or its pid now belongs to a
    /// process that started later). A holder on another host is never
    /// judged dead here; its lease says when it may be taken over.
    pub fn holder_is_dead_here(&self) -> bool {
        if self.host.is_empty() || self.host != identity::host() {
            return false;
        }
        if self.boot.is_empty() || self.boot != identity::boot_id() {
            // Another boot of this host: every process of that boot is gone.
            return !self.boot.is_empty();
        }
        match identity::process_start(self.pid) {
            None => true,
            // Unknown start time (unreadable when the lock was taken): only
            // a missing process is proof.
            Some(_) if self.process_start == 0 => false,
            Some(started) => started != self.process_start,
        }
    }
}

/// Proof that this process holds the state lock. Dropping it releases the
/// lock (and clears the holder info from the lock file).
#[derive(Debug)]
pub struct LocalLock {
    file: File,
    info: LockInfo,
    path: PathBuf,
    /// Set once the pre-command snapshot has been copied to the backup, so
    /// later persists in the same command keep that copy (see `persist`).
    pub(crate) backed_up: AtomicBool,
}

impl LocalLock {
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        // Clear first, while still exclusive, so no one reads a finished
        // holder as current. Errors only affect messages: ignore them.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// First pause between tries; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_millis(200);

/// Take the lock, retrying until `timeout` (zero = a single try). Blocks the
/// calling thread while waiting.
pub(crate) fn acquire(
    path: &Path,
    operation: &str,
    timeout: Duration,
) -> Result<LocalLock, StateError> {
    let io = |e| StateError::io(path, e);
    let file = open_lock_file(path)?;
    // `None`: the timeout is too large to represent; wait forever.
    let deadline = Instant::now().checked_add(timeout);
    let mut backoff = MIN_BACKOFF;
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::Error(e)) => return Err(io(e)),
            Err(TryLockError::WouldBlock) => {}
        }
        let remaining = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => MAX_BACKOFF,
        };
        if remaining.is_zero() {
            return Err(StateError::Locked {
                info: read_info(path).map(Box::new),
                path: path.to_path_buf(),
            });
        }
        if !announced {
            announced = true;
            let holder = read_info(path);
            tracing::info!(
                lock = %path.display(),
                holder = ?holder.as_ref().map(|h| (&h.who, h.pid, &h.operation)),
                "waiting for the state lock"
            );
        }
        std::thread::sleep(backoff.min(remaining));
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }

    let info = LockInfo::new(operation);
    let lock = LocalLock {
        file,
        info,
        path: path.to_path_buf(),
        backed_up: AtomicBool::new(false),
    };
    write_info(&lock).map_err(io)?;
    tracing::debug!(lock = %path.display(), id = %lock.info.id, "state lock acquired");
    Ok(lock)
}

/// Best-effort read of the recorded holder; `None` if absent or unreadable.
pub(crate) fn read_info(path: &Path) -> Option<LockInfo> {
    let bytes = read_optional(path).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Clear a stale lock record. Succeeds only when no live process holds the
/// OS lock (then its holder is provably dead) and `id` is the recorded one.
pub(crate) fn force_unlock(path: &Path, id: &str) -> Result<(), StateError> {
    let file = match private_options().read(true).write(true).open(path) {
        Ok(f) => f,
        // No lock file: nothing is or was locked.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StateError::io(path, e)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(StateError::LockHeldByLiveProcess {
                info: read_info(path).map(Box::new),
                path: path.to_path_buf(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(StateError::io(path, e)),
    }
    // We hold the OS lock now; dropping `file` releases it.
    match read_info(path) {
        Some(info) if info.id != id => Err(StateError::LockIdMismatch {
            given: id.to_string(),
            actual: info.id,
            path: path.to_path_buf(),
        }),
        _ => {
            file.set_len(0).map_err(|e| StateError::io(path, e))?;
            tracing::info!(lock = %path.display(), "cleared stale state lock record");
            Ok(())
        }
    }
}

fn open_lock_file(path: &Path) -> Result<File, StateError> {
    // No truncation: the file may hold the current holder's info, which a
    // waiting process must still be able to read and report.
    private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| StateError::io(path, e))
}

fn write_info(lock: &LocalLock) -> std::io::Result<()> {
    let mut file = &lock.file;
    set_private(file)?;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&serde_json::to_vec(&lock.info)?)?;
    // No fsync: the content only feeds messages, and after a crash the OS
    // lock is gone anyway.
    Ok(())
}
