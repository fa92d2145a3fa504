//! `dumcel-pipeline worker`: the consumer loop. It reads the push topic in a
//! consumer group (cooperative-sticky assignment, automatic commits off),
//! checks each message's signature, hands the push to its lane (see
//! [`crate::lanes`], [`crate::lane`]), and commits a partition's offset only
//! up to the oldest push not yet done with (see [`crate::offsets`]).
//!
//! The loop never stops polling while pipelines run (they are tasks of
//! their own), so a long build or rollout never exceeds
//! `max.poll.interval.ms`. A partition with `max_in_flight` unfinished
//! pushes is paused, and resumed when one ends. When partitions are revoked
//! (another worker joined), their committable offsets are committed at once,
//! their waiting pushes dropped and their running pipelines stopped before
//! their deploy (a deploy in progress finishes under its lease; the next
//! owner finds its record). A message that cannot be processed goes to the
//! dead-letter topic with the reason. SIGTERM stops reading, stops pipelines
//! that have not started their deploy, waits for the deploys in progress
//! while it keeps polling (paused, so the group does not expel it), commits
//! and exits.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::config::{Config, Target};
use crate::deployments::Deployments;
use crate::environment::for_branch;
use crate::events::EventKind;
use crate::kafka::{KafkaEvents, PRODUCE_TIMEOUT, ensure_topics, producer};
use crate::lane::{self, Report};
use crate::lanes::{Admitted, At, LaneKey, Lanes};
use crate::offsets::Offsets;
use crate::pipeline::{Emitter, Ended, Job, Services};
use crate::push::{Push, SIGNATURE_HEADER};
use crate::records::Records;
use crate::records_sqlite::SqliteRecords;
use crate::registry::{Ecr, Registry};

/// Bumped on an incompatible change to a dead-letter message.
pub const DLQ_SCHEMA_VERSION: u32 = 1;

/// The record store of the configured target: DynamoDB on ECS, an SQLite
/// file in the work directory on a Docker host.
pub async fn records(config: &Config) -> Result<Arc<dyn Records>> {
    let records: Arc<dyn Records> = match config.target {
        Target::Docker => Arc::new(SqliteRecords::open(
            &config.work_dir.join("deployments.sqlite3"),
        )?),
        Target::Ecs => {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Arc::new(Deployments {
                client: aws_sdk_dynamodb::Client::new(&aws),
                table: config.deployments_table.clone(),
            })
        }
    };
    records.ensure().await.context("the deployment records")?;
    Ok(records)
}

/// The clients of the configured target. The Docker-host target needs no
/// AWS at all.
async fn services(config: Arc<Config>, producer: FutureProducer) -> Result<Services> {
    let events = Arc::new(KafkaEvents {
        producer,
        topic: config.kafka.events_topic.clone(),
    });
    let deployments = records(&config).await?;
    let registry = match config.target {
        Target::Docker => Registry::Open {
            endpoint: config.registry_endpoint.clone().unwrap_or_default(),
        },
        Target::Ecs => {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Registry::Ecr(Ecr {
                ecr: aws_sdk_ecr::Client::new(&aws),
                endpoint_override: config.registry_endpoint.clone(),
            })
        }
    };
    Ok(Services {
        deployments,
        registry,
        events,
        owner: owner_name(),
        build_logs: crate::build_log::Bucket::of(&config).await,
        config,
    })
}

/// `host:pid:random`: unique for every start of a worker.
fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// What the consumer's rebalance callbacks share with the loop.
struct Group {
    offsets: Mutex<Offsets>,
    topic: String,
    changes: mpsc::UnboundedSender<Change>,
}

enum Change {
    Revoked(Vec<i32>),
    Assigned(Vec<i32>),
}

fn partitions(tpl: &TopicPartitionList, topic: &str) -> Vec<i32> {
    tpl.elements_for_topic(topic)
        .iter()
        .map(|e| e.partition())
        .collect()
}

impl ClientContext for Group {}

