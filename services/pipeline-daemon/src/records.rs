//! What the pipeline knows for sure, kept where every worker sees it: one
//! record per push (per `X-GitHub-Delivery`, so a force-push back to an
//! older commit is a new push, while a redelivery is not), and one entry per
//! environment holding its lease and what it serves.
//!
//! The lease makes one worker at a time the one deploying an environment.
//! Every acquisition bumps the environment's fencing token; every write that
//! changes what the world believes (a record, what an environment serves)
//! is conditional on the writer's token still being the current one, so a
//! worker that lost its lease (paused, partitioned, presumed dead) can no
//! longer write anything. Records also only move forward: once a push has a
//! final outcome, nothing overwrites it.
//!
//! Two stores keep this behind one interface, with the same semantics:
//! DynamoDB on the ECS target ([`crate::deployments`], conditional writes
//! and transactions) and an embedded SQLite file on the Docker-host target
//! ([`crate::records_sqlite`], transactions).

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
#[error("{store}: {operation} failed: {message}")]
pub struct RecordError {
    /// `DynamoDB table NAME`, `SQLite file PATH`.
    pub store: String,
    pub operation: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    InProgress,
    Succeeded,
    BuildFailed,
    DeployFailed,
    RolledBack,
    /// A newer push to the environment replaced it before its deploy.
    Superseded,
    Destroyed,
    /// Seen before: a duplicate of a push that had ended.
    Skipped,
    /// A preview push whose branch changes the stack: planned, not applied,
    /// until a person approves the plan (which deploys it anew).
    AwaitingApproval,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in_progress",
            Outcome::Succeeded => "succeeded",
            Outcome::BuildFailed => "build_failed",
            Outcome::DeployFailed => "deploy_failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::Superseded => "superseded",
            Outcome::Destroyed => "destroyed",
            Outcome::Skipped => "skipped",
            Outcome::AwaitingApproval => "awaiting_approval",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::InProgress,
            Outcome::Succeeded,
            Outcome::BuildFailed,
            Outcome::DeployFailed,
            Outcome::RolledBack,
            Outcome::Superseded,
            Outcome::Destroyed,
            Outcome::Skipped,
            Outcome::AwaitingApproval,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        self != Outcome::InProgress
    }
}

/// One push's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub project: String,
    pub environment: String,
    /// The push's delivery id: the record's key within the environment.
    pub delivery: String,
    pub branch: String,
    pub sha: String,
    pub image: String,
    pub digest: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    pub reason: String,
    /// How many times a worker started on it: written before the work, so a
    /// push that kills its worker is counted too.
    pub attempts: u32,
    /// The commit message's first line (see [`crate::push::Push::message`]).
    pub message: String,
    /// Who pushed or asked (see [`crate::push::Push::pusher`]).
    pub pusher: String,
    /// When its image was built and pushed; empty when it built none.
    /// Build time is `built_at - started_at`, deploy time
    /// `finished_at - built_at`.
    pub built_at: String,
}

impl Record {
    /// A record for a pipeline starting now.
    pub fn start(
        project: &str,
        environment: &str,
        delivery: &str,
        branch: &str,
        sha: &str,
    ) -> Record {
        Record {
            project: project.to_owned(),
            environment: environment.to_owned(),
            delivery: delivery.to_owned(),
            branch: branch.to_owned(),
            sha: sha.to_owned(),
            image: String::new(),
            digest: String::new(),
            started_at: crate::events::now_rfc3339(),
            finished_at: String::new(),
            outcome: Outcome::InProgress,
            reason: String::new(),
            attempts: 0,
            message: String::new(),
            pusher: String::new(),
            built_at: String::new(),
        }
    }

    /// The record of `push` starting now in `environment` of `project`.
    pub fn for_push(project: &str, environment: &str, push: &crate::push::Push) -> Record {
        Record {
            message: push.message.clone(),
            pusher: push.pusher.clone(),
            ..Record::start(
                project,
                environment,
                &push.delivery,
                &push.branch,
                &push.sha,
            )
        }
    }
}

/// A held lease on one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub project: String,
    pub environment: String,
    /// The worker holding it (`host:pid:random`).
    pub owner: String,
    /// The fencing token: bumped by every acquisition.
    pub token: u64,
}

/// What an environment serves now: the last image a deploy or rollback
/// made it run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    pub delivery: String,
    pub sha: String,
    pub image: String,
}

/// How a write changes what the environment serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServingChange {
    Unchanged,
    Now(Serving),
    /// The environment was destroyed.
    Nothing,
}

