//! Holding an environment's lease while a lane runs (see
//! [`crate::records`]): acquired before the first push, renewed in the
//! background every third of its time to live, checked (by a renewal that
//! must succeed) before every step that changes the world, released when the
//! lane is empty. A lease that could not be renewed in time is lost: the
//! lane stops without touching anything, and another worker takes over once
//! it expired.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::records::{Lease, RecordError, Records};

/// Why a lane could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "the lease on {project}/{environment} was lost (another worker holds it now): stopping without touching anything"
    )]
    Lost {
        project: String,
        environment: String,
    },
    #[error(transparent)]
    Store(#[from] RecordError),
}

pub struct Held {
    pub lease: Lease,
    records: Arc<dyn Records>,
    ttl: Duration,
    lost: watch::Receiver<bool>,
    renewer: tokio::task::JoinHandle<()>,
}

/// Waits until the environment's lease is this worker's, or `give_up`
/// resolves first (`None` then).
pub async fn acquire(
    records: Arc<dyn Records>,
    project: &str,
    environment: &str,
    owner: &str,
    ttl: Duration,
    give_up: impl std::future::Future<Output = ()>,
) -> Result<Option<Held>, RecordError> {
    tokio::pin!(give_up);
    let mut waited = false;
    loop {
        if let Some(lease) = records.acquire(project, environment, owner, ttl).await? {
            tracing::info!(project, environment, token = lease.token, "lease acquired");
            let (tx, lost) = watch::channel(false);
            let renewer = tokio::spawn(renew(records.clone(), lease.clone(), ttl, tx));
            return Ok(Some(Held {
                lease,
                records,
                ttl,
                lost,
                renewer,
            }));
        }
        if !waited {
            tracing::info!(
                project,
                environment,
                "another worker holds the environment: waiting for its lease"
            );
            waited = true;
        }
        tokio::select! {
            () = tokio::time::sleep(poll_interval(ttl)) => {}
            () = &mut give_up => return Ok(None),
        }
    }
}

fn poll_interval(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

async fn renew(records: Arc<dyn Records>, lease: Lease, ttl: Duration, lost: watch::Sender<bool>) {
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(ttl / 3).await;
        match records.renew(&lease, ttl).await {
            Ok(true) => last_ok = Instant::now(),
            Ok(false) => break,
            Err(e) => {
                tracing::warn!(project = %lease.project, environment = %lease.environment, error = %e, "renewing the lease");
                if last_ok.elapsed() >= ttl {
                    break;
                }
            }
        }
    }
    tracing::warn!(project = %lease.project, environment = %lease.environment, token = lease.token, "lease lost");
    let _ = lost.send(true);
}

impl Held {
    /// Renews the lease now: `Ok` only when it is still this worker's. Run
    /// before every step that changes the world.
    pub async fn check(&self) -> Result<(), LeaseError> {
        if !*self.lost.borrow() && self.records.renew(&self.lease, self.ttl).await? {
            return Ok(());
        }
        Err(LeaseError::Lost {
            project: self.lease.project.clone(),
            environment: self.lease.environment.clone(),
        })
    }

    /// Resolves when the lease is lost.
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        let _ = lost.wait_for(|l| *l).await;
    }

    pub async fn release(self) {
        self.renewer.abort();
        if let Err(e) = self.records.release(&self.lease).await {
            // It expires on its own.
            tracing::warn!(project = %self.lease.project, environment = %self.lease.environment, error = %e, "releasing the lease");
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}