impl ConsumerContext for Group {
    /// Runs on the polling thread before partitions go: what may be
    /// committed for them is committed now, while they are still ours.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let revoked = partitions(tpl, &self.topic);
        let points = {
            let mut offsets = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
            let points = offsets.to_commit(Some(&revoked));
            for p in &revoked {
                offsets.forget(*p);
            }
            points
        };
        tracing::info!(?revoked, "partitions revoked");
        if !points.is_empty() {
            let tpl = commit_list(&self.topic, &points);
            if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
                tracing::warn!(error = %e, "committing revoked partitions");
            }
        }
        let _ = self.changes.send(Change::Revoked(revoked));
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let assigned = partitions(tpl, &self.topic);
            tracing::info!(?assigned, "partitions assigned");
            let _ = self.changes.send(Change::Assigned(assigned));
        }
    }
}

fn commit_list(topic: &str, points: &[(i32, i64)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for &(partition, offset) in points {
        if let Err(e) = tpl.add_partition_offset(topic, partition, Offset::Offset(offset)) {
            tracing::warn!(partition, offset, error = %e, "cannot commit");
        }
    }
    tpl
}

pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let config = Arc::new(config);
    let key = config.signing_key().map_err(anyhow::Error::msg)?;
    ensure_topics(&config.kafka)
        .await
        .map_err(anyhow::Error::msg)?;
    let producer = producer(&config.kafka).map_err(anyhow::Error::msg)?;
    let services = Arc::new(services(config.clone(), producer.clone()).await?);
    crate::notify::spawn(config.clone()).map_err(anyhow::Error::msg)?;

    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("group.id", &config.kafka.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Joining or leaving moves only the partitions that must move:
        // pipelines on the others go on undisturbed.
        .set("partition.assignment.strategy", "cooperative-sticky")
        // A push should not sit in the broker waiting for a fuller fetch:
        // librdkafka's default lets a fetch wait 500 ms for more data.
        .set("fetch.wait.max.ms", "50");
    for (k, v) in &config.kafka.consumer_properties {
        client.set(k, v);
    }
    let (changes_tx, changes) = mpsc::unbounded_channel();
    let group = Group {
        offsets: Mutex::new(Offsets::default()),
        topic: config.kafka.push_topic.clone(),
        changes: changes_tx,
    };
    let consumer: StreamConsumer<Group> = client
        .create_with_context(group)
        .with_context(|| format!("Kafka consumer for {}", config.kafka.brokers))?;
    consumer
        .subscribe(&[&config.kafka.push_topic])
        .with_context(|| format!("subscribing to {}", config.kafka.push_topic))?;
    tracing::info!(
        topic = %config.kafka.push_topic,
        group = %config.kafka.group,
        owner = %services.owner,
        "worker consuming"
    );

    let (reports_tx, reports) = mpsc::unbounded_channel();
    let mut worker = Worker {
        config: config.clone(),
        key,
        services,
        consumer,
        producer,
        lanes: Lanes::default(),
        paused: BTreeSet::new(),
        assigned: BTreeSet::new(),
        running: 0,
        reports_tx,
    };
    let mut reports = reports;
    let mut changes = changes;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(c) = changes.recv() => worker.on_change(c),
            Some(r) = reports.recv() => worker.on_report(r).await?,
            msg = worker.consumer.recv() => match msg {
                Ok(m) => {
                    let at = (m.partition(), m.offset());
                    let queued_at_ms = m.timestamp().to_millis();
                    let signature = m.headers().and_then(|h| {
                        h.iter().find(|h| h.key == SIGNATURE_HEADER).and_then(|h| h.value.map(<[u8]>::to_vec))
                    });
                    let (key, payload) = (m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec));
                    drop(m);
                    worker.on_message(at, queued_at_ms, key, payload, signature).await?;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the push topic");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            },
        }
        worker.commit(CommitMode::Async);
    }

    worker.lanes.stop(None);
    worker.pause_all();
    tracing::info!(
        lanes = worker.running,
        "stopping: waiting for the deploys in progress"
    );
    while worker.running > 0 {
        tokio::select! {
            Some(r) = reports.recv() => worker.on_report(r).await?,
            Some(c) = changes.recv() => worker.on_change(c),
            // Polling goes on (nothing arrives: every partition is paused)
            // so that the group does not expel this worker meanwhile.
            msg = worker.consumer.recv() => if let Err(e) = msg {
                tracing::warn!(error = %e, "reading the push topic while stopping");
            },
        }
        worker.commit(CommitMode::Async);
    }
    worker.commit(CommitMode::Sync);
    tracing::info!("worker stopped");
    Ok(())
}

