//! The commands people steer deployments with, from the command line and
//! the API: `status` (what runs where), `rollback`, `redeploy`, `destroy`,
//! `promote` and `approve`. `rollback`, `redeploy`, `destroy` and `promote`
//! do not change anything themselves: they queue a signed message on the
//! push topic, so that the environment's lane runs it under its lease, in order
//! with the pushes around it, and the events show it like any push.

use std::fmt;
use std::sync::Arc;

use anyhow::Result;

use crate::config::{Config, Repository};
use crate::environment::PRODUCTION;
use crate::git::GitError;
use crate::kafka::{KafkaSink, ensure_topics, producer, queue};
use crate::push::{Action, PUSH_SCHEMA_VERSION, Push};
use crate::records::{Outcome, Record, RecordError, Records, Serving, newest, newest_good, now_ms};
use crate::webhook::PushSink;

/// Why a command was refused or failed. The API answers each kind with its
/// own status ([`CommandError::kind`]).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(
        "no repository of the configuration has project {project:?}; the projects are: {known}"
    )]
    UnknownProject { project: String, known: String },
    #[error(
        "{} has no environment {:?} (no push was ever seen for it): `dumcel-pipeline status` lists them",
        .0.project, .0.environment
    )]
    UnknownEnvironment(EnvironmentRef),
    #[error("{project}/{environment} has no deployment {delivery:?}")]
    UnknownDeployment {
        project: String,
        environment: String,
        delivery: String,
    },
    #[error(
        "{what} never deployed successfully to {project}/{environment}: only a succeeded deployment can be returned to"
    )]
    NeverSucceeded {
        project: String,
        environment: String,
        what: String,
    },
    #[error("{0} has no good deployment other than the one it serves: nothing to roll back to")]
    NothingToRollBackTo(EnvironmentRef),
    /// The environment and what is done only to previews (`destroyed`).
    #[error("{0} is not a preview: only previews are {1} on request")]
    NotAPreview(EnvironmentRef, &'static str),
    #[error("{0} serves nothing now: only a running preview is promoted")]
    NothingServed(EnvironmentRef),
    #[error("{0} was destroyed already: a push to its branch makes it again")]
    AlreadyDestroyed(EnvironmentRef),
    #[error("the branch {branch} of {repository} does not exist any more")]
    BranchGone { repository: String, branch: String },
    #[error("{0:?} is not a full commit SHA (40 hex digits): approve exactly the commit you read")]
    NotFullSha(String),
    /// The daemon's own set-up (a missing signing key, say).
    #[error("{0}")]
    Setup(String),
    #[error("queueing on {topic}: {message}")]
    Queue { topic: String, message: String },
    #[error(transparent)]
    Records(#[from] RecordError),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// An environment a command names: `project/environment` in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRef {
    pub project: String,
    pub environment: String,
}

impl EnvironmentRef {
    fn new(project: &str, environment: &str) -> EnvironmentRef {
        EnvironmentRef {
            project: project.to_owned(),
            environment: environment.to_owned(),
        }
    }
}

impl fmt::Display for EnvironmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.environment)
    }
}

/// What kind of failure a [`CommandError`] is, for the API's status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Names something that does not exist.
    NotFound,
    /// Well-formed, but the current state does not allow it.
    Conflict,
    /// The request itself is malformed.
    Invalid,
    /// The store, the broker or git failed: try again later.
    Unavailable,
}

impl CommandError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CommandError::UnknownProject { .. }
            | CommandError::UnknownEnvironment(_)
            | CommandError::UnknownDeployment { .. } => ErrorKind::NotFound,
            CommandError::NeverSucceeded { .. }
            | CommandError::NothingToRollBackTo(_)
            | CommandError::BranchGone { .. }
            | CommandError::NotAPreview(..)
            | CommandError::NothingServed(_)
            | CommandError::AlreadyDestroyed(_) => ErrorKind::Conflict,
            CommandError::NotFullSha(_) => ErrorKind::Invalid,
            CommandError::Setup(_)
            | CommandError::Queue { .. }
            | CommandError::Records(_)
            | CommandError::Git(_) => ErrorKind::Unavailable,
        }
    }
}

