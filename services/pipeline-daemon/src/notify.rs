//! Notifications: a repository's `notify` block names a Slack-compatible
//! incoming webhook that is told how each of its pushes ended.
//!
//! ```hcl
//! repository "octo/app" {
//!   notify {
//!     url_env = "DUMCEL_NOTIFY_APP"   # the variable holding the webhook URL (a secret)
//!     on      = ["succeeded", "build_failed", "deploy_failed", "rolled_back", "awaiting_approval"]   # the default
//!   }
//! }
//! ```
//!
//! Every worker runs a notifier; they share one consumer group on the events
//! topic, so each `ended` event is posted by one of them. The offset is
//! committed after the post (or after giving up on it), so a notifier killed
//! in between posts that message again: notifications are at-least-once,
//! like the events they come from, and a repeat within one notifier's life
//! is recognised by the event's id and not posted. A group that has never
//! committed starts at the topic's end: history is not replayed.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, ClientContext};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Config;

/// The outcomes a `notify` block may name (a record's, see
/// [`crate::records::Outcome`]).
pub const OUTCOMES: [&str; 7] = [
    "succeeded",
    "build_failed",
    "deploy_failed",
    "rolled_back",
    "superseded",
    "destroyed",
    "awaiting_approval",
];

const DEFAULT_ON: [&str; 5] = [
    "succeeded",
    "build_failed",
    "deploy_failed",
    "rolled_back",
    "awaiting_approval",
];

/// How long one post may take, and how many tries it gets.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
const POST_TRIES: usize = 3;
/// How many event ids a notifier remembers to skip repeats.
const REMEMBERED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// The environment variable holding the webhook URL.
    pub url_env: String,
    /// The outcomes that are posted.
    pub on: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    url_env: String,
    on: Option<Vec<String>>,
}

impl RawNotify {
    pub(crate) fn parse(self) -> Result<Notify, String> {
        if self.url_env.is_empty() {
            return Err("notify.url_env is empty: name the environment variable holding the webhook URL (the URL is a secret, so it is not written in the file)".into());
        }
        let on = self
            .on
            .unwrap_or_else(|| DEFAULT_ON.map(str::to_owned).to_vec());
        if let Some(bad) = on.iter().find(|o| !OUTCOMES.contains(&o.as_str())) {
            return Err(format!(
                "notify.on: {bad:?} is not an outcome; use any of {}",
                OUTCOMES.join(", ")
            ));
        }
        Ok(Notify {
            url_env: self.url_env,
            on,
        })
    }
}

/// The message posted for an `ended` event of `config`'s repositories;
/// `None` when the event is not one, or its repository does not want it.
/// The returned URL is the webhook's.
pub fn message(config: &Config, event: &Value) -> Option<(String, Value)> {
    if event.get("event")?.as_str()? != "ended" {
        return None;
    }
    let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or_default();
    let project = field("project");
    let repo = config
        .repositories
        .values()
        .find(|r| r.project == project)?;
    let notify = repo.notify.as_ref()?;
    let outcome = field("outcome");
    if !notify.on.iter().any(|o| o == outcome) {
        return None;
    }
    let url = std::env::var(&notify.url_env)
        .ok()
        .filter(|u| !u.is_empty())?;
    let (environment, branch) = (field("environment"), field("branch"));
    let sha: String = field("sha").chars().take(7).collect();
    let what = match outcome {
        "succeeded" => "deployed",
        "build_failed" => "build failed for",
        "deploy_failed" => "deploy failed for",
        "rolled_back" => "rolled back from",
        "superseded" => "superseded",
        "destroyed" => "destroyed the preview at",
        "awaiting_approval" => "a stack change waits for approval at",
        _ => outcome,
    };
    let mut text = format!("*{project}* {environment}: {what} `{sha}` ({branch})");
    let host = crate::environment::for_branch(config, repo, branch).and_then(|e| e.host);
    if let (Some(host), "succeeded") = (host, outcome) {
        let link = config
            .api
            .as_ref()
            .map_or_else(|| format!("https://{host}/"), |api| api.url_of(&host));
        text.push_str(&format!(" <{link}|{host}>"));
    }
    let reason = field("reason");
    if !reason.is_empty() {
        text.push_str(&format!("\n> {}", reason.replace('\n', "\n> ")));
    }
    Some((url, json!({ "text": text })))
}

