//! One push's pipeline, run by its lane under the environment's lease (see
//! [`crate::lane`]): check the push has not ended already and that its
//! branch still points at it, count the attempt, fetch the commit, build the
//! image tagged with the SHA, push it, then deploy (see [`crate::deploy`]).
//! Every step is an event; every record write is fenced by the lease. Until
//! the deploy starts, a newer push to the same environment (or a shutdown)
//! stops the pipeline between or during steps; once the stack is being
//! applied it always runs to its end, so nothing is left half-applied.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dumcel_provider_docker::{DockerError, Images};
use tokio::sync::watch;

use crate::config::{Config, Repository};
use crate::deploy::{self, Deployed};
use crate::environment::Environment;
use crate::events::{EVENT_SCHEMA_VERSION, Event, EventKind, EventSink, now_rfc3339};
use crate::git;
use crate::lease::Held;
use crate::push::{Action, Push};
use crate::records::{Outcome, Record, Records, Serving, ServingChange, Written};
use crate::registry::Registry;
use crate::retry::transient;
use crate::stack_source::{Choice, StackSource};

/// What the worker's clients and settings are, shared by every pipeline.
pub struct Services {
    pub config: Arc<Config>,
    pub events: Arc<dyn EventSink>,
    pub deployments: Arc<dyn Records>,
    pub registry: Registry,
    /// This worker's name in leases: `host:pid:random`.
    pub owner: String,
    /// Where build logs are also kept (`build_logs_bucket`).
    pub build_logs: Option<crate::build_log::Bucket>,
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
    /// The worker is shutting down, or its partition moved to another
    /// worker: the push is left for whoever reads it next.
    Shutdown,
}

/// How a pipeline ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Deployed,
    /// A duplicate of a push that had ended.
    Skipped,
    Superseded,
    BuildFailed,
    DeployFailed,
    RolledBack,
    Destroyed,
    /// The branch changes the stack: planned, waiting for a person.
    AwaitingApproval,
    /// Stopped for a shutdown or a revoked partition: not finished, its
    /// offset must not be committed.
    Abandoned,
    /// This attempt failed on something that may pass (the record store,
    /// git, the registry): the lane tries the push again.
    Retry(String),
    /// The lease was lost: another worker has the environment now.
    LeaseLost,
    /// Started `max_attempts` times without ending: recorded as failed and
    /// sent to the dead-letter topic with the reason.
    GaveUp(String),
}

impl Ended {
    /// Whether the push is done with (its offset may be committed).
    pub fn is_final(&self) -> bool {
        !matches!(self, Ended::Abandoned | Ended::Retry(_) | Ended::LeaseLost)
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
        let id = Event::id(&p.delivery, &kind, None);
        self.services.events.emit(&self.event(id, kind)).await;
    }

    /// Says how the push ended, as its record has it.
    pub async fn ended(&self, record: &Record) {
        self.emit(EventKind::Ended {
            outcome: record.outcome.as_str().to_owned(),
            reason: record.reason.clone(),
            image: record.image.clone(),
        })
        .await;
    }

    /// Line `n` of attempt `attempt`'s build output, queued without
    /// waiting (see [`EventSink::publish`]); it goes to the build log, not
    /// the worker's.
    pub fn build_log(&self, line: String, attempt: u32, n: u64) {
        let kind = EventKind::BuildLog { line };
        let id = Event::id(&self.job.push.delivery, &kind, Some((attempt, n)));
        self.services.events.publish(&self.event(id, kind));
    }

    fn event(&self, id: String, kind: EventKind) -> Event {
        let p = &self.job.push;
        Event {
            schema_version: EVENT_SCHEMA_VERSION,
            id,
            project: self.job.repo.project.clone(),
            environment: self.job.env.name.clone(),
            branch: p.branch.clone(),
            sha: p.sha.clone(),
            delivery: p.delivery.clone(),
            at: now_rfc3339(),
            kind,
        }
    }
}

/// A pipeline in progress: its job, its lease and its record.
pub struct Run<'a> {
    pub emitter: Emitter<'a>,
    pub held: &'a Held,
    pub record: Record,
}

