//! The lock and the recorded state of one workspace, from whichever backend
//! holds it, with the journal of an interrupted apply replayed.

use std::path::Path;
use std::time::Duration;

use dumcel_engine::config::Module;
use dumcel_engine::recover::{Reconciled, reconcile};
use dumcel_engine::stack::Stack;
use dumcel_state::{InFlight, Journal, LocalBackend, LocalLock, State};
use dumcel_state_s3::{RemoteLock, S3Remote};

use crate::backend::{BackendConfig, backend_config, base_state_path};
use crate::{SessionError, workspace};

#[derive(Debug, Clone)]
pub struct LockOptions {
    /// Take the lock; without it the snapshot is only read.
    pub lock: bool,
    /// How long to wait for a lock someone else holds.
    pub timeout: Duration,
}

impl LockOptions {
    /// For read-only commands: read the snapshot without taking the lock.
    pub fn none() -> LockOptions {
        LockOptions {
            lock: false,
            timeout: Duration::ZERO,
        }
    }
}

/// The lock and the recorded state, with the journal of an interrupted apply
/// replayed. Operations that were in flight are reconciled by [`Locked::recover`].
pub struct Locked {
    /// The local snapshot (for the S3 backend, its local mirror) with the journal beside it.
    pub backend: LocalBackend,
    pub lock: Option<LocalLock>,
    pub state: State,
    in_flight: Vec<InFlight>,
    replayed: usize,
    /// The S3 backend's object and lock, when it is configured.
    pub remote: Option<S3Remote>,
    pub remote_lock: Option<RemoteLock>,
}

/// What [`Locked::recover`] found of an apply that was cut off.
pub struct Recovery {
    /// Completed changes replayed from the journal.
    pub replayed: usize,
    /// Operations that were in flight, read back and recorded.
    pub reconciled: Vec<Reconciled>,
}

