//! The local backend: a snapshot file in the stack directory plus its
//! siblings `.lock`, `.backup` and `.journal`.
//!
//! Typical command:
//! ```text
//! let lock = backend.lock("apply", timeout)?;        // whole command
//! let loaded = backend.load(&lock)?;                  // snapshot + replay
//! // reconcile loaded.in_flight (read back from providers), then:
//! let journal = backend.open_journal(&lock, &state, "apply")?;
//! // per resource: journal.intent(..).await, provider call, journal.done(..)
//! journal.sync().await?; drop(journal);
//! state.serial += 1;                                  // content changed
//! backend.persist(&lock, &state)?;                    // folds the journal
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use crate::error::StateError;
use crate::fsutil::{
    atomic_replace, parent_dir, read_optional, remove_optional, sibling, sync_dir,
};
use crate::journal::{InFlight, Journal};
pub use crate::lock::LocalLock;
use crate::lock::{self, LockInfo};
use crate::model::State;
use crate::record::Begin;
use crate::replay;
use crate::writer::Ship;

/// Default snapshot file name in the stack directory.
pub const DEFAULT_STATE_FILE: &str = "dumcel.tfstate";

/// The local backend, named by the path of its snapshot file.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    path: PathBuf,
}

/// What [`LocalBackend::load`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// `None` only when neither a snapshot nor a journal exists.
    pub state: Option<State>,
    /// Intents with no recorded completion: the provider may or may not have
    /// acted. The engine must read them back, then `persist`.
    pub in_flight: Vec<InFlight>,
    /// Completed journal records applied on top of the snapshot.
    pub replayed: usize,
}

impl LocalBackend {
    pub fn new(path: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend { path: path.into() }
    }

