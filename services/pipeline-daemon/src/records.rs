//! Deployment records: one per (project, environment, SHA), written when a
//! push's pipeline starts and updated when it ends. They make a redelivered
//! push a no-op once it succeeded, and they are where a rollback finds the
//! last good image. Two stores keep them behind one interface, with the same
//! semantics: DynamoDB on the ECS target ([`crate::deployments`]) and an
//! embedded SQLite file on the Docker-host target ([`crate::records_sqlite`]).

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
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub project: String,
    pub environment: String,
    pub sha: String,
    pub image: String,
    pub digest: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    pub reason: String,
}

impl Record {
    /// A record for a pipeline starting now.
    pub fn start(project: &str, environment: &str, sha: &str) -> Record {
        Record {
            project: project.to_owned(),
            environment: environment.to_owned(),
            sha: sha.to_owned(),
            image: String::new(),
            digest: String::new(),
            started_at: crate::events::now_rfc3339(),
            finished_at: String::new(),
            outcome: Outcome::InProgress,
            reason: String::new(),
        }
    }
}

/// Where deployment records are kept.
#[async_trait]
pub trait Records: Send + Sync {
    /// Prepares the store (creates the table when missing).
    async fn ensure(&self) -> Result<(), RecordError>;

    /// The record of `sha` in (`project`, `environment`), if any.
    async fn get(
        &self,
        project: &str,
        environment: &str,
        sha: &str,
    ) -> Result<Option<Record>, RecordError>;

    /// Writes `record` whole (a new pipeline run for its SHA, or its end).
    async fn put(&self, record: &Record) -> Result<(), RecordError>;

    /// The newest succeeded deployment of (`project`, `environment`) other
    /// than `except_sha`: what a rollback returns to.
    async fn last_good(
        &self,
        project: &str,
        environment: &str,
        except_sha: &str,
    ) -> Result<Option<Record>, RecordError>;
}

/// The newest of `records` a rollback may return to.
pub fn newest_good(records: impl IntoIterator<Item = Record>, except_sha: &str) -> Option<Record> {
    records
        .into_iter()
        .filter(|r| r.outcome == Outcome::Succeeded && r.sha != except_sha)
        .max_by(|a, b| a.finished_at.cmp(&b.finished_at))
}