/// An environment as the store knows it (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentStatus {
    pub project: String,
    pub environment: String,
    pub lease_owner: Option<String>,
    /// Milliseconds since the epoch.
    pub lease_expires_ms: i64,
    pub token: u64,
    pub serving: Option<Serving>,
}

/// Why a write was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Written,
    /// Another worker holds the environment now: this one must stop.
    Fenced,
    /// The push had already ended with this outcome; nothing was changed.
    AlreadyFinal(Outcome),
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Where the pipeline's records are kept.
#[async_trait]
pub trait Records: Send + Sync {
    /// Prepares the store (creates the table when missing).
    async fn ensure(&self) -> Result<(), RecordError>;

    /// The record of push `delivery` in (`project`, `environment`), if any.
    async fn get(
        &self,
        project: &str,
        environment: &str,
        delivery: &str,
    ) -> Result<Option<Record>, RecordError>;

    /// Takes the environment's lease for `ttl` when nobody holds it, it
    /// expired, or `owner` holds it already; `None` when another worker
    /// holds it.
    async fn acquire(
        &self,
        project: &str,
        environment: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, RecordError>;

    /// Extends `lease` by `ttl` from now; `false` when it is no longer held
    /// (another worker acquired the environment since).
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, RecordError>;

    /// Lets the lease go (when it is still ours).
    async fn release(&self, lease: &Lease) -> Result<(), RecordError>;

    /// Writes `record` and `serving` at once, only while `lease` is the
    /// environment's current one and the push has not ended yet.
    async fn write(
        &self,
        record: &Record,
        serving: &ServingChange,
        lease: &Lease,
    ) -> Result<Written, RecordError>;

    /// Every record of (`project`, `environment`).
    async fn history(&self, project: &str, environment: &str) -> Result<Vec<Record>, RecordError>;

    /// Every environment the store knows.
    async fn environments(&self) -> Result<Vec<EnvironmentStatus>, RecordError>;

    /// Records that a person approved (or rejected) `sha` of `project`
    /// deploying its previews with its own stack (see `dumcel-pipeline
    /// approve` and the API's approve and reject), in place of any earlier
    /// decision on it.
    async fn decide(
        &self,
        project: &str,
        sha: &str,
        decision: &Decision,
    ) -> Result<(), RecordError>;

    /// The decision on `sha` of `project`, when there is one.
    async fn decision(&self, project: &str, sha: &str) -> Result<Option<Decision>, RecordError>;
}

/// A person's decision on a commit's stack change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approved: bool,
    /// Who decided (a principal: `user:alice`).
    pub by: String,
    /// When, RFC 3339.
    pub at: String,
}

impl Decision {
    pub fn now(approved: bool, by: &str) -> Decision {
        Decision {
            approved,
            by: by.to_owned(),
            at: crate::events::now_rfc3339(),
        }
    }
}

/// The push that started last (of two in the same second, the greater
/// delivery id): what an environment's "last push" is everywhere.
pub fn newest<'a>(records: impl IntoIterator<Item = &'a Record>) -> Option<&'a Record> {
    records
        .into_iter()
        .max_by(|a, b| (&a.started_at, &a.delivery).cmp(&(&b.started_at, &b.delivery)))
}

/// The newest succeeded deployment in `records` other than `except_sha`:
/// what a rollback returns to.
pub fn newest_good(records: impl IntoIterator<Item = Record>, except_sha: &str) -> Option<Record> {
    records
        .into_iter()
        .filter(|r| r.outcome == Outcome::Succeeded && r.sha != except_sha)
        .max_by(|a, b| a.finished_at.cmp(&b.finished_at))
}

/// Whether a push whose record reads `existing` may be written again: only
/// while it has not ended.
pub fn may_write(existing: Option<Outcome>) -> bool {
    existing.is_none_or(|o| !o.is_final())
}

#[cfg(test)]
pub mod contract {
    //! The semantics both stores must have, run against each of them.
    use super::*;

    fn record(delivery: &str, sha: &str, outcome: Outcome, finished_at: &str) -> Record {
        Record {
            outcome,
            finished_at: finished_at.into(),
            image: format!("127.0.0.1:5000/shop:{sha}"),
            message: format!("Ship {sha} — with “quotes”"),
            pusher: "user:octocat".into(),
            built_at: "2026-11-23T10:00:30Z".into(),
            ..Record::start("shop", "production", delivery, "main", sha)
        }
    }