struct Worker {
    config: Arc<Config>,
    key: Vec<u8>,
    services: Arc<Services>,
    consumer: StreamConsumer<Group>,
    producer: FutureProducer,
    lanes: Lanes,
    paused: BTreeSet<i32>,
    assigned: BTreeSet<i32>,
    /// Lane tasks alive.
    running: usize,
    reports_tx: mpsc::UnboundedSender<Report>,
}

impl Worker {
    fn offsets(&self) -> std::sync::MutexGuard<'_, Offsets> {
        self.consumer
            .context()
            .offsets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn on_change(&mut self, change: Change) {
        match change {
            Change::Revoked(partitions) => {
                self.lanes.stop(Some(&partitions));
                for p in &partitions {
                    self.assigned.remove(p);
                    self.paused.remove(p);
                }
            }
            Change::Assigned(partitions) => {
                self.lanes.assigned(&partitions);
                self.assigned.extend(partitions);
            }
        }
    }

    async fn on_message(
        &mut self,
        at: At,
        queued_at_ms: Option<i64>,
        key: Option<Vec<u8>>,
        payload: Option<Vec<u8>>,
        signature: Option<Vec<u8>>,
    ) -> Result<()> {
        self.offsets().read(at.0, at.1);
        let payload = payload.unwrap_or_default();
        let push = match Push::from_signed(&payload, signature.as_deref(), &self.key) {
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
            self.offsets().done(at.0, at.1);
            return Ok(());
        };
        let job = Job {
            push,
            repo,
            env,
            queued_at_ms,
        };
        match self.lanes.admit(job.clone(), at) {
            Admitted::Start(lane) => {
                self.running += 1;
                let key = LaneKey::of(&job);
                tokio::spawn(lane::run(
                    self.services.clone(),
                    key,
                    lane,
                    self.reports_tx.clone(),
                ));
            }
            Admitted::Queued => {}
            Admitted::Duplicate => {
                Emitter {
                    services: &self.services,
                    job: &job,
                }
                .emit(EventKind::Skipped {
                    reason: "a duplicate delivery of a push being handled".into(),
                })
                .await;
                self.offsets().done(at.0, at.1);
            }
        }
        if self.offsets().open(at.0) >= self.config.max_in_flight && self.paused.insert(at.0) {
            tracing::info!(
                partition = at.0,
                "pausing the partition: too many pushes in flight"
            );
            self.set_paused(at.0, true);
        }
        Ok(())
    }

    async fn on_report(&mut self, report: Report) -> Result<()> {
        let (job, at, ended) = match report {
            Report::Closed => {
                self.running -= 1;
                self.lanes.prune();
                return Ok(());
            }
            Report::Ended { job, at, ended } => (job, at, ended),
        };
        tracing::info!(project = %job.repo.project, environment = %job.env.name, sha = %job.push.sha, delivery = %job.push.delivery, ended = ?ended, "push ended");
        if let Ended::GaveUp(reason) = &ended {
            let (payload, _) = job.push.signed_message(&self.key);
            let key = Some(job.push.repository.as_bytes().to_vec());
            return self.dead_letter(at, key, &payload, reason.clone()).await;
        }
        if ended.is_final() {
            self.offsets().done(at.0, at.1);
        }
        let open = self.offsets().open(at.0);
        if self.paused.contains(&at.0) && open < self.config.max_in_flight {
            self.paused.remove(&at.0);
            tracing::info!(partition = at.0, "resuming the partition");
            self.set_paused(at.0, false);
        }
        Ok(())
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

    fn pause_all(&self) {
        match self.consumer.assignment() {
            Ok(tpl) => {
                if let Err(e) = self.consumer.pause(&tpl) {
                    tracing::warn!(error = %e, "could not pause the partitions");
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the assignment"),
        }
    }

    fn commit(&mut self, mode: CommitMode) {
        // Only partitions this worker owns: a revoked one is its next owner's.
        let owned: Vec<i32> = self.assigned.iter().copied().collect();
        let points = self.offsets().to_commit(Some(&owned));
        if points.is_empty() {
            return;
        }
        let tpl = commit_list(&self.config.kafka.push_topic, &points);
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
        self.offsets().done(at.0, at.1);
        Ok(())
    }
}
