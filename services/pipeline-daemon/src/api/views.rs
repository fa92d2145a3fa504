//! What the API answers, as JSON: the records' fields under stable names,
//! empty values as `null`.

use serde::Serialize;

use crate::access::{Caller, Permission};
use crate::commands::Queued;
use crate::config::{Api, Config, Repository};
use crate::environment::for_branch;
use crate::records::{EnvironmentStatus, Record, Serving};

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[derive(Serialize)]
pub struct Project {
    pub name: String,
    pub repository: String,
    pub default_branch: String,
    pub previews: bool,
    /// What the caller may do beyond viewing it.
    pub can_deploy: bool,
    pub can_approve: bool,
}

impl Project {
    pub fn of(repository: &str, repo: &Repository, caller: &Caller) -> Project {
        Project {
            name: repo.project.clone(),
            repository: repository.to_owned(),
            default_branch: repo.default_branch.clone(),
            previews: repo.previews,
            can_deploy: repo.access.allows(caller, Permission::Deploy),
            can_approve: repo.access.allows(caller, Permission::Approve),
        }
    }
}

#[derive(Serialize)]
pub struct Deployment {
    pub delivery: String,
    pub project: String,
    pub environment: String,
    /// `push`, `rollback`, `redeploy`, `destroy` or `promote`: what
    /// started it.
    pub trigger: &'static str,
    pub branch: Option<String>,
    pub sha: String,
    /// The commit message's first line.
    pub message: Option<String>,
    /// Who pushed or asked: `user:<login>`, `token:<name>`, `cli:<user>`.
    pub pusher: Option<String>,
    pub image: Option<String>,
    pub digest: Option<String>,
    pub started_at: Option<String>,
    /// When its image was built and pushed.
    pub built_at: Option<String>,
    pub finished_at: Option<String>,
    /// `in_progress`, `succeeded`, `build_failed`, `deploy_failed`,
    /// `rolled_back`, `superseded`, `destroyed`, `skipped` or
    /// `awaiting_approval`.
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub attempts: u32,
}

impl From<&Record> for Deployment {
    fn from(r: &Record) -> Deployment {
        // Commands name their messages `<verb>-<uuid>`; GitHub's are UUIDs.
        let trigger = ["rollback", "redeploy", "destroy", "promote"]
            .into_iter()
            .find(|verb| {
                r.delivery
                    .strip_prefix(verb)
                    .is_some_and(|rest| rest.starts_with('-'))
            })
            .unwrap_or("push");
        Deployment {
            delivery: r.delivery.clone(),
            project: r.project.clone(),
            environment: r.environment.clone(),
            trigger,
            branch: non_empty(&r.branch),
            sha: r.sha.clone(),
            message: non_empty(&r.message),
            pusher: non_empty(&r.pusher),
            image: non_empty(&r.image),
            digest: non_empty(&r.digest),
            started_at: non_empty(&r.started_at),
            built_at: non_empty(&r.built_at),
            finished_at: non_empty(&r.finished_at),
            outcome: r.outcome.as_str(),
            reason: non_empty(&r.reason),
            attempts: r.attempts,
        }
    }
}

#[derive(Serialize)]
pub struct Lease {
    /// The worker deploying it (`host:pid:random`).
    pub owner: String,
    pub expires_at: String,
}

#[derive(Serialize)]
pub struct Environment {
    pub name: String,
    pub url: Option<String>,
    pub branch: Option<String>,
    pub serving: Option<ServingView>,
    /// Set while a worker holds the environment.
    pub lease: Option<Lease>,
    pub last_deployment: Option<Deployment>,
}

#[derive(Serialize)]
pub struct ServingView {
    pub delivery: String,
    pub sha: String,
    pub image: String,
}

impl From<&Serving> for ServingView {
    fn from(s: &Serving) -> ServingView {
        ServingView {
            delivery: s.delivery.clone(),
            sha: s.sha.clone(),
            image: s.image.clone(),
        }
    }
}

impl Environment {
    /// `status` with its newest record `last`, at `now_ms`.
    pub fn of(
        config: &Config,
        api: &Api,
        repo: &Repository,
        status: &EnvironmentStatus,
        last: Option<&Record>,
        now_ms: i64,
    ) -> Environment {
        let branch = last
            .map(|r| r.branch.clone())
            .filter(|b| !b.is_empty())
            .or_else(|| {
                (status.environment == crate::environment::PRODUCTION)
                    .then(|| repo.default_branch.clone())
            });
        let url = branch
            .as_deref()
            .and_then(|b| for_branch(config, repo, b))
            .filter(|e| e.name == status.environment)
            .and_then(|e| e.host)
            .map(|host| api.url_of(&host));
        let lease = status
            .lease_owner
            .as_ref()
            .filter(|_| status.lease_expires_ms > now_ms)
            .map(|owner| Lease {
                owner: owner.clone(),
                expires_at: rfc3339_ms(status.lease_expires_ms),
            });
        Environment {
            name: status.environment.clone(),
            url,
            branch,
            serving: status.serving.as_ref().map(ServingView::from),
            lease,
            last_deployment: last.map(Deployment::from),
        }
    }
}

fn rfc3339_ms(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

#[derive(Serialize)]
pub struct QueuedView {
    pub queued: bool,
    pub action: &'static str,
    /// The new deployment's delivery id: its record appears under it once a
    /// worker takes it.
    pub delivery: String,
    pub project: String,
    pub environment: String,
    pub branch: String,
    pub sha: String,
    pub image: Option<String>,
}

impl From<Queued> for QueuedView {
    fn from(q: Queued) -> QueuedView {
        QueuedView {
            queued: true,
            action: q.action,
            image: non_empty(&q.image),
            delivery: q.delivery,
            project: q.project,
            environment: q.environment,
            branch: q.branch,
            sha: q.sha,
        }
    }
}
