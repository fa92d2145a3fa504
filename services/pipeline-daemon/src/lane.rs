//! A lane's task: takes the environment's lease, then runs the lane's pushes
//! one at a time, newest first (older waiting pushes are recorded as
//! superseded), and lets the lease go when the lane is empty. Every push it
//! is done with is reported to the worker's loop, which commits its offset
//! (or, for one that gave up, sends it to the dead-letter topic first).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::events::EventKind;
use crate::lanes::{At, LaneKey, Next, SharedLane, lock};
use crate::lease::{self, Held};
use crate::pipeline::{self, Emitter, Ended, Job, Run, Services, Stop, wait_for_stop};
use crate::records::{Outcome, Record, ServingChange};

/// What a lane tells the worker's loop.
pub enum Report {
    /// A push is done with (when `ended.is_final()`), or left for later.
    Ended { job: Box<Job>, at: At, ended: Ended },
    /// The lane's task ended.
    Closed,
}

/// How long a lane waits before trying a push again.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

pub async fn run(
    services: Arc<Services>,
    key: LaneKey,
    lane: SharedLane,
    reports: mpsc::UnboundedSender<Report>,
) {
    let report = |job: Job, at: At, ended: Ended| {
        let _ = reports.send(Report::Ended {
            job: Box::new(job),
            at,
            ended,
        });
    };
    let mut held: Option<Held> = None;
    loop {
        let next = lock(&lane).take_next();
        let Some(Next {
            job,
            at,
            mut stop,
            superseded,
        }) = next
        else {
            break;
        };
        if held.is_none() {
            let give_up = {
                let mut stop = stop.clone();
                async move {
                    wait_for_stop(&mut stop).await;
                }
            };
            let acquired = lease::acquire(
                services.deployments.clone(),
                &key.project,
                &key.environment,
                &services.owner,
                services.config.lease_ttl,
                give_up,
            )
            .await;
            match acquired {
                Ok(Some(h)) => held = Some(h),
                Ok(None) if *stop.borrow() == Stop::Shutdown => {
                    for (j, a) in superseded.into_iter().chain([(job, at)]) {
                        report(j, a, Ended::Abandoned);
                    }
                    continue;
                }
                // A newer push arrived while waiting: it goes first, and
                // these are superseded once the lease is held.
                Ok(None) => {
                    requeue(&lane, superseded, job, at, &report);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(project = %key.project, environment = %key.environment, error = %e, "taking the lease");
                    requeue(&lane, superseded, job, at, &report);
                    pause(&mut stop).await;
                    continue;
                }
            }
        }
        let Some(h) = held.as_ref() else { continue };
        for (old, old_at) in superseded {
            let ended = supersede(&services, &old, &job.push.sha, h).await;
            report(old, old_at, ended);
        }
        let ended = pipeline::run(&services, &job, stop.clone(), h).await;
        match ended {
            Ended::Retry(reason) => {
                tracing::warn!(project = %key.project, environment = %key.environment, sha = %job.push.sha, %reason, "the attempt failed; the push will be tried again");
                if !lock(&lane).retry(job.clone(), at) {
                    report(job, at, Ended::Abandoned);
                }
                pause(&mut stop).await;
            }
            Ended::LeaseLost => {
                tracing::warn!(project = %key.project, environment = %key.environment, "lease lost: the push waits for the environment again");
                held = None;
                if !lock(&lane).retry(job.clone(), at) {
                    report(job, at, Ended::Abandoned);
                }
                pause(&mut stop).await;
            }
            ended => report(job, at, ended),
        }
    }
    if let Some(h) = held {
        h.release().await;
    }
    let _ = reports.send(Report::Closed);
}

/// Puts pushes back in their order; those whose partition is gone are
/// reported abandoned.
fn requeue(
    lane: &SharedLane,
    superseded: Vec<(Job, At)>,
    job: Job,
    at: At,
    report: &impl Fn(Job, At, Ended),
) {
    let mut refused = Vec::new();
    {
        let mut lane = lock(lane);
        for (j, a) in std::iter::once((job, at)).chain(superseded.into_iter().rev()) {
            if !lane.retry(j.clone(), a) {
                refused.push((j, a));
            }
        }
    }
    for (j, a) in refused {
        report(j, a, Ended::Abandoned);
    }
}

/// Waits a little before the next try, unless the lane is stopped.
async fn pause(stop: &mut tokio::sync::watch::Receiver<Stop>) {
    tokio::select! {
        () = tokio::time::sleep(RETRY_PAUSE) => {}
        _ = wait_for_stop(stop) => {}
    }
}

/// Records that `job` was replaced by `by_sha` before it started.
async fn supersede(services: &Services, job: &Job, by_sha: &str, held: &Held) -> Ended {
    let emitter = Emitter { services, job };
    let existing = services
        .deployments
        .get(&job.repo.project, &job.env.name, &job.push.delivery)
        .await;
    if let Ok(Some(r)) = &existing
        && r.outcome.is_final()
    {
        emitter.ended(r).await;
        return Ended::Skipped;
    }
    emitter
        .emit(EventKind::Superseded {
            by_sha: by_sha.to_owned(),
        })
        .await;
    let attempts = existing.ok().flatten().map_or(0, |r| r.attempts);
    let mut run = Run {
        emitter,
        held,
        record: Record {
            attempts,
            ..Record::for_push(&job.repo.project, &job.env.name, &job.push)
        },
    };
    run.finish(
        Outcome::Superseded,
        format!("superseded by {by_sha}"),
        ServingChange::Unchanged,
        Ended::Superseded,
    )
    .await
}