impl Run<'_> {
    /// Writes the record (and what the environment serves) under the lease,
    /// retrying a store that fails for a while. `Err` is how the pipeline
    /// must end when the write could not be made.
    pub async fn write(&mut self, serving: ServingChange) -> Result<(), Ended> {
        let records = &self.emitter.services.deployments;
        let (record, lease) = (&self.record, &self.held.lease);
        match transient("writing the push's record", || {
            records.write(record, &serving, lease)
        })
        .await
        {
            Ok(Written::Written) => Ok(()),
            Ok(Written::Fenced) => Err(Ended::LeaseLost),
            Ok(Written::AlreadyFinal(outcome)) => {
                tracing::warn!(delivery = %record.delivery, outcome = outcome.as_str(), "the push had already ended elsewhere");
                Err(Ended::Skipped)
            }
            Err(e) => Err(Ended::Retry(e.to_string())),
        }
    }

    /// Ends the push with `outcome`: the record's last write.
    pub async fn finish(
        &mut self,
        outcome: Outcome,
        reason: String,
        serving: ServingChange,
        ended: Ended,
    ) -> Ended {
        self.record.outcome = outcome;
        self.record.reason = reason;
        self.record.finished_at = now_rfc3339();
        match self.write(serving).await {
            Ok(()) => {
                self.emitter.ended(&self.record).await;
                ended
            }
            Err(other) => other,
        }
    }

    /// The pipeline could not go on: says so and records it.
    async fn failed(&mut self, reason: String) -> Ended {
        self.emitter
            .emit(EventKind::DeployFailed {
                reason: reason.clone(),
            })
            .await;
        self.finish(
            Outcome::DeployFailed,
            reason,
            ServingChange::Unchanged,
            Ended::DeployFailed,
        )
        .await
    }
}

/// Runs `job` to its end under `held`. `stop` is watched until the deploy
/// starts.
pub async fn run(
    services: &Services,
    job: &Job,
    stop: watch::Receiver<Stop>,
    held: &Held,
) -> Ended {
    let emitter = Emitter { services, job };
    let records = &services.deployments;
    let (project, env) = (&job.repo.project, &job.env.name);
    let existing = match transient("reading the push's record", || {
        records.get(project, env, &job.push.delivery)
    })
    .await
    {
        Ok(r) => r,
        Err(e) => return Ended::Retry(e.to_string()),
    };
    let attempts = match &existing {
        Some(r) if r.outcome.is_final() => {
            emitter
                .emit(EventKind::Skipped {
                    reason: format!(
                        "push {} was handled before: {} at {}",
                        job.push.delivery,
                        r.outcome.as_str(),
                        r.finished_at
                    ),
                })
                .await;
            emitter.ended(r).await;
            return Ended::Skipped;
        }
        Some(r) => r.attempts,
        None => 0,
    };
    let mut run = Run {
        emitter,
        held,
        record: Record {
            attempts: attempts + 1,
            ..Record::for_push(project, env, &job.push)
        },
    };
    if attempts >= services.config.max_attempts {
        let reason = format!(
            "gave up after {attempts} attempts: each one ended without an outcome (the worker died, or the record store, git or the registry kept failing)"
        );
        run.emitter
            .emit(EventKind::DeployFailed {
                reason: reason.clone(),
            })
            .await;
        run.record.attempts = attempts;
        return run
            .finish(
                Outcome::DeployFailed,
                reason.clone(),
                ServingChange::Unchanged,
                Ended::GaveUp(reason),
            )
            .await;
    }
    // The attempt is counted before the work: a push that kills its worker
    // each time still reaches max_attempts.
    if let Err(ended) = run.write(ServingChange::Unchanged).await {
        return ended;
    }
    let checkout = services
        .config
        .work_dir
        .join("checkouts")
        .join(project)
        .join(env)
        .join(&job.push.delivery);
    let _ = tokio::fs::remove_dir_all(&checkout).await;
    let ended = match (&job.push.action, job.push.deleted) {
        (Action::Rollback, _) => roll_back_on_request(&mut run, &checkout).await,
        (Action::Promote { from }, _) => promote(&mut run, &checkout, from).await,
        (Action::Destroy, _) | (Action::Push, true) => destroy_preview(&mut run, &checkout).await,
        (Action::Push, false) => build_and_deploy(&mut run, &checkout, stop).await,
    };
    if let Err(e) = tokio::fs::remove_dir_all(&checkout).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %checkout.display(), error = %e, "could not remove the checkout");
    }
    ended
}