/// The repository (`owner/name`) whose project is `project`.
pub fn repository<'a>(
    config: &'a Config,
    project: &str,
) -> Result<(&'a str, &'a Repository), CommandError> {
    config
        .repositories
        .iter()
        .find(|(_, r)| r.project == project)
        .map(|(name, r)| (name.as_str(), r))
        .ok_or_else(|| CommandError::UnknownProject {
            project: project.to_owned(),
            known: config
                .repositories
                .values()
                .map(|r| r.project.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Where commands queue their messages: the push topic, signed with the
/// daemon's key, so that they run in their environment's lane like pushes.
pub struct Outbox {
    sink: Arc<dyn PushSink>,
    key: Vec<u8>,
    topic: String,
}

impl Outbox {
    /// The push topic of `config` (created when missing).
    pub async fn connect(config: &Config) -> Result<Outbox, CommandError> {
        let key = config.signing_key().map_err(CommandError::Setup)?;
        ensure_topics(&config.kafka)
            .await
            .map_err(CommandError::Setup)?;
        let sink = KafkaSink {
            producer: producer(&config.kafka).map_err(CommandError::Setup)?,
            topic: config.kafka.push_topic.clone(),
        };
        Ok(Outbox::new(
            Arc::new(sink),
            key,
            config.kafka.push_topic.clone(),
        ))
    }

    pub fn new(sink: Arc<dyn PushSink>, key: Vec<u8>, topic: String) -> Outbox {
        Outbox { sink, key, topic }
    }

    async fn send(&self, push: &Push) -> Result<(), CommandError> {
        queue(self.sink.as_ref(), push, &self.key)
            .await
            .map_err(|message| CommandError::Queue {
                topic: self.topic.clone(),
                message,
            })
    }
}

/// A command's message, queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// `rollback`, `redeploy`, `destroy` or `promote`.
    pub action: &'static str,
    /// The message's delivery id: its record's key once a worker takes it.
    pub delivery: String,
    pub project: String,
    pub environment: String,
    pub branch: String,
    pub sha: String,
    /// The image a rollback returns to or a promotion runs (empty for a
    /// redeploy, which builds).
    pub image: String,
}

impl fmt::Display for Queued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (project, environment, sha) = (&self.project, &self.environment, short(&self.sha));
        match self.action {
            "rollback" => writeln!(
                f,
                "queued: roll {project}/{environment} back to {sha} ({}) as {}",
                self.image, self.delivery
            ),
            "destroy" => writeln!(
                f,
                "queued: destroy {project}/{environment} (branch {}) as {}",
                self.branch, self.delivery
            ),
            "promote" => writeln!(
                f,
                "queued: promote {sha} ({}) to {project}/{environment} as {}",
                self.image, self.delivery
            ),
            _ => writeln!(
                f,
                "queued: redeploy {project}/{environment} from {} at {sha} as {}",
                self.branch, self.delivery
            ),
        }
    }
}

/// `dumcel-pipeline status`: every environment, what it serves, who holds
/// it, and its last push.
pub async fn status(records: &dyn Records, project: Option<&str>) -> Result<String> {
    let mut out = format!(
        "{:<16} {:<24} {:<13} {:<32} {}\n",
        "PROJECT", "ENVIRONMENT", "SERVING", "LAST PUSH", "LEASE"
    );
    let now = now_ms();
    for env in records.environments().await? {
        if project.is_some_and(|p| p != env.project) {
            continue;
        }
        let serving = env
            .serving
            .as_ref()
            .map_or("-".to_owned(), |s| short(&s.sha).to_owned());
        let history = records.history(&env.project, &env.environment).await?;
        let last = newest(&history).map_or("-".to_owned(), |r| {
            format!("{} {}", short(&r.sha), r.outcome.as_str())
        });
        let lease = match &env.lease_owner {
            Some(owner) if env.lease_expires_ms > now => {
                format!("{owner} ({}s left)", (env.lease_expires_ms - now) / 1000)
            }
            Some(owner) => format!("expired ({owner})"),
            None => "free".into(),
        };
        out.push_str(&format!(
            "{:<16} {:<24} {:<13} {:<32} {}\n",
            env.project, env.environment, serving, last, lease
        ));
    }
    Ok(out)
}

/// What the steering commands work with, and who asks.
pub struct Steering<'a> {
    pub config: &'a Config,
    pub records: &'a dyn Records,
    pub outbox: &'a Outbox,
    /// Who asks, as a principal: `cli:<$USER>`, `token:<name>`. Kept as
    /// the new deployment's pusher.
    pub by: &'a str,
}

