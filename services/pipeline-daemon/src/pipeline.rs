//! One push's pipeline: check it was not deployed already, fetch the commit,
//! build the image tagged with the SHA, push it, then deploy (see
//! [`crate::deploy`]). Every step is an event; the deployment record is
//! written at the start and at the end. Until the deploy starts, a newer
//! push to the same environment (or a shutdown) stops the pipeline between
//! or during steps; once the stack is being applied it always runs to its
//! end, so nothing is left half-applied.

use std::path::Path;
use std::sync::Arc;

use dumcel_provider_docker::{DockerError, Images};
use tokio::sync::watch;

use crate::config::{Config, Repository};
use crate::deploy;
use crate::environment::Environment;
use crate::events::{EVENT_SCHEMA_VERSION, Event, EventKind, EventSink, now_rfc3339};
use crate::git;
use crate::push::Push;
use crate::records::{Outcome, Record, Records};
use crate::registry::Registry;

/// What the worker's clients and settings are, shared by every pipeline.
pub struct Services {
    pub config: Arc<Config>,
    pub events: Arc<dyn EventSink>,
    pub deployments: Arc<dyn Records>,
    pub registry: Registry,
    /// The clients a rollout is watched with.
    pub rollout: RolloutClients,
}

pub enum RolloutClients {
    /// On a Docker host the apply itself waits for the new container's
    /// health check before the route switches: nothing more to watch.
    Docker,
    Ecs {
        ecs: aws_sdk_ecs::Client,
        elbv2: aws_sdk_elasticloadbalancingv2::Client,
    },
}

/// One push, with the repository's configuration and the environment it
/// deploys.
#[derive(Debug, Clone)]
pub struct Job {
    pub push: Push,
    pub repo: Repository,
    pub env: Environment,
    /// When the message was produced (its Kafka timestamp, ms since the
    /// epoch), for the daemon's overhead measurement.
    pub queued_at_ms: Option<i64>,
}

/// Why a pipeline is asked to stop before its deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Go,
    /// A newer push to the same environment arrived.
    Superseded {
        by_sha: String,
    },
    /// The worker is shutting down: the push is left for the next run.
    Shutdown,
}

/// How a pipeline ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Deployed,
    Skipped,
    Superseded,
    BuildFailed,
    DeployFailed,
    RolledBack,
    Destroyed,
    /// Stopped for a shutdown: not finished, its offset must not be committed.
    Abandoned,
}

impl Ended {
    /// Whether the push is done with (its offset may be committed).
    pub fn is_final(&self) -> bool {
        *self != Ended::Abandoned
    }
}

/// Emits the job's events.
pub struct Emitter<'a> {
    pub services: &'a Services,
    pub job: &'a Job,
}

impl Emitter<'_> {
    pub async fn emit(&self, kind: EventKind) {
        let p = &self.job.push;
        tracing::info!(
            project = %self.job.repo.project,
            environment = %self.job.env.name,
            sha = %p.sha,
            event = kind.name(),
            "pipeline"
        );
        let event = Event {
            schema_version: EVENT_SCHEMA_VERSION,
            project: self.job.repo.project.clone(),
            environment: self.job.env.name.clone(),
            branch: p.branch.clone(),
            sha: p.sha.clone(),
            delivery: p.delivery.clone(),
            at: now_rfc3339(),
            kind,
        };
        self.services.events.emit(&event).await;
    }
}

/// Runs `job` to its end. `stop` is watched until the deploy starts.
pub async fn run(services: &Services, job: &Job, stop: watch::Receiver<Stop>) -> Ended {
    let emitter = Emitter { services, job };
    let checkout = services
        .config
        .work_dir
        .join("checkouts")
        .join(&job.repo.project)
        .join(&job.env.name)
        .join(&job.push.sha);
    let _ = tokio::fs::remove_dir_all(&checkout).await;
    let ended = if job.push.deleted {
        deploy::destroy_preview(&emitter, &checkout).await
    } else {
        build_and_deploy(&emitter, &checkout, stop).await
    };
    if let Err(e) = tokio::fs::remove_dir_all(&checkout).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %checkout.display(), error = %e, "could not remove the checkout");
    }
    ended
}