    /// The snapshot file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
    }

    pub fn backup_path(&self) -> PathBuf {
        sibling(&self.path, ".backup")
    }

    pub fn journal_path(&self) -> PathBuf {
        sibling(&self.path, ".journal")
    }

    /// Take the state lock for the whole command, retrying until `timeout`
    /// (zero: one try). Blocks the calling thread while waiting. Creates the
    /// state's directory if needed.
    pub fn lock(&self, operation: &str, timeout: Duration) -> Result<LocalLock, StateError> {
        let dir = parent_dir(&self.path);
        std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
        lock::acquire(&self.lock_path(), operation, timeout)
    }

    /// The recorded lock holder, if any and readable (for messages and
    /// `force-unlock`). Best effort: never fails.
    pub fn read_lock_info(&self) -> Option<LockInfo> {
        lock::read_info(&self.lock_path())
    }

    /// Clear a stale lock record whose holder is dead. A lock held by a live
    /// process cannot be broken (it is an OS lock):
    /// [`StateError::LockHeldByLiveProcess`].
    pub fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        lock::force_unlock(&self.lock_path(), id)
    }

    /// Read the snapshot and replay any journal left by an interrupted
    /// command.
    ///
    /// The journal is ignored (with a warning) when it belongs to another
    /// lineage or is older than the snapshot (`base_serial < serial`: the
    /// snapshot was written and only the journal's deletion was lost).
    ///
    /// With a journal but no snapshot (a first apply that crashed), the base
    /// is an empty state with the journal's lineage and `base_serial`; that
    /// is exact because a snapshot-less base has no resources. If the
    /// snapshot was deleted by hand later, the journal alone cannot restore
    /// the resources it did not touch (a warning says so).
    pub fn load(&self, _lock: &LocalLock) -> Result<Loaded, StateError> {
        let snapshot = match read_optional(&self.path)? {
            Some(bytes) => Some(State::from_json_at(&bytes, &self.path)?),
            None => None,
        };
        let journal_path = self.journal_path();
        let snapshot_only = |state| Loaded {
            state,
            in_flight: Vec::new(),
            replayed: 0,
        };
        let Some(bytes) = read_optional(&journal_path)? else {
            return Ok(snapshot_only(snapshot));
        };
        let Some(parsed) = replay::parse(&bytes, &journal_path)? else {
            tracing::warn!(journal = %journal_path.display(), "ignoring a journal with no complete header: nothing was recorded in it");
            return Ok(snapshot_only(snapshot));
        };

        let begin = &parsed.begin;
        let base = match snapshot {
            Some(state) if state.lineage != begin.lineage => {
                tracing::warn!(
                    journal = %journal_path.display(),
                    journal_lineage = %begin.lineage,
                    state_lineage = %state.lineage,
                    "ignoring a journal that belongs to another state (lineage differs)"
                );
                return Ok(snapshot_only(Some(state)));
            }
            Some(state) if begin.base_serial < state.serial => {
                tracing::warn!(
                    journal = %journal_path.display(),
                    base_serial = begin.base_serial,
                    state_serial = state.serial,
                    "ignoring a stale journal already folded into the state"
                );
                return Ok(snapshot_only(Some(state)));
            }
            Some(state) => state,
            None => {
                if begin.base_serial > 0 {
                    tracing::warn!(
                        journal = %journal_path.display(),
                        base_serial = begin.base_serial,
                        "the state file is missing but its journal extends serial {}; only resources recorded in the journal can be recovered (restore the state file from its backup if you have one)",
                        begin.base_serial
                    );
                }
                State {
                    lineage: begin.lineage.clone(),
                    serial: begin.base_serial,
                    ..State::new()
                }
            }
        };

        Ok(replayed_onto(base, parsed, &journal_path))
    }

    /// Write `state` atomically (mode 0600), then delete the journal, whose
    /// content it now contains.
    ///
    /// The first persist under a lock copies the snapshot as it was before
    /// the command to the backup; later persists in the same command keep
    /// that copy, so the backup is always "the state before this command".
    ///
    /// Bump `state.serial` whenever the content changed since the journal was
    /// opened: a crash between the rename and the journal deletion is
    /// recognised by `base_serial < serial` on the next load. (Replaying is
    /// idempotent, so forgetting costs only a redundant replay.)
    ///
    /// Sync or drop the [`Journal`] first: records queued after this call go
    /// to the deleted file.
    pub fn persist(&self, lock: &LocalLock, state: &State) -> Result<(), StateError> {
        self.write_snapshot(lock, state)?;
        self.remove_journal()?;
        tracing::debug!(state = %self.path.display(), serial = state.serial, "state persisted");
        Ok(())
    }

    /// The first half of [`LocalBackend::persist`]: the snapshot, durable,
    /// with the journal left in place. A remote backend calls this, uploads,
    /// and only then [`LocalBackend::remove_journal`], so a failed upload
    /// loses nothing.
    pub fn write_snapshot(&self, lock: &LocalLock, state: &State) -> Result<(), StateError> {
        let dir = parent_dir(&self.path);
        let bytes = state.to_json_pretty();
        if !lock.backed_up.load(Ordering::Acquire) {
            if let Some(previous) = read_optional(&self.path)? {
                atomic_replace(&self.backup_path(), &previous)?;
            }
            lock.backed_up.store(true, Ordering::Release);
        }
        atomic_replace(&self.path, &bytes)?;
        // One directory fsync covers both renames, and must precede the
        // journal's deletion: never lose the journal before the snapshot
        // that replaces it is durable.
        sync_dir(dir)
    }

    /// Deletes the journal, whose content the snapshot (or the remote
    /// object) now holds.
    pub fn remove_journal(&self) -> Result<(), StateError> {
        if remove_optional(&self.journal_path())? {
            sync_dir(parent_dir(&self.path))?;
        }
        Ok(())
    }

    /// Replays the journal an interrupted command left onto `base`, the
    /// state as a remote backend holds it (not the local snapshot, which is
    /// only a mirror). Strict, since a mistake here overwrites the remote
    /// state: a journal of another lineage, or one based on a newer serial
    /// than `base`, is an error; one based on an older serial is dropped when
    /// `base` already holds all it recorded (the upload landed but the
    /// journal's deletion did not) and an error otherwise (the remote state
    /// moved on without these changes).
    pub fn load_onto(
        &self,
        _lock: &LocalLock,
        base: Option<State>,
        remote: &str,
    ) -> Result<Loaded, StateError> {
        let journal_path = self.journal_path();
        let unchanged = |state| Loaded {
            state,
            in_flight: Vec::new(),
            replayed: 0,
        };
        let Some(bytes) = read_optional(&journal_path)? else {
            return Ok(unchanged(base));
        };
        let Some(parsed) = replay::parse(&bytes, &journal_path)? else {
            return Ok(unchanged(base));
        };
        let begin = &parsed.begin;
        let refuse = |detail: String| StateError::JournalConflict {
            journal: journal_path.clone(),
            remote: remote.to_owned(),
            detail,
        };
        let base = match base {
            Some(state) if state.lineage != begin.lineage => {
                return Err(refuse(format!(
                    "the journal belongs to state lineage {}, the remote state is lineage {}",
                    begin.lineage, state.lineage
                )));
            }
            Some(state) if begin.base_serial < state.serial => {
                let missing = replay::missing_from(&parsed, &state);
                if missing.is_empty() {
                    tracing::info!(journal = %journal_path.display(), "the remote state already holds this journal's changes; dropping it");
                    self.remove_journal()?;
                    return Ok(unchanged(Some(state)));
                }
                return Err(refuse(format!(
                    "the remote state moved on (serial {}) since the interrupted command began (serial {}), without its changes to {}",
                    state.serial,
                    begin.base_serial,
                    missing.join(", ")
                )));
            }
            Some(state) if begin.base_serial > state.serial => {
                return Err(refuse(format!(
                    "the remote state (serial {}) is older than the one the interrupted command began from (serial {}): it was rolled back or restored",
                    state.serial, begin.base_serial
                )));
            }
            Some(state) => state,
            None if begin.base_serial == 0 => State {
                lineage: begin.lineage.clone(),
                serial: 0,
                ..State::new()
            },
            None => {
                return Err(refuse(format!(
                    "the remote state is missing, but the interrupted command began from serial {}",
                    begin.base_serial
                )));
            }
        };
        Ok(replayed_onto(base, parsed, &journal_path))
    }

    /// Start the journal for a command that changes resources, with `base`
    /// (the state as it is before any change) as its starting point.
    ///
    /// A journal left by an interrupted command is folded first by
    /// persisting `base`: truncating it otherwise would lose the records
    /// `load` replayed into `base`. Reconcile `Loaded::in_flight` before
    /// calling this; unreconciled intents are not carried over.
    pub fn open_journal(
        &self,
        lock: &LocalLock,
        base: &State,
        operation: &str,
    ) -> Result<Journal, StateError> {
        self.open_journal_shipping(
            lock,
            base,
            operation,
            uuid::Uuid::new_v4().to_string(),
            None,
        )
    }

    /// [`LocalBackend::open_journal`], with every group commit also handed
    /// to `ship` (a remote backend's copy), under the journal id `id`.
    pub fn open_journal_shipping(
        &self,
        lock: &LocalLock,
        base: &State,
        operation: &str,
        id: String,
        ship: Option<Ship>,
    ) -> Result<Journal, StateError> {
        let journal_path = self.journal_path();
        let exists = journal_path
            .try_exists()
            .map_err(|e| StateError::io(&journal_path, e))?;
        if exists {
            tracing::info!(journal = %journal_path.display(), "folding the previous journal into the state before starting a new one");
            self.persist(lock, base)?;
        }
        let begin = Begin {
            id,
            lineage: base.lineage.clone(),
            base_serial: base.serial,
            operation: operation.to_string(),
            started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        };
        Journal::create(journal_path, &begin, ship)
    }

    /// The id of the journal an interrupted command left here, its size and
    /// the serial it began from: `None` when there is none (or it has no
    /// complete header).
    pub fn journal_id(
        &self,
        _lock: &LocalLock,
    ) -> Result<Option<(String, usize, u64)>, StateError> {
        let path = self.journal_path();
        let Some(bytes) = read_optional(&path)? else {
            return Ok(None);
        };
        Ok(replay::parse(&bytes, &path)?.map(|p| (p.begin.id, bytes.len(), p.begin.base_serial)))
    }

    /// Puts a journal copied back from a remote backend in place of the
    /// local one (none, or a shorter copy of the same), durably.
    pub fn restore_journal(&self, _lock: &LocalLock, bytes: &[u8]) -> Result<(), StateError> {
        atomic_replace(&self.journal_path(), bytes)?;
        sync_dir(parent_dir(&self.path))
    }
}

/// A journal replayed onto its base, with a line in the log.
fn replayed_onto(base: State, parsed: replay::Parsed, journal_path: &Path) -> Loaded {
    let r = replay::apply(base, parsed);
    tracing::info!(
        journal = %journal_path.display(),
        replayed = r.replayed,
        in_flight = r.in_flight.len(),
        "recovered changes from the journal of an interrupted command"
    );
    Loaded {
        state: Some(r.state),
        in_flight: r.in_flight,
        replayed: r.replayed,
    }
}