impl Steering<'_> {
    /// A new message of `action` on `sha` of `branch`, from `self.by`.
    fn push(&self, repository: &str, branch: &str, sha: &str, action: Action) -> Push {
        let verb = match action {
            Action::Push => "redeploy",
            Action::Rollback => "rollback",
            Action::Destroy => "destroy",
            Action::Promote { .. } => "promote",
        };
        Push {
            schema_version: PUSH_SCHEMA_VERSION,
            delivery: format!("{verb}-{}", uuid::Uuid::new_v4().simple()),
            repository: repository.to_owned(),
            branch: branch.to_owned(),
            sha: sha.to_owned(),
            deleted: false,
            action,
            message: String::new(),
            pusher: self.by.to_owned(),
        }
    }
}

/// What a rollback returns to.
#[derive(Debug, Clone, Copy)]
pub enum RollbackTo<'a> {
    /// The newest good deployment before the one the environment serves.
    Previous,
    /// The newest succeeded deployment of a commit (a prefix of its SHA).
    Commit(&'a str),
    /// One deployment, by its delivery id.
    Deployment(&'a str),
}

/// `dumcel-pipeline rollback PROJECT ENV [--to SHA]` and the API's
/// rollback: queues running the environment again on an image it ran before.
pub async fn rollback(
    steering: &Steering<'_>,
    project: &str,
    environment: &str,
    to: RollbackTo<'_>,
) -> Result<Queued, CommandError> {
    let records = steering.records;
    let (repository, _) = repository(steering.config, project)?;
    let history = records.history(project, environment).await?;
    let here = EnvironmentRef::new(project, environment);
    if history.is_empty() {
        return Err(CommandError::UnknownEnvironment(here));
    }
    let never_succeeded = |what: String| CommandError::NeverSucceeded {
        project: project.to_owned(),
        environment: environment.to_owned(),
        what,
    };
    let target = match to {
        RollbackTo::Commit(sha) => {
            let sha = sha.to_ascii_lowercase();
            history
                .into_iter()
                .filter(|r| r.sha.starts_with(&sha) && r.outcome == Outcome::Succeeded)
                .max_by(|a, b| a.finished_at.cmp(&b.finished_at))
                .ok_or_else(|| never_succeeded(sha))?
        }
        RollbackTo::Deployment(delivery) => {
            let record = history
                .into_iter()
                .find(|r| r.delivery == delivery)
                .ok_or_else(|| CommandError::UnknownDeployment {
                    project: project.to_owned(),
                    environment: environment.to_owned(),
                    delivery: delivery.to_owned(),
                })?;
            if record.outcome != Outcome::Succeeded {
                return Err(never_succeeded(format!(
                    "deployment {delivery} ({})",
                    record.outcome.as_str()
                )));
            }
            record
        }
        RollbackTo::Previous => {
            let serving = serving(records, project, environment).await?;
            let current = serving.as_ref().map(|s| s.sha.as_str()).unwrap_or_default();
            newest_good(history, current).ok_or(CommandError::NothingToRollBackTo(here))?
        }
    };
    let push = steering.push(repository, &target.branch, &target.sha, Action::Rollback);
    steering.outbox.send(&push).await?;
    Ok(queued("rollback", push, &target))
}

fn queued(action: &'static str, push: Push, target: &Record) -> Queued {
    Queued {
        action,
        delivery: push.delivery,
        project: target.project.clone(),
        environment: target.environment.clone(),
        branch: push.branch,
        sha: push.sha,
        image: target.image.clone(),
    }
}

/// `dumcel-pipeline redeploy PROJECT ENV` and the API's redeploy: queues
/// deploying the commit the environment's branch points at now, even when
/// it was deployed before.
pub async fn redeploy(
    steering: &Steering<'_>,
    project: &str,
    environment: &str,
) -> Result<Queued, CommandError> {
    let (repository, repo) = repository(steering.config, project)?;
    let branch = if environment == PRODUCTION {
        repo.default_branch.clone()
    } else {
        let history = steering.records.history(project, environment).await?;
        newest(&history)
            .map(|r| r.branch.clone())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                CommandError::UnknownEnvironment(EnvironmentRef::new(project, environment))
            })?
    };
    let token = repo.token_env.as_ref().and_then(|n| std::env::var(n).ok());
    let Some(sha) = crate::git::head(&repo.clone_url, &branch, token.as_deref()).await? else {
        return Err(CommandError::BranchGone {
            repository: repository.to_owned(),
            branch,
        });
    };
    let push = steering.push(repository, &branch, &sha, Action::Push);
    steering.outbox.send(&push).await?;
    Ok(Queued {
        action: "redeploy",
        delivery: push.delivery,
        project: project.to_owned(),
        environment: environment.to_owned(),
        branch: push.branch,
        sha: push.sha,
        image: String::new(),
    })
}