async fn build_and_deploy(
    emitter: &Emitter<'_>,
    checkout: &Path,
    mut stop: watch::Receiver<Stop>,
) -> Ended {
    let Emitter { services, job } = emitter;
    let (project, env, sha) = (&job.repo.project, &job.env.name, &job.push.sha);
    let records = &services.deployments;
    let mut clock = Stopwatch::default();

    // At-least-once delivery: a push seen before is not deployed twice, and
    // one a newer push replaced stays replaced.
    match clock.time(records.get(project, env, sha)).await {
        Ok(Some(r)) if matches!(r.outcome, Outcome::Succeeded | Outcome::Superseded) => {
            emitter
                .emit(EventKind::Skipped {
                    reason: format!(
                        "{sha} was handled here before: {} at {}",
                        r.outcome.as_str(),
                        r.finished_at
                    ),
                })
                .await;
            return Ended::Skipped;
        }
        Ok(_) => {}
        Err(e) => {
            return failed(emitter, None, format!("reading the deployment record: {e}")).await;
        }
    }
    let mut record = Record::start(project, env, sha);
    if let Err(e) = clock.time(records.put(&record)).await {
        return failed(emitter, None, format!("writing the deployment record: {e}")).await;
    }

    match clock
        .time(until_stopped(&mut stop, fetch(job, sha, checkout)))
        .await
    {
        Err(stopped) => return stopped_before_deploy(emitter, &mut record, stopped).await,
        Ok(Err(reason)) => return failed(emitter, Some(&mut record), reason).await,
        Ok(Ok(())) => emitter.emit(EventKind::Cloned).await,
    }

    // Build and push the image, tagged with the SHA.
    let login = match clock
        .time(services.registry.login(&job.repo.ecr_repository))
        .await
    {
        Ok(l) => l,
        Err(e) => return failed(emitter, Some(&mut record), e.to_string()).await,
    };
    let image = format!("{}:{sha}", login.repository);
    record.image = image.clone();
    emitter
        .emit(EventKind::BuildStarted {
            image: image.clone(),
        })
        .await;
    let images = Images::new(None, login.auth.into_iter().collect());
    let built = clock
        .time(until_stopped(
            &mut stop,
            images.build(&image, checkout, &job.repo.dockerfile),
        ))
        .await;
    match built {
        Err(stopped) => return stopped_before_deploy(emitter, &mut record, stopped).await,
        Ok(Err(e)) => {
            let (step, reason) = match e {
                DockerError::Build { step, message, .. } => (step, message),
                other => (None, other.to_string()),
            };
            emitter
                .emit(EventKind::BuildFailed {
                    step,
                    reason: reason.clone(),
                })
                .await;
            finish(emitter, &mut record, Outcome::BuildFailed, reason).await;
            return Ended::BuildFailed;
        }
        Ok(Ok(_id)) => {
            emitter
                .emit(EventKind::BuildSucceeded {
                    image: image.clone(),
                })
                .await
        }
    }
    let pushed = clock
        .time(until_stopped(&mut stop, images.push(&image)))
        .await;
    match pushed {
        Err(stopped) => return stopped_before_deploy(emitter, &mut record, stopped).await,
        Ok(Err(e)) => {
            return failed(emitter, Some(&mut record), format!("pushing {image}: {e}")).await;
        }
        Ok(Ok(digest)) => {
            record.digest = digest.clone();
            emitter
                .emit(EventKind::ImagePushed {
                    image: image.clone(),
                    digest,
                })
                .await;
        }
    }

    // From here on the push is not given up for a newer one.
    if let Some(stopped) = stopped(&stop) {
        return stopped_before_deploy(emitter, &mut record, stopped).await;
    }
    clock.report(job);
    let deployed = deploy::deploy(emitter, &record, checkout).await;
    let (outcome, reason, ended) = match deployed {
        deploy::Deployed::Succeeded => (Outcome::Succeeded, String::new(), Ended::Deployed),
        deploy::Deployed::RolledBack { reason } => (Outcome::RolledBack, reason, Ended::RolledBack),
        deploy::Deployed::Failed { reason } => (Outcome::DeployFailed, reason, Ended::DeployFailed),
    };
    finish(emitter, &mut record, outcome, reason).await;
    ended
}

