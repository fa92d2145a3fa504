//! The apply journal: durability at O(change) per completed resource.
//!
//! Instead of rewriting the whole snapshot after each resource, completed
//! changes are appended to `<state>.journal` and fsynced in groups (see
//! `writer`). The journal is folded into the snapshot at the end of the
//! command (`LocalBackend::persist`) and replayed after a crash
//! (`LocalBackend::load`).
//!
//! Protocol for the engine, per resource:
//! 1. `intent(..).await` BEFORE calling the provider: once it returns, a
//!    crash cannot lose the fact that the operation may have happened; the
//!    next load reports it as in flight so it can be read back.
//! 2. `done(seq, ..)` after the provider returns: written at once,
//!    durable with the next fsync something waits for (an intent, `sync`,
//!    the last handle's drop); never waits for a disk flush.
//! 3. At the end: `sync().await` (or drop every handle), then `persist`.
//!
//! A type that makes nothing outside the state (a `null_resource`, a
//! `random_id`) takes `intent_held` and `complete` instead of 1 and 2: its
//! intent is written with its outcome, in one `write`.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tokio::runtime::RuntimeFlavor;
use tokio::sync::oneshot;

use crate::error::StateError;
use crate::fsutil::{parent_dir, private_options, set_private, sync_dir};
use crate::model::ResourceInstance;
use crate::record::{self, Begin};
use crate::writer::{self, Failure, Msg, Shared, Ship};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Replace,
    Read,
}

/// An operation whose intent is durable but whose completion is not: the
/// provider may or may not have acted, so the engine must read it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub seq: u64,
    pub address: String,
    pub operation: Operation,
    /// Known planned attributes, enough to find the object again.
    pub planned: Option<serde_json::Value>,
    pub resource_type: String,
    pub provider: String,
}

/// What a completed operation left in the state for its address.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The instance now exists with these values.
    Put(ResourceInstance),
    /// The instance no longer exists.
    Remove,
}

/// An intent numbered and encoded by [`Journal::intent_held`], not yet
/// written: [`Journal::complete`] writes it with its outcome.
#[derive(Debug)]
pub struct HeldIntent {
    seq: u64,
    line: Vec<u8>,
}

impl HeldIntent {
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// Handle to an open journal. Cheap to clone, `Send + Sync`; the writer
/// thread ends (after its last fsync) when the last handle is dropped.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `Option` only so `Drop` can close the channel before joining.
    tx: Option<mpsc::Sender<Msg>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    next_seq: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            // Joining makes "dropped" mean "everything recorded is durable",
            // which callers (and crash tests) rely on. The writer does not
            // panic; if it somehow did, there is nothing left to do here.
            let join = || {
                let _ = thread.join();
            };
            // The last commit may ship to the remote backend, whose upload
            // the runtime's workers drive: a worker waiting here must hand
            // its work to another thread first, or a one-worker runtime
            // would wait for itself.
            match tokio::runtime::Handle::try_current() {
                Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                    tokio::task::block_in_place(join);
                }
                _ => join(),
            }
        }
    }
}

impl Journal {
    /// Create (or truncate) the journal at `path` and make its header
    /// durable before anything else can be recorded.
    pub(crate) fn create(
        path: PathBuf,
        begin: &Begin,
        ship: Option<Ship>,
    ) -> Result<Journal, StateError> {
        let io = |e| StateError::io(&path, e);
        let mut file: File = private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(io)?;
        set_private(&file).map_err(io)?;
        let header = record::encode_begin(begin).map_err(|e| io(e.into()))?;
        file.write_all(&header).map_err(io)?;
        file.sync_data().map_err(io)?;
        // The file may be new: its directory entry must be durable too, or
        // fsynced intents could vanish with it.
        sync_dir(parent_dir(&path))?;

        let ship = ship.map(|ship| (header, ship));
        let (shared, tx, thread) = writer::spawn(file, ship).map_err(io)?;
        tracing::debug!(journal = %path.display(), base_serial = begin.base_serial, "state journal opened");
        Ok(Journal {
            inner: Arc::new(Inner {
                path,
                tx: Some(tx),
                thread: Some(thread),
                shared,
                next_seq: AtomicU64::new(1),
            }),
        })
    }

    /// Record that `operation` on `address` is about to be attempted.
    /// Returns the record's sequence number once it is durable (fsynced);
    /// call the provider only after that. If this future is dropped early
    /// the intent may still be written, and is then reported in flight:
    /// the safe direction.
    pub async fn intent(
        &self,
        address: &str,
        resource_type: &str,
        provider: &str,
        operation: Operation,
        planned: Option<serde_json::Value>,
    ) -> Result<u64, StateError> {
        let (seq, line) =
            self.encode_intent(address, resource_type, provider, operation, &planned)?;
        let (waiter, told) = oneshot::channel();
        self.send(Msg::Record { line, waiter })?;
        self.wait(told).await?;
        Ok(seq)
    }