/// `dumcel-pipeline destroy PROJECT ENV` and the API's destroy: queues
/// destroying a preview environment now, its branch deleted or not.
pub async fn destroy(
    steering: &Steering<'_>,
    project: &str,
    environment: &str,
) -> Result<Queued, CommandError> {
    let (repository, _, last) = preview(steering, project, environment, "destroyed").await?;
    if last.outcome == Outcome::Destroyed {
        return Err(CommandError::AlreadyDestroyed(EnvironmentRef::new(
            project,
            environment,
        )));
    }
    let push = steering.push(repository, &last.branch, &last.sha, Action::Destroy);
    steering.outbox.send(&push).await?;
    Ok(Queued {
        image: String::new(),
        ..queued("destroy", push, &last)
    })
}

/// `dumcel-pipeline promote PROJECT ENV` and the API's promote: queues
/// running production on the image the preview `environment` serves now,
/// with the default branch's stack.
pub async fn promote(
    steering: &Steering<'_>,
    project: &str,
    environment: &str,
) -> Result<Queued, CommandError> {
    let (repository, repo, _) = preview(steering, project, environment, "promoted").await?;
    let Some(runs) = serving(steering.records, project, environment).await? else {
        return Err(CommandError::NothingServed(EnvironmentRef::new(
            project,
            environment,
        )));
    };
    let push = steering.push(
        repository,
        &repo.default_branch,
        &runs.sha,
        Action::Promote {
            from: environment.to_owned(),
        },
    );
    steering.outbox.send(&push).await?;
    Ok(Queued {
        action: "promote",
        delivery: push.delivery,
        project: project.to_owned(),
        environment: PRODUCTION.to_owned(),
        branch: push.branch,
        sha: push.sha,
        image: runs.image,
    })
}

/// The repository of `project` and the last push of its preview
/// `environment`; an error when it has none or is not a preview (`done` says
/// what is done only to previews).
async fn preview<'a>(
    steering: &Steering<'a>,
    project: &str,
    environment: &str,
    done: &'static str,
) -> Result<(&'a str, &'a Repository, Record), CommandError> {
    let (repository, repo) = repository(steering.config, project)?;
    let here = EnvironmentRef::new(project, environment);
    let history = steering.records.history(project, environment).await?;
    let Some(last) = newest(&history).cloned() else {
        return Err(CommandError::UnknownEnvironment(here));
    };
    if environment == PRODUCTION || last.branch == repo.default_branch {
        return Err(CommandError::NotAPreview(here, done));
    }
    Ok((repository, repo, last))
}

/// What `environment` of `project` serves now.
async fn serving(
    records: &dyn Records,
    project: &str,
    environment: &str,
) -> Result<Option<Serving>, RecordError> {
    Ok(records
        .environments()
        .await?
        .into_iter()
        .find(|e| e.project == project && e.environment == environment)
        .and_then(|e| e.serving))
}

/// `dumcel-pipeline approve PROJECT SHA`: lets that commit's own stack
/// deploy its preview.
pub async fn approve(
    config: &Config,
    records: &dyn Records,
    project: &str,
    sha: &str,
    by: &str,
) -> Result<String, CommandError> {
    repository(config, project)?;
    if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CommandError::NotFullSha(sha.to_owned()));
    }
    let sha = sha.to_ascii_lowercase();
    records
        .decide(project, &sha, &crate::records::Decision::now(true, by))
        .await?;
    Ok(format!(
        "approved: {project} at {} may deploy its preview with its own stack (push it again or `dumcel-pipeline redeploy` to use it)\n",
        short(&sha)
    ))
}
