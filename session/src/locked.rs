//! The lock and the recorded state of one workspace, from whichever backend
//! holds it, with the journal of an interrupted apply replayed.

use std::path::Path;
use std::time::Duration;

use dumcel_engine::config::Module;
use dumcel_engine::recover::{Reconciled, reconcile};
use dumcel_engine::stack::Stack;
use dumcel_state::{InFlight, LocalBackend, LocalLock, State};
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
    /// Writes the state: the local snapshot (removing the journal), then the
    /// S3 object when that backend is configured.
    pub async fn persist(&self, state: &State) -> Result<(), SessionError> {
        let lock = self.lock.as_ref().ok_or(SessionError::NotLocked)?;
        self.backend.persist(lock, state)?;
        if let Some(remote) = &self.remote {
            remote.upload(state).await?;
        }
        Ok(())
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

    /// Reconciles what an interrupted apply left in flight (reading each
    /// object back through the stack's providers, configured first) and
    /// records the recovery. `None` when there was nothing to recover.
    pub async fn recover(&mut self, stack: &Stack) -> Result<Option<Recovery>, SessionError> {
        if self.in_flight.is_empty() && self.replayed == 0 {
            return Ok(None);
        }
        let reconciled = reconcile(&stack.registry, &mut self.state, &self.in_flight).await;
        self.state.serial += 1;
        self.persist(&self.state).await?;
        self.in_flight.clear();
        Ok(Some(Recovery {
            replayed: std::mem::take(&mut self.replayed),
            reconciled,
        }))
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
    let lock = {
        let b = backend.clone();
        let op = operation.to_owned();
        let timeout = opts.timeout;
        tokio::task::spawn_blocking(move || b.lock(&op, timeout))
            .await
            .map_err(|e| SessionError::Io(format!("waiting for the state lock: {e}")))??
    };
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
    let mut locked = lock_and_load(local, operation, opts).await?;
    // A local journal means this machine's last apply was cut off: its replayed
    // mirror is newer than the object. Otherwise the object is the truth.
    if locked.replayed == 0 && locked.in_flight.is_empty() {
        locked.state = remote.download().await?.unwrap_or_else(State::new);
    }
    locked.remote = Some(remote);
    locked.remote_lock = remote_lock;
    Ok(locked)
}