/// Whether the push is still what its branch wants: `Err` with how the
/// pipeline ends when the branch has moved on (or the check failed).
async fn still_wanted(run: &mut Run<'_>) -> Result<(), Ended> {
    let job = run.emitter.job;
    let token = token(&job.repo);
    let head = transient("asking git where the branch points", || {
        git::head(&job.repo.clone_url, &job.push.branch, token.as_deref())
    })
    .await
    .map_err(|e| Ended::Retry(format!("checking the branch {}: {e}", job.push.branch)))?;
    let wanted = if job.push.deleted {
        head.is_none()
    } else {
        head.as_deref() == Some(job.push.sha.as_str())
    };
    if wanted {
        return Ok(());
    }
    let now = head.unwrap_or_else(|| "nothing (the branch was deleted)".into());
    let reason = format!("the branch {} points at {now} now", job.push.branch);
    run.emitter
        .emit(EventKind::Superseded {
            by_sha: now.clone(),
        })
        .await;
    Err(run
        .finish(
            Outcome::Superseded,
            reason,
            ServingChange::Unchanged,
            Ended::Superseded,
        )
        .await)
}

async fn build_and_deploy(
    run: &mut Run<'_>,
    checkout: &Path,
    mut stop: watch::Receiver<Stop>,
) -> Ended {
    let services = run.emitter.services;
    let job = run.emitter.job;
    let sha = &job.push.sha;
    let mut clock = Stopwatch::default();
    if let Err(ended) = clock.time(still_wanted(run)).await {
        return ended;
    }

    match clock
        .time(until_stopped(&mut stop, fetch(job, sha, checkout)))
        .await
    {
        Err(stopped) => return stopped_before_deploy(run, stopped).await,
        Ok(Err(reason)) => return Ended::Retry(reason),
        Ok(Ok(())) => run.emitter.emit(EventKind::Cloned).await,
    }

    // Build and push the image, tagged with the SHA.
    let login = match clock
        .time(transient("logging in to the registry", || {
            services.registry.login(&job.repo.ecr_repository)
        }))
        .await
    {
        Ok(l) => l,
        Err(e) => return Ended::Retry(e.to_string()),
    };
    let image = format!("{}:{sha}", login.repository);
    run.record.image = image.clone();
    run.emitter
        .emit(EventKind::BuildStarted {
            image: image.clone(),
        })
        .await;
    let images = Images::new(None, login.auth.into_iter().collect());
    let built = clock
        .time(until_stopped(
            &mut stop,
            crate::build_log::capture(
                &run.emitter,
                run.record.attempts,
                images.build(&image, checkout, &job.repo.dockerfile),
            ),
        ))
        .await;
    match built {
        Err(stopped) => return stopped_before_deploy(run, stopped).await,
        Ok(Err(e)) => {
            let (step, reason) = match e {
                DockerError::Build { step, message, .. } => (step, message),
                other => (None, other.to_string()),
            };
            run.emitter
                .emit(EventKind::BuildFailed {
                    step,
                    reason: reason.clone(),
                })
                .await;
            return run
                .finish(
                    Outcome::BuildFailed,
                    reason,
                    ServingChange::Unchanged,
                    Ended::BuildFailed,
                )
                .await;
        }
        Ok(Ok(_id)) => {
            run.emitter
                .emit(EventKind::BuildSucceeded {
                    image: image.clone(),
                })
                .await
        }
    }
    let pushed = clock
        .time(until_stopped(
            &mut stop,
            transient("pushing the image", || images.push(&image)),
        ))
        .await;
    match pushed {
        Err(stopped) => return stopped_before_deploy(run, stopped).await,
        Ok(Err(e)) => return Ended::Retry(format!("pushing {image}: {e}")),
        Ok(Ok(digest)) => {
            run.record.digest = digest.clone();
            run.record.built_at = now_rfc3339();
            run.emitter
                .emit(EventKind::ImagePushed {
                    image: image.clone(),
                    digest,
                })
                .await;
        }
    }

    // From here on the push is not given up for a newer one.
    if let Some(stopped) = stopped(&stop) {
        return stopped_before_deploy(run, stopped).await;
    }
    if let Err(ended) = still_wanted(run).await {
        return ended;
    }
    let stack = match StackSource::for_push(services, job, checkout).await {
        Ok(Choice::Ready(s)) => s,
        Ok(Choice::Unapproved { branch, .. }) => {
            clock.report(job);
            return crate::approval::wait_for_approval(run, &branch).await;
        }
        Err(reason) => return run.failed(reason).await,
    };
    clock.report(job);
    let deployed = deploy::deploy(run, &stack).await;
    end_with(run, deployed).await
}