    pub async fn leases_fence_and_records_only_move_forward(store: &dyn Records) {
        store.ensure().await.unwrap();
        let ttl = Duration::from_secs(60);
        let a = store
            .acquire("shop", "production", "worker-a", ttl)
            .await
            .unwrap()
            .expect("a free environment is acquired");
        assert!(
            store
                .acquire("shop", "production", "worker-b", ttl)
                .await
                .unwrap()
                .is_none(),
            "a held lease is not taken"
        );
        // Another environment is independent.
        let other = store
            .acquire("shop", "preview-x", "worker-b", ttl)
            .await
            .unwrap()
            .unwrap();
        assert!(store.renew(&a, ttl).await.unwrap());

        let started = record("d1", "aaa", Outcome::InProgress, "");
        assert_eq!(
            store
                .write(&started, &ServingChange::Unchanged, &a)
                .await
                .unwrap(),
            Written::Written
        );
        let done = record("d1", "aaa", Outcome::Succeeded, "2026-11-30T10:01:00Z");
        let serving = ServingChange::Now(Serving {
            delivery: "d1".into(),
            sha: "aaa".into(),
            image: done.image.clone(),
        });
        assert_eq!(
            store.write(&done, &serving, &a).await.unwrap(),
            Written::Written
        );
        // Never backwards: an older writer's "in progress" or another end.
        assert_eq!(
            store
                .write(&started, &ServingChange::Unchanged, &a)
                .await
                .unwrap(),
            Written::AlreadyFinal(Outcome::Succeeded)
        );
        assert_eq!(
            store.get("shop", "production", "d1").await.unwrap(),
            Some(done.clone())
        );

        // An expired lease is taken over, with a new token; the old holder
        // is fenced out of every write and renewal.
        store.release(&a).await.unwrap();
        let b = store
            .acquire("shop", "production", "worker-b", Duration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        assert!(b.token > a.token);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let c = store
            .acquire("shop", "production", "worker-c", ttl)
            .await
            .unwrap()
            .expect("an expired lease is taken over");
        assert!(c.token > b.token);
        assert!(!store.renew(&b, ttl).await.unwrap());
        let late = record("d2", "bbb", Outcome::InProgress, "");
        assert_eq!(
            store
                .write(&late, &ServingChange::Unchanged, &b)
                .await
                .unwrap(),
            Written::Fenced
        );
        assert_eq!(store.get("shop", "production", "d2").await.unwrap(), None);
        store.release(&b).await.unwrap();
        assert!(
            store
                .acquire("shop", "production", "worker-d", ttl)
                .await
                .unwrap()
                .is_none(),
            "a fenced-out holder's release does not free the new holder's lease"
        );

        let mut second = record("d2", "bbb", Outcome::InProgress, "");
        second.attempts = 1;
        store
            .write(&second, &ServingChange::Unchanged, &c)
            .await
            .unwrap();
        second.attempts = 2;
        assert_eq!(
            store
                .write(&second, &ServingChange::Unchanged, &c)
                .await
                .unwrap(),
            Written::Written,
            "a push still in progress may be taken up again"
        );
        let failed = record("d2", "bbb", Outcome::DeployFailed, "2026-11-30T10:02:00Z");
        store
            .write(&failed, &ServingChange::Unchanged, &c)
            .await
            .unwrap();

        let history = store.history("shop", "production").await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(
            newest_good(history, "bbb").map(|r| r.sha),
            Some("aaa".into())
        );

        let envs = store.environments().await.unwrap();
        let prod = envs.iter().find(|e| e.environment == "production").unwrap();
        assert_eq!(prod.lease_owner.as_deref(), Some("worker-c"));
        assert_eq!(prod.token, c.token);
        assert_eq!(prod.serving.as_ref().map(|s| s.sha.as_str()), Some("aaa"));
        store.release(&c).await.unwrap();
        store.release(&other).await.unwrap();
        let envs = store.environments().await.unwrap();
        assert!(envs.iter().all(|e| e.lease_owner.is_none()), "{envs:?}");

        assert_eq!(store.decision("shop", "ccc").await.unwrap(), None);
        let rejected = Decision {
            approved: false,
            by: "user:bob".into(),
            at: "2026-12-01T10:00:00Z".into(),
        };
        store.decide("shop", "ccc", &rejected).await.unwrap();
        assert_eq!(store.decision("shop", "ccc").await.unwrap(), Some(rejected));
        // Approved after, in the same second: the later decision stands.
        let approved = Decision {
            approved: true,
            by: "user:alice".into(),
            at: "2026-12-01T10:00:00Z".into(),
        };
        store.decide("shop", "ccc", &approved).await.unwrap();
        assert_eq!(store.decision("shop", "ccc").await.unwrap(), Some(approved));
        assert_eq!(store.decision("other", "ccc").await.unwrap(), None);
    }
}