    /// Number and encode an intent, to be written with its outcome by
    /// [`Journal::complete`]: nothing is written now. Only for an operation
    /// that makes nothing outside the state (a `null_resource`, a
    /// `random_id`): a crash before the outcome is written then loses no
    /// object, only a value no run has reported yet. Dropped without an
    /// outcome, the intent is never written, and nothing is left to read
    /// back.
    pub fn intent_held(
        &self,
        address: &str,
        resource_type: &str,
        provider: &str,
        operation: Operation,
        planned: Option<serde_json::Value>,
    ) -> Result<HeldIntent, StateError> {
        let (seq, line) =
            self.encode_intent(address, resource_type, provider, operation, &planned)?;
        Ok(HeldIntent { seq, line })
    }

    fn encode_intent(
        &self,
        address: &str,
        resource_type: &str,
        provider: &str,
        operation: Operation,
        planned: &Option<serde_json::Value>,
    ) -> Result<(u64, Vec<u8>), StateError> {
        self.check_failed()?;
        let seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        let line = record::encode_intent(seq, address, resource_type, provider, operation, planned)
            .map_err(|e| self.io_error(e.into()))?;
        Ok((seq, line))
    }

    /// Record the outcome of intent `seq`. Written before this returns (one
    /// `write` to the page cache), durable with the next fsync something
    /// waits for (or [`Journal::sync`]); never waits for a disk flush.
    pub fn done(&self, seq: u64, address: &str, outcome: &Outcome) -> Result<(), StateError> {
        self.write_done(seq, address, outcome, None)
    }

    /// Record a held intent and its outcome together: written like
    /// [`Journal::done`], the two lines in one `write`.
    pub fn complete(
        &self,
        intent: HeldIntent,
        address: &str,
        outcome: &Outcome,
    ) -> Result<(), StateError> {
        self.write_done(intent.seq, address, outcome, Some(intent.line))
    }

    /// Writes the outcome's line, after its intent's when that was held.
    fn write_done(
        &self,
        seq: u64,
        address: &str,
        outcome: &Outcome,
        held: Option<Vec<u8>>,
    ) -> Result<(), StateError> {
        self.check_failed()?;
        let (mut lines, records) = match held {
            Some(intent) => (intent, 2),
            None => (Vec::new(), 1),
        };
        let put = match outcome {
            Outcome::Put(instance) => Some(instance),
            Outcome::Remove => None,
        };
        record::encode_done(seq, address, put, &mut lines).map_err(|e| self.io_error(e.into()))?;
        self.append(&lines, records)
    }

    /// Wait until everything recorded so far is durable.
    pub async fn sync(&self) -> Result<(), StateError> {
        self.check_failed()?;
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Sync(Some(tx)))?;
        self.wait(rx).await
    }

    /// Records (intents and dones, not the header) written and fsynced.
    pub fn records_written(&self) -> u64 {
        self.inner.shared.records.load(Ordering::Relaxed)
    }

    /// Group fsyncs made so far; with concurrent intents this stays far
    /// below [`Journal::records_written`].
    pub fn fsyncs(&self) -> u64 {
        self.inner.shared.fsyncs.load(Ordering::Relaxed)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn check_failed(&self) -> Result<(), StateError> {
        match self.inner.shared.failure.get() {
            Some(failure) => Err(self.failure_error(failure)),
            None => Ok(()),
        }
    }

    /// Appends `records` records nobody waits for from this thread; asks the
    /// writer thread to commit when the remote copy's backlog is full.
    fn append(&self, lines: &[u8], records: u64) -> Result<(), StateError> {
        match self.inner.shared.append(lines, records) {
            Ok(false) => Ok(()),
            Ok(true) => self.send(Msg::Sync(None)),
            Err(failure) => Err(self.failure_error(&failure)),
        }
    }

    fn send(&self, msg: Msg) -> Result<(), StateError> {
        let sent = match &self.inner.tx {
            Some(tx) => tx.send(msg).is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { Err(self.stopped()) }
    }

    async fn wait(&self, rx: oneshot::Receiver<Result<(), Failure>>) -> Result<(), StateError> {
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(self.failure_error(&failure)),
            Err(_) => Err(self.stopped()),
        }
    }

    fn failure_error(&self, failure: &Failure) -> StateError {
        self.io_error(failure.to_io())
    }

    fn stopped(&self) -> StateError {
        self.io_error(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "the state journal writer stopped unexpectedly",
        ))
    }

    fn io_error(&self, source: std::io::Error) -> StateError {
        StateError::io(&self.inner.path, source)
    }
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.inner.path)
            .field("records_written", &self.records_written())
            .field("fsyncs", &self.fsyncs())
            .field("failed", &self.inner.shared.failure.get().is_some())
            .finish()
    }
}
