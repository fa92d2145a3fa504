//! Kafka through rdkafka: the producer behind the webhook and the worker's
//! events, and the topics the
//! daemon needs (created at start when missing: tansu and many clusters do
//! not create topics on first use).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::Kafka;
use crate::events::{Event, EventSink};
use crate::push::{Push, SIGNATURE_HEADER};
use crate::webhook::PushSink;

/// How long a produce may wait for the broker before the delivery is refused
/// (and GitHub retries it).
pub const PRODUCE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn producer(kafka: &Kafka) -> Result<FutureProducer, String> {
    ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("acks", "all")
        .set(
            "message.timeout.ms",
            PRODUCE_TIMEOUT.as_millis().to_string(),
        )
        .create()
        .map_err(|e| format!("Kafka producer for {}: {e}", kafka.brokers))
}

/// Creates the push, events and dead-letter topics if they do not exist.
pub async fn ensure_topics(kafka: &Kafka) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .map_err(|e| format!("Kafka admin client for {}: {e}", kafka.brokers))?;
    let topics = [
        NewTopic::new(
            &kafka.push_topic,
            kafka.partitions,
            TopicReplication::Fixed(1),
        ),
        NewTopic::new(&kafka.events_topic, 1, TopicReplication::Fixed(1)),
        NewTopic::new(&kafka.dlq_topic, 1, TopicReplication::Fixed(1)),
    ];
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&topics, &opts)
        .await
        .map_err(|e| format!("creating topics on {}: {e}", kafka.brokers))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("creating topic {topic}: {code}")),
        }
    }
    Ok(())
}

/// The webhook's sink: the push topic.
pub struct KafkaSink {
    pub producer: FutureProducer,
    pub topic: String,
}

#[async_trait::async_trait]
impl PushSink for KafkaSink {
    async fn send(&self, key: &str, payload: Vec<u8>, signature: String) -> Result<(), String> {
        let headers = OwnedHeaders::new().insert(Header {
            key: SIGNATURE_HEADER,
            value: Some(&signature),
        });
        self.producer
            .send(
                FutureRecord::to(&self.topic)
                    .key(key)
                    .payload(&payload)
                    .headers(headers),
                PRODUCE_TIMEOUT,
            )
            .await
            .map(|_| ())
            .map_err(|(e, _)| e.to_string())
    }
}

/// Signs `push` with `key` and queues it, as the webhook would.
pub async fn queue(sink: &dyn PushSink, push: &Push, key: &[u8]) -> Result<(), String> {
    let (payload, signature) = push.signed_message(key);
    sink.send(&push.repository, payload, signature).await
}

/// The worker's events: the events topic, keyed by project. A broker that
/// refuses an event is asked again a few times (each event has an id for
/// readers to drop a repeat by); an event still refused is logged, never a
/// reason to stop a deployment.
pub struct KafkaEvents {
    pub producer: FutureProducer,
    pub topic: String,
}

#[async_trait::async_trait]
impl EventSink for KafkaEvents {
    async fn emit(&self, event: &Event) {
        let payload = serde_json::to_vec(event).unwrap_or_default();
        let send = || async {
            let record = FutureRecord::to(&self.topic)
                .key(&event.project)
                .payload(&payload);
            self.producer
                .send(record, PRODUCE_TIMEOUT)
                .await
                .map_err(|(e, _)| e)
        };
        if let Err(e) = crate::retry::transient("publishing an event", send).await {
            tracing::error!(event = event.kind.name(), error = %e, "could not publish the event");
        }
    }

    fn publish(&self, event: &Event) {
        let payload = serde_json::to_vec(event).unwrap_or_default();
        let record = FutureRecord::to(&self.topic)
            .key(&event.project)
            .payload(&payload);
        // The delivery future is dropped: librdkafka still delivers it.
        if let Err((e, _)) = self.producer.send_result(record) {
            tracing::debug!(event = event.kind.name(), error = %e, "could not queue the event");
        }
    }
}
