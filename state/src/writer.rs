//! The journal's group-commit thread.
//!
//! One thread owns the file. It blocks for a message, then drains whatever
//! else is already queued, writes the whole batch with one `write`, and
//! makes it durable with one `sync_data`. Under load, N concurrent intents
//! therefore cost far fewer than N fsyncs, while a lone intent still pays
//! only one fsync and no added latency (there is no batching timer).
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

/// Runs until every sender is dropped; each batch is already durable when
/// its waiters are told, so there is nothing left to flush on exit.
fn run(mut file: File, rx: Receiver<Msg>, shared: &Shared, ship: Option<(Vec<u8>, Ship)>) {
    let mut buf = Vec::new();
    let mut batches = 0u64;
    let mut ship = ship.and_then(|(header, mut ship)| match ship(0, &header) {
        Ok(()) => Some(ship),
        Err(e) => {
            tracing::error!(error = %e, "copying the state journal failed; the journal is now unusable");
            shared.failure.get_or_init(|| Failure {
                kind: e.kind(),
                message: format!("writing the state journal failed: {e}"),
            });
            None
        }
    });
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

        let result = match shared.failure.get() {
            Some(failure) => Err(failure.clone()),
            // A batch of only `Sync`s: earlier batches were each fsynced.
            None if buf.is_empty() => Ok(()),
            None => commit(&mut file, &buf, shared)
                .and_then(|()| match ship.as_mut() {
                    Some(ship) => {
                        batches += 1;
                        ship(batches, &buf)
                    }
                    None => Ok(()),
                })
                .map_err(|e| {
                tracing::error!(error = %e, "state journal write failed; the journal is now unusable");
                let failure = Failure {
                    kind: e.kind(),
                    message: format!("writing the state journal failed: {e}"),
                };
                shared.failure.get_or_init(|| failure).clone()
            }),
        };
        if result.is_ok() {
            shared.records.fetch_add(records, Ordering::Relaxed);
        }
        for waiter in waiters.drain(..) {
            // A waiter whose future was dropped no longer cares.
            let _ = waiter.send(result.clone());
        }
    }
}

fn commit(file: &mut File, buf: &[u8], shared: &Shared) -> io::Result<()> {
    file.write_all(buf)?;
    shared.fsyncs.fetch_add(1, Ordering::Relaxed);
    file.sync_data()
}