/// Records how a deploy ended.
pub async fn end_with(run: &mut Run<'_>, deployed: Deployed) -> Ended {
    let serving_new = ServingChange::Now(Serving {
        delivery: run.record.delivery.clone(),
        sha: run.record.sha.clone(),
        image: run.record.image.clone(),
    });
    match deployed {
        Deployed::Succeeded => {
            run.finish(
                Outcome::Succeeded,
                String::new(),
                serving_new,
                Ended::Deployed,
            )
            .await
        }
        Deployed::RolledBack { reason, to } => {
            let serving = ServingChange::Now(Serving {
                delivery: to.delivery,
                sha: to.sha,
                image: to.image,
            });
            run.finish(Outcome::RolledBack, reason, serving, Ended::RolledBack)
                .await
        }
        Deployed::Failed { reason } => {
            run.finish(
                Outcome::DeployFailed,
                reason,
                ServingChange::Unchanged,
                Ended::DeployFailed,
            )
            .await
        }
        Deployed::NotStarted(ended) => ended,
    }
}

/// `dumcel-pipeline rollback`: runs the environment again on the image an
/// earlier succeeded push of `sha` deployed, with that commit's stack.
async fn roll_back_on_request(run: &mut Run<'_>, checkout: &Path) -> Ended {
    let services = run.emitter.services;
    let job = run.emitter.job;
    if let Err(ended) = take_image_from(run, &job.env.name, "roll back to").await {
        return ended;
    }
    if let Err(reason) = fetch(job, &job.push.sha, checkout).await {
        return Ended::Retry(reason);
    }
    // Back to an image it ran: with its branch's stack only if approved.
    let stack = match StackSource::for_push(services, job, checkout).await {
        Ok(Choice::Ready(s) | Choice::Unapproved { trusted: s, .. }) => s,
        Err(reason) => return run.failed(reason).await,
    };
    let deployed = deploy::deploy(run, &stack).await;
    end_with(run, deployed).await
}

/// `dumcel-pipeline promote`: runs production on the image the push's SHA
/// deployed in the preview `from`, with the default branch's stack as it is
/// now (the preview's own stack is the branch's, not trusted for production).
async fn promote(run: &mut Run<'_>, checkout: &Path, from: &str) -> Ended {
    let job = run.emitter.job;
    if job.env.preview || !from.starts_with("preview-") {
        return run
            .failed(format!(
                "only a preview is promoted, and only to production: not {from} to {}",
                job.env.name
            ))
            .await;
    }
    if let Err(ended) = take_image_from(run, from, "promote").await {
        return ended;
    }
    let stack = match StackSource::default_branch(job, checkout).await {
        Ok(s) => s,
        Err(reason) => return Ended::Retry(reason),
    };
    let deployed = deploy::deploy(run, &stack).await;
    end_with(run, deployed).await
}

