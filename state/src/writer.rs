//! The journal's file: appends from the handles, group commits from one
//! thread.
//!
//! A record nobody waits on (an outcome, or a held intent with its outcome)
//! is appended by the caller itself, one `write` under the log's mutex: a
//! write to the page cache costs less than waking another thread, and a
//! killed process still leaves the record in the file. Its fsync (and its
//! copy to the remote backend) waits for the next commit something needs, or
//! for the last handle's drop (or, when a remote copy is kept, for a
//! megabyte of them). The protocol never needs them durable sooner: an
//! outcome lost to a power cut leaves its intent in flight, to be read back.
//! An apply of 1,000 `null_resource`s thus pays one `write` per resource,
//! one fsync in all, and no thread hand-off.
//!
//! A record somebody waits on (an intent, a `sync`) goes to the writer
//! thread. It blocks for a message, drains whatever else is already queued,
//! writes the batch with one `write`, then commits: one `sync_data`, which
//! covers every record appended before it, whoever appended it. Under load,
//! N concurrent intents therefore cost far fewer than N fsyncs, while a lone
//! intent still pays only one fsync and no added latency (there is no
//! batching timer). The fsync and the remote copy run outside the mutex, so
//! an append never waits for a disk flush or the network.
//!
//! A write or fsync failure poisons the journal: after a failed fsync the
//! kernel may have dropped the dirty pages, so nothing written before can be
//! trusted to be on disk either, and every later call must fail.

use std::fs::File;
use std::io::{self, Write};
use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// A remembered I/O failure; `io::Error` is not `Clone`, so its parts are
/// kept and a fresh error is built for each caller.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub kind: io::ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn to_io(&self) -> io::Error {
        io::Error::new(self.kind, self.message.clone())
    }
}

/// State shared between the handles and the writer thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub failure: OnceLock<Failure>,
    /// Records (not counting the header) written and fsynced.
    pub records: AtomicU64,
    /// `sync_data` calls made by the writer thread.
    pub fsyncs: AtomicU64,
    /// Written only under `pending`'s lock, so records are whole and in the
    /// order `pending` counts them; fsynced without it.
    file: File,
    pending: Mutex<Pending>,
    /// Whether a remote copy is kept (the writer has a shipper).
    shipping: bool,
}