/// Posts `body` to `url`, a few times if it fails. Errors never name the
/// URL: it is a secret.
async fn post(client: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..POST_TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
        }
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            // A client error will not pass on a retry.
            Ok(r) if r.status().is_client_error() => {
                return Err(format!("the webhook answered {}", r.status()));
            }
            Ok(r) => last = format!("the webhook answered {}", r.status()),
            Err(e) => last = e.without_url().to_string(),
        }
    }
    Err(last)
}

/// Runs the notifier until the process ends, when any repository has a
/// `notify` block. An unset URL variable is an error here, at start, rather
/// than a notification silently never sent.
pub fn spawn(config: Arc<Config>) -> Result<(), String> {
    let mut wanted = config
        .repositories
        .iter()
        .filter_map(|(name, r)| Some((name, r.notify.as_ref()?)))
        .peekable();
    if wanted.peek().is_none() {
        return Ok(());
    }
    for (name, notify) in wanted {
        if std::env::var(&notify.url_env).is_ok_and(|u| u.starts_with("http")) {
            continue;
        }
        return Err(format!(
            "repository {name:?}: notify.url_env names {}, which does not hold a webhook URL: export it (https://...) or remove the notify block",
            notify.url_env
        ));
    }
    let kafka = &config.kafka;
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", format!("{}.notify", kafka.group))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "latest");
    for (k, v) in &kafka.consumer_properties {
        client.set(k, v);
    }
    let consumer: StreamConsumer<Following> = client
        .create_with_context(Following)
        .map_err(|e| format!("Kafka consumer for {}: {e}", kafka.brokers))?;
    consumer
        .subscribe(&[&kafka.events_topic])
        .map_err(|e| format!("subscribing to {}: {e}", kafka.events_topic))?;
    let client = dumcel_provider_docker::http_client(POST_TIMEOUT)?;
    tokio::spawn(async move {
        let mut seen = Remembered::default();
        loop {
            let message = match consumer.recv().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier: reading the events topic");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let event: Option<Value> = message
                .payload()
                .and_then(|p| serde_json::from_slice(p).ok());
            if let Some(event) = event
                && let Some((url, body)) = message_of(&config, &event, &mut seen)
            {
                let project = event["project"].as_str().unwrap_or_default();
                match post(&client, &url, &body).await {
                    Ok(()) => tracing::info!(%project, id = %event["id"], "notified"),
                    Err(e) => {
                        tracing::warn!(%project, id = %event["id"], error = %e, "could not notify")
                    }
                }
            }
            if let Err(e) = consumer.commit_message(&message, CommitMode::Async) {
                tracing::warn!(error = %e, "notifier: committing its offset");
            }
        }
    });
    Ok(())
}

/// Says when this notifier gets the events topic: from then on, the pushes
/// that end are posted (by this worker or the one that had it).
struct Following;

impl ClientContext for Following {}

impl ConsumerContext for Following {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance
            && tpl.count() > 0
        {
            tracing::info!("notifier following the events topic");
        }
    }
}

/// [`message`], unless the event's id was posted before.
fn message_of(config: &Config, event: &Value, seen: &mut Remembered) -> Option<(String, Value)> {
    let found = message(config, event)?;
    let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
    seen.first_time(id).then_some(found)
}

