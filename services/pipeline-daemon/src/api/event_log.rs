//! The pipeline's events as the API serves them: every event on the events
//! topic, read from its start when `serve` starts and followed after, kept
//! in memory per deployment (the oldest dropped past a bound) and handed to
//! live subscribers as it arrives. The topic stays the record; this is an
//! index of it.
//!
//! Events are untrusted input: a message that is not a JSON object naming
//! its project, delivery and event is skipped. They are shown only to
//! callers who may see the project they name. Events are at-least-once: one
//! whose `id` was seen before (the same step of the same push published
//! again) is dropped here, so each step shows once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::config::Kafka;

/// How many events are kept in memory; older ones are dropped first.
pub const KEPT: usize = 100_000;

/// One event, as the worker published it.
#[derive(Debug)]
pub struct Entry {
    /// Its place in this process's log, counted from 1.
    pub seq: u64,
    pub project: String,
    pub delivery: String,
    /// `deploy_succeeded`, `build_started`, ...
    pub name: String,
    pub event: Value,
}

/// What [`EventLog::ingest`] made of a message.
#[derive(Debug)]
pub enum Ingested {
    Added(Arc<Entry>),
    /// An event whose id is already kept.
    Repeat,
    NotAnEvent,
}

#[derive(Default)]
struct Stored {
    seq: u64,
    /// The worker's ids of the kept events.
    ids: HashSet<String>,
    by_delivery: HashMap<(String, String), VecDeque<Arc<Entry>>>,
    order: VecDeque<Arc<Entry>>,
}

pub struct EventLog {
    stored: Mutex<Stored>,
    live: broadcast::Sender<Arc<Entry>>,
    kept: usize,
    /// Names this process's log in event ids, so that a client resuming
    /// with an id from an earlier process gets nothing replayed (its
    /// numbers meant other events).
    instance: String,
}

impl EventLog {
    pub fn new(kept: usize) -> EventLog {
        EventLog {
            stored: Mutex::default(),
            live: broadcast::channel(1024).0,
            kept: kept.max(1),
            instance: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        }
    }

    fn stored(&self) -> std::sync::MutexGuard<'_, Stored> {
        // A panic while holding the lock cannot leave Stored half-changed
        // in a way that matters to readers: keep serving.
        self.stored.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds one message of the events topic.
    pub fn ingest(&self, payload: &[u8]) -> Ingested {
        let Ok(event) = serde_json::from_slice::<Value>(payload) else {
            return Ingested::NotAnEvent;
        };
        let field = |name: &str| event.get(name)?.as_str().map(str::to_owned);
        let (Some(project), Some(delivery), Some(name)) =
            (field("project"), field("delivery"), field("event"))
        else {
            return Ingested::NotAnEvent;
        };
        let mut stored = self.stored();
        if let Some(id) = field("id")
            && !stored.ids.insert(id)
        {
            return Ingested::Repeat;
        }
        stored.seq += 1;
        let entry = Arc::new(Entry {
            seq: stored.seq,
            project,
            delivery,
            name,
            event,
        });
        let key = (entry.project.clone(), entry.delivery.clone());
        stored
            .by_delivery
            .entry(key)
            .or_default()
            .push_back(entry.clone());
        stored.order.push_back(entry.clone());
        while stored.order.len() > self.kept {
            let Some(old) = stored.order.pop_front() else {
                break;
            };
            if let Some(id) = old.event.get("id").and_then(Value::as_str) {
                stored.ids.remove(id);
            }
            let key = (old.project.clone(), old.delivery.clone());
            if let Some(list) = stored.by_delivery.get_mut(&key) {
                list.pop_front();
                if list.is_empty() {
                    stored.by_delivery.remove(&key);
                }
            }
        }
        drop(stored);
        // Nobody listening is fine.
        let _ = self.live.send(entry.clone());
        Ingested::Added(entry)
    }

