//! `dumcel-pipeline worker`: the consumer loop. It reads the push topic in a
//! consumer group with automatic commits off, runs one pipeline per push in
//! its lane (see [`crate::lanes`]), and commits a partition's offset only up
//! to the oldest push not yet done with (see [`crate::offsets`]).
//!
//! The loop never stops polling while pipelines run (they are tasks of
//! their own), so a long build or rollout never exceeds
//! `max.poll.interval.ms` and never triggers a rebalance. A partition with
//! `max_in_flight` unfinished pushes is paused, and resumed when one ends.
//! A message that cannot be processed goes to the dead-letter topic with the
//! reason. SIGTERM stops reading, stops pipelines that have not started
//! their deploy (their pushes stay uncommitted and come back after a
//! restart), waits for the deploys in progress, commits and exits.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use anyhow::{Context, Result};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::config::Target;
use crate::deployments::Deployments;
use crate::environment::for_branch;
use crate::events::EventKind;
use crate::kafka::{KafkaEvents, PRODUCE_TIMEOUT, ensure_topics, producer};
use crate::lanes::{Admitted, At, LaneKey, Lanes};
use crate::offsets::Offsets;
use crate::pipeline::{self, Emitter, Ended, Job, RolloutClients, Services, Stop};
use crate::push::Push;
use crate::records_sqlite::SqliteRecords;
use crate::registry::{Ecr, Registry};

/// Bumped on an incompatible change to a dead-letter message.
pub const DLQ_SCHEMA_VERSION: u32 = 1;

/// A pipeline's end, sent back to the loop.
struct Finished {
    key: LaneKey,
    sha: String,
    at: At,
    ended: Ended,
}

/// The clients of the configured target. The Docker-host target needs no
/// AWS at all: its records are an SQLite file in the work directory.
async fn services(config: Arc<Config>, producer: FutureProducer) -> Result<Services> {
    let events = Arc::new(KafkaEvents {
        producer,
        topic: config.kafka.events_topic.clone(),
    });
    let services = match config.target {
        Target::Docker => Services {
            deployments: Arc::new(SqliteRecords::open(
                &config.work_dir.join("deployments.sqlite3"),
            )?),
            registry: Registry::Open {
                endpoint: config.registry_endpoint.clone().unwrap_or_default(),
            },
            rollout: RolloutClients::Docker,
            events,
            config,
        },
        Target::Ecs => {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Services {
                deployments: Arc::new(Deployments {
                    client: aws_sdk_dynamodb::Client::new(&aws),
                    table: config.deployments_table.clone(),
                }),
                registry: Registry::Ecr(Ecr {
                    ecr: aws_sdk_ecr::Client::new(&aws),
                    endpoint_override: config.registry_endpoint.clone(),
                }),
                rollout: RolloutClients::Ecs {
                    ecs: aws_sdk_ecs::Client::new(&aws),
                    elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&aws),
                },
                events,
                config,
            }
        }
    };
    services
        .deployments
        .ensure()
        .await
        .context("the deployment records")?;
    Ok(services)
}

pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let config = Arc::new(config);
    ensure_topics(&config.kafka)
        .await
        .map_err(anyhow::Error::msg)?;
    let producer = producer(&config.kafka).map_err(anyhow::Error::msg)?;
    let services = Arc::new(services(config.clone(), producer.clone()).await?);

    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("group.id", &config.kafka.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // A push should not sit in the broker waiting for a fuller fetch:
        // librdkafka's default lets a fetch wait 500 ms for more data.
        .set("fetch.wait.max.ms", "50");
    for (k, v) in &config.kafka.consumer_properties {
        client.set(k, v);
    }
    let consumer: StreamConsumer = client
        .create()
        .with_context(|| format!("Kafka consumer for {}", config.kafka.brokers))?;
    consumer
        .subscribe(&[&config.kafka.push_topic])
        .with_context(|| format!("subscribing to {}", config.kafka.push_topic))?;
    tracing::info!(
        topic = %config.kafka.push_topic,
        group = %config.kafka.group,
        "worker consuming"
    );

    let mut worker = Worker {
        config: config.clone(),
        services,
        consumer,
        producer,
        lanes: Lanes::default(),
        offsets: Offsets::default(),
        paused: BTreeSet::new(),
        running: 0,
        finished: mpsc::unbounded_channel(),
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(f) = worker.finished.1.recv() => worker.on_finished(f),
            msg = worker.consumer.recv() => match msg {
                Ok(m) => {
                    let (p, o) = (m.partition(), m.offset());
                    let queued_at_ms = m.timestamp().to_millis();
                    let (key, payload) = (m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec));
                    drop(m);
                    worker.on_message((p, o), queued_at_ms, key, payload).await?;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the push topic");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            },
        }
        worker.commit(CommitMode::Async);
    }

    let running = worker.lanes.shut_down();
    tracing::info!(running, "stopping: waiting for the pipelines in progress");
    while worker.running > 0 {
        match worker.finished.1.recv().await {
            Some(f) => worker.on_finished(f),
            None => break,
        }
    }
    worker.commit(CommitMode::Sync);
    tracing::info!("worker stopped");
    Ok(())
}

struct Worker {
    config: Arc<Config>,
    services: Arc<Services>,
    consumer: StreamConsumer,
    producer: FutureProducer,
    lanes: Lanes,
    offsets: Offsets,
    paused: BTreeSet<i32>,
    running: usize,
    finished: (
        mpsc::UnboundedSender<Finished>,
        mpsc::UnboundedReceiver<Finished>,
    ),
}