impl Locked {
    /// Writes the state: the local snapshot, then the S3 object when that
    /// backend is configured, and only then drops the journal, so a failed
    /// upload loses nothing (the next command replays the journal onto the
    /// S3 object and uploads again).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn persist(&self, state: &State) -> Result<(), SessionError> {
        let lock = self.lock.as_ref().ok_or(SessionError::NotLocked)?;
        self.backend.write_snapshot(lock, state)?;
        if let Some(remote) = &self.remote {
            remote.upload(state, self.remote_lock.as_ref()).await?;
            // A copy left behind is recognised as folded next time.
            if let Err(e) = remote.delete_journals().await {
                tracing::warn!(error = %e, "could not delete the journal's copy in S3; the next command drops it");
            }
        }
        self.backend.remove_journal()?;
        Ok(())
    }

    /// Starts the journal of a command that changes resources, based on the
    /// state as loaded. With the S3 backend, every group commit is also
    /// copied to S3 before its intents are acknowledged.
    pub fn open_journal(&self, operation: &str) -> Result<Journal, SessionError> {
        let lock = self.lock.as_ref().ok_or(SessionError::NotLocked)?;
        let id = uuid::Uuid::new_v4().to_string();
        let ship = self.remote.as_ref().map(|r| r.journal_shipper(&id));
        Ok(self
            .backend
            .open_journal_shipping(lock, &self.state, operation, id, ship)?)
    }

    /// After an apply walk was dropped with operations in flight (a second
    /// interrupt): folds the journal into the state, the operations still in
    /// flight recorded as pending for the next command to read back, writes
    /// it and lets go of the locks. Returns how many were pending.
    pub async fn abandon(mut self) -> Result<usize, SessionError> {
        let lock = self.lock.as_ref().ok_or(SessionError::NotLocked)?;
        // The journal's base is the state this command loaded (the local
        // snapshot mirrors it), so replaying onto it is exact.
        let loaded = self
            .backend
            .load_onto(lock, Some(self.state.clone()), "the state")?;
        let mut state = loaded.state.unwrap_or_else(|| self.state.clone());
        let pending = loaded.in_flight.len();
        state.pending.extend(loaded.in_flight);
        state.serial = self.state.serial + 1;
        self.persist(&state).await?;
        if let Some(remote_lock) = self.remote_lock.take() {
            remote_lock.release().await;
        }
        Ok(pending)
    }

    /// For commands without a configuration to reconcile with.
    pub fn refuse_in_flight(&self) -> Result<(), SessionError> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        Err(SessionError::InFlight {
            count: self.in_flight.len(),
            addresses: self
                .in_flight
                .iter()
                .map(|i| i.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Reconciles what an interrupted apply left in flight, and what an
    /// earlier recovery could not settle (reading each object back through
    /// the stack's providers, configured first), and records the result.
    /// `None` when there was nothing to recover.
    pub async fn recover(&mut self, stack: &Stack) -> Result<Option<Recovery>, SessionError> {
        if self.in_flight.is_empty() && self.replayed == 0 && self.state.pending.is_empty() {
            return Ok(None);
        }
        let before = self.state.clone();
        let reconciled = reconcile(&stack.registry, &mut self.state, &self.in_flight).await;
        if self.state != before || self.replayed > 0 || !self.in_flight.is_empty() {
            self.state.serial += 1;
            self.persist(&self.state).await?;
        }
        self.in_flight.clear();
        Ok(Some(Recovery {
            replayed: std::mem::take(&mut self.replayed),
            reconciled,
        }))
    }

    /// Refuses to change anything while an operation's outcome is unknown:
    /// making the object again could leave one that nothing records.
    pub fn refuse_pending(&self) -> Result<(), SessionError> {
        if self.state.pending.is_empty() {
            return Ok(());
        }
        Err(SessionError::Pending(
            self.state
                .pending
                .iter()
                .map(|p| p.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ))
    }
}

pub async fn lock_and_load(
    backend: LocalBackend,
    operation: &str,
    opts: &LockOptions,
) -> Result<Locked, SessionError> {
    if !opts.lock {
        // Without the lock nothing may be written; read the snapshot only.
        let state = match std::fs::read(backend.path()) {
            Ok(bytes) => State::from_json(&bytes)
                .map_err(|e| SessionError::Io(format!("{}: {e}", backend.path().display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::new(),
            Err(e) => {
                return Err(SessionError::Io(format!(
                    "reading {}: {e}",
                    backend.path().display()
                )));
            }
        };
        return Ok(Locked {
            backend,
            lock: None,
            state,
            in_flight: Vec::new(),
            replayed: 0,
            remote: None,
            remote_lock: None,
        });
    }
    let lock = take_local_lock(&backend, operation, opts).await?;
    let loaded = backend.load(&lock)?;
    Ok(Locked {
        backend,
        lock: Some(lock),
        state: loaded.state.unwrap_or_else(State::new),
        in_flight: loaded.in_flight,
        replayed: loaded.replayed,
        remote: None,
        remote_lock: None,
    })
}

/// Workspace `workspace`'s local snapshot (for S3, its mirror) of the stack in `root`.
pub fn local_backend(
    root: &Path,
    module: Option<&Module>,
    workspace: &str,
) -> Result<LocalBackend, SessionError> {
    let base = base_state_path(root, module)?;
    if !workspace::exists(&base, workspace) {
        return Err(SessionError::NoWorkspace(workspace.to_owned()));
    }
    Ok(LocalBackend::new(workspace::state_path(&base, workspace)))
}

/// Locks and loads workspace `workspace`'s state of the stack in `root` from
/// whichever backend holds it.
pub async fn open_state(
    root: &Path,
    module: Option<&Module>,
    workspace: &str,
    operation: &str,
    opts: &LockOptions,
) -> Result<Locked, SessionError> {
    let local = local_backend(root, module, workspace)?;
    let BackendConfig::S3(settings) = backend_config(module)? else {
        return lock_and_load(local, operation, opts).await;
    };
    let remote = S3Remote::connect(settings, workspace).await;
    // The remote lock first: it is what keeps other machines out.
    let remote_lock = if opts.lock {
        remote.lock(operation, opts.timeout).await?
    } else {
        None
    };
    if !opts.lock {
        let mut locked = lock_and_load(local, operation, opts).await?;
        locked.state = remote.download().await?.unwrap_or_else(State::new);
        locked.remote = Some(remote);
        return Ok(locked);
    }
    let lock = take_local_lock(&local, operation, opts).await?;
    // The S3 object is the base: a journal this machine's interrupted command
    // left is replayed onto it, never onto the mirror, and refused when S3
    // moved on without its changes.
    let downloaded = remote.download().await?;
    adopt_remote_journal(
        &remote,
        &local,
        &lock,
        downloaded.as_ref().map(|s| s.serial),
    )
    .await?;
    let loaded = local.load_onto(&lock, downloaded, &remote.describe())?;
    let state = loaded.state.unwrap_or_else(State::new);
    // The mirror holds the base before any journal opens, so that a replay
    // after a crash (or `abandon`) starts from what S3 holds.
    local.write_snapshot(&lock, &state)?;
    Ok(Locked {
        backend: local,
        lock: Some(lock),
        state,
        in_flight: loaded.in_flight,
        replayed: loaded.replayed,
        remote: Some(remote),
        remote_lock,
    })
}

/// The local OS lock, waited for on a blocking thread.
async fn take_local_lock(
    backend: &LocalBackend,
    operation: &str,
    opts: &LockOptions,
) -> Result<LocalLock, SessionError> {
    let b = backend.clone();
    let op = operation.to_owned();
    let timeout = opts.timeout;
    tokio::task::spawn_blocking(move || b.lock(&op, timeout))
        .await
        .map_err(|e| SessionError::Io(format!("waiting for the state lock: {e}")))?
        .map_err(SessionError::State)
}

/// Makes the local journal the one S3 keeps, when S3 keeps one: a command cut
/// off on another machine (or on this one, whose local copy may be gone) is
/// recovered here. The local copy wins only when it is the same journal and
/// longer (a batch written locally whose copy to S3 was cut off). A local
/// journal S3 keeps no copy of, when the S3 state moved past the serial it
/// began from, was recovered by whoever came next (from the copy, which is
/// then deleted) and is dropped; otherwise `load_onto` judges it.
async fn adopt_remote_journal(
    remote: &S3Remote,
    local: &LocalBackend,
    lock: &LocalLock,
    remote_serial: Option<u64>,
) -> Result<(), SessionError> {
    let here = local.journal_id(lock)?;
    let Some((id, bytes)) = remote.download_journal().await? else {
        if let (Some((_, _, base)), Some(serial)) = (&here, remote_serial)
            && serial > *base
        {
            tracing::warn!(
                journal = %local.journal_path().display(),
                "dropping a local journal that {} has since recovered",
                remote.describe()
            );
            local.remove_journal()?;
        }
        return Ok(());
    };
    let local_is_newer = matches!(
        here,
        Some((local_id, len, _)) if local_id == id && len >= bytes.len()
    );
    if !local_is_newer {
        tracing::info!(journal = %id, "recovering from the journal copy in {}", remote.describe());
        local.restore_journal(lock, &bytes)?;
    }
    Ok(())
}