    /// The events of one deployment, in order.
    pub fn of_deployment(&self, project: &str, delivery: &str) -> Vec<Arc<Entry>> {
        self.stored()
            .by_delivery
            .get(&(project.to_owned(), delivery.to_owned()))
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Subscribes to what arrives from now on, with the project's events
    /// that arrived after `last_id` (an id this log gave out; any other
    /// replays nothing) and the number of the last one already stored.
    pub fn follow(
        &self,
        project: &str,
        last_id: Option<&str>,
    ) -> (broadcast::Receiver<Arc<Entry>>, Vec<Arc<Entry>>, u64) {
        let stored = self.stored();
        // Subscribed under the lock: nothing arrives between the two.
        let live = self.live.subscribe();
        let after = last_id.and_then(|id| self.seq_of(id));
        let replay = match after {
            Some(after) => stored
                .order
                .iter()
                .filter(|e| e.seq > after && e.project == project)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        (live, replay, stored.seq)
    }

    /// The id a client resumes from: `<instance>.<seq>`.
    pub fn id(&self, entry: &Entry) -> String {
        format!("{}.{}", self.instance, entry.seq)
    }

    fn seq_of(&self, id: &str) -> Option<u64> {
        let (instance, seq) = id.split_once('.')?;
        (instance == self.instance).then(|| seq.parse().ok())?
    }
}

/// Reads the events topic from its start into `log`, then follows it,
/// until the process ends. Errors are logged and retried: the API keeps
/// serving what it has.
pub async fn follow_topic(log: Arc<EventLog>, kafka: Kafka) -> Result<(), String> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        // A group of its own: every `serve` reads every event, commits nothing.
        .set(
            "group.id",
            format!("{}.api-{}", kafka.group, uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|e| format!("Kafka consumer for {}: {e}", kafka.brokers))?;
    consumer
        .subscribe(&[&kafka.events_topic])
        .map_err(|e| format!("subscribing to {}: {e}", kafka.events_topic))?;
    tokio::spawn(async move {
        loop {
            match consumer.recv().await {
                Ok(message) => {
                    let ingested = message.payload().map(|p| log.ingest(p));
                    if matches!(ingested, None | Some(Ingested::NotAnEvent)) {
                        tracing::warn!(
                            topic = message.topic(),
                            offset = message.offset(),
                            "skipped a message of the events topic that is not an event"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the events topic");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(project: &str, delivery: &str, name: &str) -> Vec<u8> {
        serde_json::json!({"project": project, "delivery": delivery, "event": name})
            .to_string()
            .into_bytes()
    }

    fn added(log: &EventLog, payload: &[u8]) -> Arc<Entry> {
        match log.ingest(payload) {
            Ingested::Added(entry) => entry,
            other => panic!("not added: {other:?}"),
        }
    }

    #[test]
    fn a_step_published_again_shows_once() {
        let log = EventLog::new(2);
        let step = |id: &str, at: &str| {
            serde_json::json!({"id": id, "project": "p", "delivery": "d1",
                "event": "deploy_succeeded", "at": at})
            .to_string()
            .into_bytes()
        };
        added(&log, &step("d1:deploy_succeeded", "10:00"));
        assert!(matches!(
            log.ingest(&step("d1:deploy_succeeded", "10:01")),
            Ingested::Repeat
        ));
        let kept = log.of_deployment("p", "d1");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].event["at"], "10:00");
        // Once the first is dropped past the bound, its id is forgotten.
        added(&log, &event("p", "d2", "cloned"));
        added(&log, &event("p", "d3", "cloned"));
        added(&log, &step("d1:deploy_succeeded", "10:02"));
    }

    #[test]
    fn keeps_each_deployments_events_in_order_within_the_bound() {
        let log = EventLog::new(3);
        assert!(matches!(log.ingest(b"not json"), Ingested::NotAnEvent));
        assert!(matches!(
            log.ingest(br#"{"project": "p", "event": "cloned"}"#),
            Ingested::NotAnEvent
        ));
        for name in [
            "cloned",
            "build_started",
            "build_succeeded",
            "deploy_started",
        ] {
            added(&log, &event("p", "d1", name));
        }
        let names: Vec<String> = log
            .of_deployment("p", "d1")
            .iter()
            .map(|e| e.name.clone())
            .collect();
        assert_eq!(
            names,
            ["build_started", "build_succeeded", "deploy_started"]
        );
        assert!(log.of_deployment("q", "d1").is_empty());
    }

    #[test]
    fn a_follower_resumes_after_its_last_id_and_only_its_project() {
        let log = EventLog::new(100);
        let first = added(&log, &event("p", "d1", "cloned"));
        added(&log, &event("q", "d2", "cloned"));
        added(&log, &event("p", "d1", "build_started"));
        let (_, replay, last) = log.follow("p", Some(&log.id(&first)));
        assert_eq!(
            replay.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["build_started"]
        );
        assert_eq!(last, 3);
        assert!(log.follow("p", Some("other.1")).1.is_empty());
        assert!(log.follow("p", None).1.is_empty());
        let (mut live, _, _) = log.follow("p", None);
        added(&log, &event("p", "d1", "build_succeeded"));
        assert_eq!(live.try_recv().unwrap().name, "build_succeeded");
    }
}