impl Shared {
    /// Appends `bytes`, `records` whole records, to the file. Returns whether
    /// the bytes waiting for their remote copy reached [`SHIP_AT`]: the
    /// writer should then commit although nobody waits.
    pub fn append(&self, bytes: &[u8], records: u64) -> Result<bool, Failure> {
        let mut pending = self.pending();
        if let Some(failure) = self.failure.get() {
            return Err(failure.clone());
        }
        (&self.file)
            .write_all(bytes)
            .map_err(|e| poison(self, &e))?;
        pending.records += records;
        if self.shipping {
            pending.unshipped.extend_from_slice(bytes);
        }
        Ok(pending.backlog_full())
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        // Nothing under the lock panics; were it to, the counts would still
        // describe what the file holds, because a failed write poisons the
        // journal before any count changes.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) type Waiter = oneshot::Sender<Result<(), Failure>>;

pub(crate) enum Msg {
    /// An encoded line; `waiter` is told once it is durable.
    Record { line: Vec<u8>, waiter: Waiter },
    /// Commit everything appended before it, and tell the waiter if any
    /// (there is none when the remote copy's backlog reached [`SHIP_AT`]).
    Sync(Option<Waiter>),
}

/// Copies each group commit somewhere a second machine can read it (the
/// remote backend), numbered from 1 in order, after it is durable locally
/// and before its waiters are told: an intent is acknowledged only once both
/// copies hold it. An error poisons the journal like a failed fsync.
pub type Ship = Box<dyn FnMut(u64, &[u8]) -> io::Result<()> + Send>;

/// `file` holds the journal's durable header. `ship`: the shipper, with that
/// header, which it ships first (as batch 0) from the writer thread: a
/// shipper may block on async I/O, which the caller's (async) thread must
/// not.
pub(crate) fn spawn(
    file: File,
    ship: Option<(Vec<u8>, Ship)>,
) -> io::Result<(Arc<Shared>, Sender<Msg>, JoinHandle<()>)> {
    let shared = Arc::new(Shared {
        failure: OnceLock::new(),
        records: AtomicU64::new(0),
        fsyncs: AtomicU64::new(0),
        file,
        pending: Mutex::default(),
        shipping: ship.is_some(),
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("dumcel-journal".into())
        .spawn({
            let shared = Arc::clone(&shared);
            move || run(&rx, &shared, ship)
        })?;
    Ok((shared, tx, handle))
}

/// Runs until every sender is dropped, then makes what is still written but
/// not durable durable.
fn run(rx: &Receiver<Msg>, shared: &Shared, ship: Option<(Vec<u8>, Ship)>) {
    let mut ship = ship.and_then(|(header, mut ship)| match ship(0, &header) {
        Ok(()) => Some(Shipper { ship, shipped: 0 }),
        Err(e) => {
            poison(shared, &e);
            None
        }
    });
    let mut buf = Vec::new();
    let mut waiters = Vec::new();
    while let Ok(first) = rx.recv() {
        buf.clear();
        let mut records = 0u64;
        let mut take = |msg: Msg| match msg {
            Msg::Record { line, waiter } => {
                buf.extend_from_slice(&line);
                records += 1;
                waiters.push(waiter);
            }
            Msg::Sync(waiter) => waiters.extend(waiter),
        };
        take(first);
        while let Ok(msg) = rx.try_recv() {
            take(msg);
        }
        // Every message asks for a commit: a record or a sync has a waiter,
        // a sync without one comes from a full backlog. Each append past
        // the limit sends one, so some arrive after the commit that shipped
        // the backlog: those find it below the limit again and wait.
        if waiters.is_empty() && records == 0 && !shared.pending().backlog_full() {
            continue;
        }
        let result = shared
            .append(&buf, records)
            .and_then(|_backlog_full| commit(shared, ship.as_mut()));
        for waiter in waiters.drain(..) {
            // A waiter whose future was dropped no longer cares.
            let _ = waiter.send(result.clone());
        }
    }
    if shared.failure.get().is_none() {
        let _ = commit(shared, ship.as_mut());
    }
}

/// Bytes waiting for their copy to the remote backend are committed once
/// they reach this size even when nobody waits, so a long apply of built-in
/// types keeps at most this much of its journal in memory.
const SHIP_AT: usize = 1 << 20;

/// What is written to the file but not yet durable, nor shipped.
#[derive(Debug, Default)]
struct Pending {
    records: u64,
    /// The bytes to ship, kept only when there is a shipper.
    unshipped: Vec<u8>,
}

impl Pending {
    fn backlog_full(&self) -> bool {
        self.unshipped.len() >= SHIP_AT
    }
}

struct Shipper {
    ship: Ship,
    /// Batches shipped so far; the header was batch 0.
    shipped: u64,
}

/// Fsyncs the file, which covers every record appended so far, then ships
/// what was pending when it started as one batch.
fn commit(shared: &Shared, ship: Option<&mut Shipper>) -> Result<(), Failure> {
    let Pending { records, unshipped } = {
        let mut pending = shared.pending();
        if let Some(failure) = shared.failure.get() {
            return Err(failure.clone());
        }
        mem::take(&mut *pending)
    };
    // Nothing written since the last commit, which covered everything.
    if records == 0 {
        return Ok(());
    }
    shared.fsyncs.fetch_add(1, Ordering::Relaxed);
    shared
        .file
        .sync_data()
        .and_then(|()| match ship {
            Some(shipper) => {
                shipper.shipped += 1;
                (shipper.ship)(shipper.shipped, &unshipped)
            }
            None => Ok(()),
        })
        .map_err(|e| poison(shared, &e))?;
    shared.records.fetch_add(records, Ordering::Relaxed);
    Ok(())
}

/// Remembers the first failure: every later call fails with it.
fn poison(shared: &Shared, e: &io::Error) -> Failure {
    tracing::error!(error = %e, "state journal write failed; the journal is now unusable");
    shared
        .failure
        .get_or_init(|| Failure {
            kind: e.kind(),
            message: format!("writing the state journal failed: {e}"),
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's batches as the shipper saw them: (number, length).
    type Shipped = Arc<Mutex<Vec<(u64, usize)>>>;

    fn writer() -> (Arc<Shared>, Sender<Msg>, JoinHandle<()>, Shipped) {
        let file = tempfile::tempfile().expect("temporary file");
        let shipped = Shipped::default();
        let ship: Ship = {
            let shipped = Arc::clone(&shipped);
            Box::new(move |n, bytes| {
                shipped.lock().expect("lock").push((n, bytes.len()));
                Ok(())
            })
        };
        let (shared, tx, handle) = spawn(file, Some((b"header\n".to_vec(), ship))).expect("spawn");
        (shared, tx, handle, shipped)
    }

    fn batches(shipped: &Shipped) -> Vec<(u64, usize)> {
        shipped.lock().expect("lock").clone()
    }

    /// A caller sends a sync for every record it appends past the limit, so
    /// one can arrive after the commit that shipped the backlog (CI saw a
    /// 40 KB batch shipped that way). It must not ship what came since.
    #[test]
    fn a_sync_for_a_backlog_already_shipped_ships_nothing() {
        let (shared, tx, handle, shipped) = writer();
        let full = shared.append(&vec![b'x'; SHIP_AT], 1).expect("append");
        assert!(full, "a megabyte fills the backlog");
        tx.send(Msg::Sync(None)).expect("send");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while batches(&shipped).len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the backlog was never shipped"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // A record appended after that commit, then a late sync of its own.
        assert!(!shared.append(b"late\n", 1).expect("append"));
        tx.send(Msg::Sync(None)).expect("send");
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(batches(&shipped), [(0, 7), (1, SHIP_AT)]);
        // A waiter's sync still ships it.
        let (waiter, told) = oneshot::channel();
        tx.send(Msg::Sync(Some(waiter))).expect("send");
        assert!(told.blocking_recv().expect("told").is_ok());
        assert_eq!(batches(&shipped), [(0, 7), (1, SHIP_AT), (2, 5)]);
        drop(tx);
        handle.join().expect("writer");
    }
}