/// Fetches `rev` (a SHA, or `refs/heads/<branch>`) of the job's repository
/// into `checkout` and checks that the stack directory is there.
pub async fn fetch(job: &Job, rev: &str, checkout: &Path) -> Result<(), String> {
    let token = job
        .repo
        .token_env
        .as_ref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|t| !t.is_empty());
    let url = &job.repo.clone_url;
    git::checkout(url, rev, token.as_deref(), checkout)
        .await
        .map_err(|e| format!("fetching {rev}: {e}"))?;
    if !checkout.join(&job.repo.stack).is_dir() {
        return Err(format!(
            "the repository has no stack directory {:?} at {rev}: check the repository's `stack` in the daemon configuration",
            job.repo.stack.display()
        ));
    }
    Ok(())
}

/// The time a pipeline spends waiting on others (DynamoDB, git, ECR, the
/// build, the push), so that the daemon's own share of the time from
/// message to deploy start can be told apart: `bench/pipeline.sh` reads it.
#[derive(Default)]
struct Stopwatch {
    external: std::time::Duration,
}

impl Stopwatch {
    async fn time<F: std::future::Future>(&mut self, work: F) -> F::Output {
        let start = std::time::Instant::now();
        let out = work.await;
        self.external += start.elapsed();
        out
    }

    fn report(&self, job: &Job) {
        let Some(queued) = job.queued_at_ms else {
            return;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let total = now.saturating_sub(queued).max(0);
        let external = self.external.as_millis() as i64;
        tracing::info!(
            target: "dumcel_pipeline::timings",
            sha = %job.push.sha,
            message_to_deploy_ms = total,
            external_ms = external,
            overhead_ms = total.saturating_sub(external).max(0),
            "deploy starts"
        );
    }
}

/// The pipeline could not go on before its deploy: says so and records it.
async fn failed(emitter: &Emitter<'_>, record: Option<&mut Record>, reason: String) -> Ended {
    emitter
        .emit(EventKind::DeployFailed {
            reason: reason.clone(),
        })
        .await;
    if let Some(record) = record {
        finish(emitter, record, Outcome::DeployFailed, reason).await;
    }
    Ended::DeployFailed
}

/// Writes the record's end. A record that cannot be written is logged: the
/// deployment itself happened (or did not) whatever the table says.
pub async fn finish(emitter: &Emitter<'_>, record: &mut Record, outcome: Outcome, reason: String) {
    record.outcome = outcome;
    record.reason = reason;
    record.finished_at = now_rfc3339();
    if let Err(e) = emitter.services.deployments.put(record).await {
        tracing::error!(sha = %record.sha, error = %e, "could not record the deployment's end");
    }
}

async fn stopped_before_deploy(emitter: &Emitter<'_>, record: &mut Record, stop: Stop) -> Ended {
    match stop {
        Stop::Superseded { by_sha } => {
            let reason = format!("superseded by {by_sha}");
            emitter.emit(EventKind::Superseded { by_sha }).await;
            finish(emitter, record, Outcome::Superseded, reason).await;
            Ended::Superseded
        }
        // The record stays in progress: the push comes back after a restart.
        Stop::Go | Stop::Shutdown => Ended::Abandoned,
    }
}

fn stopped(stop: &watch::Receiver<Stop>) -> Option<Stop> {
    let now = stop.borrow().clone();
    (now != Stop::Go).then_some(now)
}

/// Runs `work` unless `stop` says to stop first; dropping `work` cancels it
/// (a git child process is killed, a build stream is closed).
async fn until_stopped<F: std::future::Future>(
    stop: &mut watch::Receiver<Stop>,
    work: F,
) -> Result<F::Output, Stop> {
    if let Some(s) = stopped(stop) {
        return Err(s);
    }
    tokio::select! {
        out = work => Ok(out),
        s = wait_for_stop(stop) => Err(s),
    }
}

async fn wait_for_stop(stop: &mut watch::Receiver<Stop>) -> Stop {
    loop {
        if let Some(s) = stopped(stop) {
            return s;
        }
        if stop.changed().await.is_err() {
            // The worker is gone; nobody can ask any more.
            return std::future::pending().await;
        }
    }
}