/// Sets the run's image to the one the push's SHA last deployed
/// successfully in `environment`; `Err` with how the run ended when it never
/// did (`verb` says what the run was asked to do).
async fn take_image_from(run: &mut Run<'_>, environment: &str, verb: &str) -> Result<(), Ended> {
    let job = run.emitter.job;
    let records = &run.emitter.services.deployments;
    let history = transient("reading the environment's history", || {
        records.history(&job.repo.project, environment)
    })
    .await
    .map_err(|e| Ended::Retry(e.to_string()))?;
    let Some(good) = history
        .into_iter()
        .filter(|r| r.sha == job.push.sha && r.outcome == Outcome::Succeeded)
        .max_by(|a, b| a.finished_at.cmp(&b.finished_at))
    else {
        return Err(run
            .failed(format!(
                "cannot {verb} {}: it never deployed successfully to {environment}",
                job.push.sha
            ))
            .await);
    };
    run.record.image = good.image;
    run.record.digest = good.digest;
    Ok(())
}

/// Destroys the preview environment of a deleted branch, or of one a person
/// asked to destroy, with the default branch's stack (the branch's own
/// commits may be gone).
async fn destroy_preview(run: &mut Run<'_>, checkout: &Path) -> Ended {
    let job = run.emitter.job;
    if !job.env.preview {
        run.emitter
            .emit(EventKind::Skipped {
                reason: "the default branch was deleted; production is left as it is".into(),
            })
            .await;
        return run
            .finish(
                Outcome::Skipped,
                "the default branch was deleted".into(),
                ServingChange::Unchanged,
                Ended::Skipped,
            )
            .await;
    }
    // A deleted branch's message must still be what the branch wants (not
    // pushed again since); a person's request stands on its own.
    if job.push.action != Action::Destroy
        && let Err(ended) = still_wanted(run).await
    {
        return ended;
    }
    let stack = match StackSource::default_branch(job, checkout).await {
        Ok(s) => s,
        Err(reason) => return Ended::Retry(reason),
    };
    if let Err(e) = run.held.check().await {
        return Ended::Retry(e.to_string());
    }
    // Any image will do: nothing is created.
    let image = format!("{}:{}", job.repo.ecr_repository, job.push.sha);
    match deploy::destroy(&run.emitter, &stack, &image).await {
        Ok(()) => {
            run.emitter.emit(EventKind::PreviewDestroyed).await;
            run.finish(
                Outcome::Destroyed,
                String::new(),
                ServingChange::Nothing,
                Ended::Destroyed,
            )
            .await
        }
        Err(reason) => {
            run.failed(format!("destroying the preview: {reason}"))
                .await
        }
    }
}

fn token(repo: &Repository) -> Option<String> {
    repo.token_env
        .as_ref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|t| !t.is_empty())
}

/// Fetches `rev` (a SHA, or `refs/heads/<branch>`) of the job's repository
/// into `checkout` and checks that the stack directory is there.
pub async fn fetch(job: &Job, rev: &str, checkout: &Path) -> Result<(), String> {
    let token = token(&job.repo);
    transient("fetching the commit", || async {
        let _ = tokio::fs::remove_dir_all(checkout).await;
        git::checkout(&job.repo.clone_url, rev, token.as_deref(), checkout).await
    })
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

/// Where a checkout of the default branch for `checkout` goes.
pub fn sibling(checkout: &Path, name: &str) -> PathBuf {
    let mut dir = checkout.as_os_str().to_owned();
    dir.push(format!(".{name}"));
    PathBuf::from(dir)
}

/// The time a pipeline spends waiting on others (the record store, git, the
/// registry, the build, the push), so that the daemon's own share of the
/// time from message to deploy start can be told apart:
/// `bench/pipeline.sh` reads it.
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
        let total = crate::records::now_ms().saturating_sub(queued).max(0);
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

async fn stopped_before_deploy(run: &mut Run<'_>, stop: Stop) -> Ended {
    match stop {
        Stop::Superseded { by_sha } => {
            let reason = format!("superseded by {by_sha}");
            run.emitter.emit(EventKind::Superseded { by_sha }).await;
            run.finish(
                Outcome::Superseded,
                reason,
                ServingChange::Unchanged,
                Ended::Superseded,
            )
            .await
        }
        // The record stays in progress: the push comes back to whoever reads
        // its partition next, who takes it over.
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

pub async fn wait_for_stop(stop: &mut watch::Receiver<Stop>) -> Stop {
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
