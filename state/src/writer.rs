//! The journal's group-commit thread.
//!
//! One thread owns the file. It blocks for a message, then drains whatever
//! else is already queued and writes the whole batch with one `write`. A
//! batch somebody waits on (an intent, a `sync`) is then made durable with
//! one `sync_data`, which also covers every batch written before it. Under
//! load, N concurrent intents therefore cost far fewer than N fsyncs, while a
//! lone intent still pays only one fsync and no added latency (there is no
//! batching timer).
//!
//! Batches nobody waits on (outcomes, queued intents) are written at once,
//! so a killed process leaves them in the file, but their fsync (and their
//! copy to the remote backend) waits for the next batch that needs one, or
//! for the last handle's drop (or, when a remote copy is kept, for a
//! megabyte of them). The protocol never needs them durable sooner:
//! an outcome lost to a power cut leaves its intent in flight, to be read
//! back. An apply of 1,000 `null_resource`s thus pays one fsync, not one per
//! batch.
//!
//! A write or fsync failure poisons the journal: after a failed fsync the
//! kernel may have dropped the dirty pages, so nothing written before can be
//! trusted to be on disk either, and every later call must fail.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, OnceLock};
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
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub failure: OnceLock<Failure>,
    /// Records (not counting the header) written and fsynced.
    pub records: AtomicU64,
    /// `sync_data` calls made by the writer thread.
    pub fsyncs: AtomicU64,
}

pub(crate) type Waiter = oneshot::Sender<Result<(), Failure>>;

pub(crate) enum Msg {
    /// An encoded line; `waiter` is told once it is durable.
    Record {
        line: Vec<u8>,
        waiter: Option<Waiter>,
    },
    /// Told once everything queued before it is durable.
    Sync(Waiter),
}

/// Copies each group commit somewhere a second machine can read it (the
/// remote backend), numbered from 1 in order, after it is durable locally
/// and before its waiters are told: an intent is acknowledged only once both
/// copies hold it. An error poisons the journal like a failed fsync.
pub type Ship = Box<dyn FnMut(u64, &[u8]) -> io::Result<()> + Send>;

/// `ship`: the shipper, with the journal's header, which it ships first (as
/// batch 0) from the writer thread: a shipper may block on async I/O, which
/// the caller's (async) thread must not.
pub(crate) fn spawn(
    file: File,
    shared: Arc<Shared>,
    ship: Option<(Vec<u8>, Ship)>,
) -> io::Result<(Sender<Msg>, JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("dumcel-journal".into())
        .spawn(move || run(file, rx, &shared, ship))?;
    Ok((tx, handle))
}

/// Runs until every sender is dropped, then makes what is still written but
/// not durable durable.
fn run(mut file: File, rx: Receiver<Msg>, shared: &Shared, ship: Option<(Vec<u8>, Ship)>) {
    let mut ship = ship.and_then(|(header, mut ship)| match ship(0, &header) {
        Ok(()) => Some(ship),
        Err(e) => {
            poison(shared, &e);
            None
        }
    });
    let mut pending = Pending::default();
    let mut buf = Vec::new();
    let mut waiters = Vec::new();
    while let Ok(first) = rx.recv() {
        buf.clear();
        let mut records = 0u64;
        let mut take = |msg: Msg| match msg {
            Msg::Record { line, waiter } => {
                buf.extend_from_slice(&line);
                records += 1;
                waiters.extend(waiter);
            }
            Msg::Sync(waiter) => waiters.push(waiter),
        };
        take(first);
        while let Ok(msg) = rx.try_recv() {
            take(msg);
        }

        let written = match shared.failure.get() {
            Some(failure) => Err(failure.clone()),
            None if buf.is_empty() => Ok(()),
            None => file.write_all(&buf).map_err(|e| poison(shared, &e)),
        };
        if written.is_ok() && !buf.is_empty() {
            pending.add(&buf, records, ship.is_some());
        }
        if waiters.is_empty() && pending.unshipped.len() < SHIP_AT {
            continue;
        }
        let result = written.and_then(|()| pending.commit(&mut file, ship.as_mut(), shared));
        for waiter in waiters.drain(..) {
            // A waiter whose future was dropped no longer cares.
            let _ = waiter.send(result.clone());
        }
    }
    if shared.failure.get().is_none() {
        let _ = pending.commit(&mut file, ship.as_mut(), shared);
    }
}

/// Bytes waiting for their copy to the remote backend are committed once
/// they reach this size even when nobody waits, so a long apply of built-in
/// types keeps at most this much of its journal in memory.
const SHIP_AT: usize = 1 << 20;

/// What is written to the file but not yet durable, nor shipped.
#[derive(Default)]
struct Pending {
    records: u64,
    /// The bytes to ship, kept only when there is a shipper.
    unshipped: Vec<u8>,
    /// Batches shipped so far; the header was batch 0.
    shipped: u64,
}

impl Pending {
    fn add(&mut self, batch: &[u8], records: u64, shipping: bool) {
        self.records += records;
        if shipping {
            self.unshipped.extend_from_slice(batch);
        }
    }

    /// Fsyncs the file, then ships what was pending as one batch.
    fn commit(
        &mut self,
        file: &mut File,
        ship: Option<&mut Ship>,
        shared: &Shared,
    ) -> Result<(), Failure> {
        if let Some(failure) = shared.failure.get() {
            return Err(failure.clone());
        }
        // Nothing written since the last commit, which covered everything.
        if self.records == 0 {
            return Ok(());
        }
        shared.fsyncs.fetch_add(1, Ordering::Relaxed);
        file.sync_data()
            .and_then(|()| match ship {
                Some(ship) => {
                    self.shipped += 1;
                    ship(self.shipped, &self.unshipped)
                }
                None => Ok(()),
            })
            .map_err(|e| poison(shared, &e))?;
        shared.records.fetch_add(self.records, Ordering::Relaxed);
        self.records = 0;
        self.unshipped.clear();
        Ok(())
    }
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
