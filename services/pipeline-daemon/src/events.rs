//! What the worker tells the world: one JSON event per step on the events
//! topic, keyed by project so that one project's events stay in order. The
//! README's "Pipeline events" section documents every field.

use serde::Serialize;

/// Bumped on an incompatible change to [`Event`].
pub const EVENT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub schema_version: u32,
    /// The same for every publication of the same step of the same push:
    /// events are at-least-once (a worker killed between an event and the
    /// push's record redoes the push and publishes its steps again), and a
    /// consumer that counts steps keeps one event per id. See [`Event::id`].
    pub id: String,
    pub project: String,
    /// `production` or `preview-<branch>`.
    pub environment: String,
    pub branch: String,
    pub sha: String,
    /// GitHub's delivery id of the push.
    pub delivery: String,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Cloned,
    BuildStarted {
        image: String,
    },
    /// One line of the image build's output, as it happens.
    BuildLog {
        line: String,
    },
    BuildSucceeded {
        image: String,
    },
    BuildFailed {
        /// The Dockerfile step that failed (`Step 2/3 : RUN make`), when the
        /// build got that far.
        step: Option<String>,
        reason: String,
    },
    ImagePushed {
        image: String,
        digest: String,
    },
    DeployStarted {
        image: String,
        workspace: String,
    },
    DeploySucceeded {
        image: String,
        digest: String,
        /// The ECS services and containers the stack runs, by address.
        services: Vec<String>,
    },
    DeployFailed {
        reason: String,
    },
    RolledBack {
        /// The image running again: the last good deployment's.
        to_image: String,
        to_sha: String,
        reason: String,
    },
    PreviewDestroyed,
    /// A newer push to the same environment replaced this one before its deploy.
    Superseded {
        by_sha: String,
    },
    /// Nothing to do: this SHA is already deployed here, or it is a
    /// duplicate of the push being handled.
    Skipped {
        reason: String,
    },
    /// The branch changes the stack: its plan waits for a person's approval.
    AwaitingApproval {
        /// The plan's summary line (`Plan: 1 to add, ...`).
        summary: String,
    },
    /// The push's last event, published once its record holds the outcome
    /// (and again, under the same id, whenever the push is seen after, so
    /// that a worker dying between the two loses nothing).
    Ended {
        /// The record's outcome: `succeeded`, `build_failed`,
        /// `deploy_failed`, `rolled_back`, `superseded`, `destroyed` or
        /// `skipped`.
        outcome: String,
        reason: String,
        image: String,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Cloned => "cloned",
            EventKind::BuildStarted { .. } => "build_started",
            EventKind::BuildLog { .. } => "build_log",
            EventKind::BuildSucceeded { .. } => "build_succeeded",
            EventKind::BuildFailed { .. } => "build_failed",
            EventKind::ImagePushed { .. } => "image_pushed",
            EventKind::DeployStarted { .. } => "deploy_started",
            EventKind::DeploySucceeded { .. } => "deploy_succeeded",
            EventKind::DeployFailed { .. } => "deploy_failed",
            EventKind::RolledBack { .. } => "rolled_back",
            EventKind::PreviewDestroyed => "preview_destroyed",
            EventKind::Superseded { .. } => "superseded",
            EventKind::Skipped { .. } => "skipped",
            EventKind::AwaitingApproval { .. } => "awaiting_approval",
            EventKind::Ended { .. } => "ended",
        }
    }
}

/// Where events go (the events topic; see `worker.rs`).
#[async_trait::async_trait]
pub trait EventSink: Send + Sync {
    /// Publishes `event`, waiting until the broker has it.
    async fn emit(&self, event: &Event);

    /// Queues `event` without waiting for the broker: for build log lines,
    /// where waiting would slow the build (and with it the whole push) and
    /// a lost line matters little.
    fn publish(&self, event: &Event);
}

impl Event {
    /// `<delivery>:<event>`, and for a build log line
    /// `<delivery>:build_log:<attempt>.<line>` (every attempt's log is
    /// kept; its lines are numbered from 1).
    pub fn id(delivery: &str, kind: &EventKind, line: Option<(u32, u64)>) -> String {
        match line {
            Some((attempt, n)) => format!("{delivery}:{}:{attempt}.{n}", kind.name()),
            None => format!("{delivery}:{}", kind.name()),
        }
    }
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_flat_json_with_their_name_and_version() {
        let kind = EventKind::BuildFailed {
            step: Some("Step 2/3 : RUN false".into()),
            reason: "exit code 1".into(),
        };
        let e = Event {
            schema_version: EVENT_SCHEMA_VERSION,
            id: Event::id("d-1", &kind, None),
            project: "shop".into(),
            environment: "production".into(),
            branch: "main".into(),
            sha: "a".repeat(40),
            delivery: "d-1".into(),
            at: "2026-11-23T10:00:00Z".into(),
            kind,
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "build_failed");
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["step"], "Step 2/3 : RUN false");
        assert_eq!(v["project"], "shop");
        assert_eq!(v["id"], "d-1:build_failed");
        assert_eq!(e.kind.name(), "build_failed");
    }
}