/// The last [`REMEMBERED`] ids.
#[derive(Default)]
struct Remembered {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Remembered {
    fn first_time(&mut self, id: &str) -> bool {
        if id.is_empty() {
            return true;
        }
        if !self.ids.insert(id.to_owned()) {
            return false;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(notify: &str) -> Result<Config, String> {
        let text = format!(
            "target = \"ecs\"\nkafka {{\n  brokers = \"127.0.0.1:9092\"\n}}\ndomain = \"apps.test\"\nrepository \"octo/app\" {{\n  previews = true\n{notify}}}\n"
        );
        Config::parse("d.hcl", &text).map_err(|e| e.to_string())
    }

    fn ended(outcome: &str, branch: &str, environment: &str) -> Value {
        json!({"id": "d-1:ended", "event": "ended", "project": "app",
            "environment": environment, "branch": branch, "sha": "0123456789abcdef",
            "delivery": "d-1", "outcome": outcome,
            "reason": if outcome == "succeeded" { "" } else { "health check failed\nexit 1" },
            "image": "r/app:0123456789abcdef"})
    }

    #[test]
    fn a_notify_block_names_its_variable_and_known_outcomes() {
        let c = config("  notify {\n    url_env = \"HOOK\"\n  }\n").unwrap();
        let n = c.repositories["octo/app"].notify.clone().unwrap();
        assert_eq!(n.url_env, "HOOK");
        assert_eq!(n.on, DEFAULT_ON);
        let e =
            config("  notify {\n    url_env = \"HOOK\"\n    on = [\"failed\"]\n  }\n").unwrap_err();
        assert!(
            e.starts_with("d.hcl:8: repository \"octo/app\": notify.on: \"failed\" is not an outcome; use any of succeeded,"),
            "{e}"
        );
        let e = config("  notify {\n    url_env = \"\"\n  }\n").unwrap_err();
        assert!(e.contains("notify.url_env is empty"), "{e}");
        let e = config("  notify {\n    url = \"https://x\"\n  }\n").unwrap_err();
        assert!(e.contains("unknown field `url`"), "{e}");
    }

    #[test]
    fn an_ended_push_becomes_one_slack_message_for_the_outcomes_asked_for() {
        // A variable of this test's own: tests run in parallel threads.
        let var = "DUMCEL_TEST_NOTIFY_HOOK";
        // SAFETY: no other test reads or writes this variable.
        unsafe { std::env::set_var(var, "http://127.0.0.1:9/hook") };
        let c = config(&format!(
            "  notify {{\n    url_env = \"{var}\"\n    on = [\"succeeded\", \"rolled_back\", \"awaiting_approval\"]\n  }}\n"
        ))
        .unwrap();
        let (url, body) = message(&c, &ended("succeeded", "main", "production")).unwrap();
        assert_eq!(url, "http://127.0.0.1:9/hook");
        assert_eq!(
            body,
            json!({"text": "*app* production: deployed `0123456` (main) <https://app.apps.test/|app.apps.test>"})
        );
        let (_, body) =
            message(&c, &ended("rolled_back", "feature/x", "preview-feature-x")).unwrap();
        assert_eq!(
            body["text"],
            "*app* preview-feature-x: rolled back from `0123456` (feature/x)\n> health check failed\n> exit 1"
        );
        let (_, body) = message(
            &c,
            &ended("awaiting_approval", "feature/x", "preview-feature-x"),
        )
        .unwrap();
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("*app* preview-feature-x: a stack change waits for approval at `0123456` (feature/x)"),
            "{body}"
        );
        assert!(message(&c, &ended("deploy_failed", "main", "production")).is_none());
        let mut other = ended("succeeded", "main", "production");
        other["project"] = json!("other");
        assert!(message(&c, &other).is_none());
        let mut step = ended("succeeded", "main", "production");
        step["event"] = json!("deploy_succeeded");
        assert!(message(&c, &step).is_none());

        let mut seen = Remembered::default();
        let event = ended("succeeded", "main", "production");
        assert!(message_of(&c, &event, &mut seen).is_some());
        assert!(message_of(&c, &event, &mut seen).is_none(), "a repeat");
    }
}