impl Worker {
    async fn on_message(
        &mut self,
        at: At,
        queued_at_ms: Option<i64>,
        key: Option<Vec<u8>>,
        payload: Option<Vec<u8>>,
    ) -> Result<()> {
        self.offsets.read(at.0, at.1);
        let payload = payload.unwrap_or_default();
        let push = match Push::from_message(&payload) {
            Ok(p) => p,
            Err(e) => return self.dead_letter(at, key, &payload, e.to_string()).await,
        };
        let Some(repo) = self.config.repositories.get(&push.repository).cloned() else {
            let reason = format!(
                "repository {} is not configured in this worker (add a `repository \"{}\"` block)",
                push.repository, push.repository
            );
            return self.dead_letter(at, key, &payload, reason).await;
        };
        let Some(env) = for_branch(&self.config, &repo, &push.branch) else {
            tracing::info!(repository = %push.repository, branch = %push.branch, "not a deployed branch");
            self.offsets.done(at.0, at.1);
            return Ok(());
        };
        let job = Job {
            push,
            repo,
            env,
            queued_at_ms,
        };
        match self.lanes.admit(job.clone(), at) {
            Admitted::Start(stop) => self.spawn(job, at, stop),
            Admitted::Duplicate => {
                let emitter = Emitter {
                    services: &self.services,
                    job: &job,
                };
                emitter
                    .emit(EventKind::Skipped {
                        reason: "a duplicate delivery of the push being handled".into(),
                    })
                    .await;
                self.offsets.done(at.0, at.1);
            }
            Admitted::Waiting { replaced } => {
                if let Some(replaced) = replaced {
                    let (old, old_at) = *replaced;
                    let emitter = Emitter {
                        services: &self.services,
                        job: &old,
                    };
                    emitter
                        .emit(EventKind::Superseded {
                            by_sha: job.push.sha.clone(),
                        })
                        .await;
                    self.offsets.done(old_at.0, old_at.1);
                }
            }
        }
        if self.offsets.open(at.0) >= self.config.max_in_flight && self.paused.insert(at.0) {
            tracing::info!(
                partition = at.0,
                "pausing the partition: too many pushes in flight"
            );
            self.set_paused(at.0, true);
        }
        Ok(())
    }

    fn spawn(&mut self, job: Job, at: At, stop: tokio::sync::watch::Receiver<Stop>) {
        self.running += 1;
        let services = self.services.clone();
        let tx = self.finished.0.clone();
        tokio::spawn(async move {
            let key = LaneKey::of(&job);
            let ended = pipeline::run(&services, &job, stop).await;
            let _ = tx.send(Finished {
                key,
                sha: job.push.sha,
                at,
                ended,
            });
        });
    }

    fn on_finished(&mut self, f: Finished) {
        tracing::info!(project = %f.key.project, environment = %f.key.environment, sha = %f.sha, ended = ?f.ended, "pipeline ended");
        self.running -= 1;
        if f.ended.is_final() {
            self.offsets.done(f.at.0, f.at.1);
        }
        if let Some((job, at, stop)) = self.lanes.finished(&f.key) {
            self.spawn(job, at, stop);
        }
        if self.paused.contains(&f.at.0) && self.offsets.open(f.at.0) < self.config.max_in_flight {
            self.paused.remove(&f.at.0);
            tracing::info!(partition = f.at.0, "resuming the partition");
            self.set_paused(f.at.0, false);
        }
    }

    fn set_paused(&self, partition: i32, pause: bool) {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.config.kafka.push_topic, partition);
        let done = if pause {
            self.consumer.pause(&tpl)
        } else {
            self.consumer.resume(&tpl)
        };
        if let Err(e) = done {
            tracing::warn!(partition, pause, error = %e, "could not pause or resume");
        }
    }

    fn commit(&mut self, mode: CommitMode) {
        let points = self.offsets.to_commit();
        if points.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (partition, offset) in points {
            if let Err(e) = tpl.add_partition_offset(
                &self.config.kafka.push_topic,
                partition,
                Offset::Offset(offset),
            ) {
                tracing::warn!(partition, offset, error = %e, "cannot commit");
            }
        }
        if let Err(e) = self.consumer.commit(&tpl, mode) {
            tracing::warn!(error = %e, "committing offsets");
        }
    }

    /// Sends a message the worker cannot process to the dead-letter topic,
    /// with why; it is done with once the broker has it.
    async fn dead_letter(
        &mut self,
        at: At,
        key: Option<Vec<u8>>,
        payload: &[u8],
        reason: String,
    ) -> Result<()> {
        tracing::warn!(partition = at.0, offset = at.1, %reason, "dead-lettering a push message");
        let letter = serde_json::json!({
            "schema_version": DLQ_SCHEMA_VERSION,
            "reason": reason,
            "topic": self.config.kafka.push_topic,
            "partition": at.0,
            "offset": at.1,
            "payload": String::from_utf8_lossy(payload),
        });
        let body = letter.to_string();
        let mut record = FutureRecord::to(&self.config.kafka.dlq_topic).payload(&body);
        if let Some(k) = &key {
            record = record.key(k);
        }
        self.producer
            .send(record, PRODUCE_TIMEOUT)
            .await
            .map_err(|(e, _)| e)
            .with_context(|| {
                format!(
                    "sending a message to the dead-letter topic {} (the worker stops so that the message is read again after a restart)",
                    self.config.kafka.dlq_topic
                )
            })?;
        self.offsets.done(at.0, at.1);
        Ok(())
    }
}
