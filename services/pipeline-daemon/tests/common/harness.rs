//! A whole pipeline on loopback for one test: a bare git repository with the
//! example app (examples/app with examples/pipeline/deploy) standing in for GitHub, topics,
//! consumer group, DynamoDB table and project name of the test's own, and
//! the real `dumcel-pipeline` binary against tansu, moto, dockerd and the
//! local registry (all started by dev/test.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;

use dumcel_pipeline::push::{Action, PUSH_SCHEMA_VERSION, Push, SIGNATURE_HEADER};
use rdkafka::message::{Header, OwnedHeaders};

pub const REGISTRY: &str = "127.0.0.1:5000";

/// The key the test's webhook, workers and commands sign push messages with.
pub const SIGNING_KEY: &str = "pipeline-test-signing-key-0123456789";

/// A message for the push topic: its payload and `dumcel-signature` header.
pub struct Message {
    pub payload: Vec<u8>,
    pub signature: Option<String>,
}

impl Message {
    pub fn signed(push: &Push, key: &[u8]) -> Message {
        let (payload, signature) = push.signed_message(key);
        Message {
            payload,
            signature: Some(signature),
        }
    }

    pub fn unsigned(payload: &[u8]) -> Message {
        Message {
            payload: payload.to_vec(),
            signature: None,
        }
    }
}

pub fn broker() -> String {
    let addr = std::env::var("DUMCEL_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into());
    assert!(
        addr.starts_with("127."),
        "DUMCEL_KAFKA must be on loopback: {addr}"
    );
    assert!(
        std::net::TcpStream::connect(&addr).is_ok(),
        "no Kafka broker on {addr}: start one with dev/services/kafka.sh (dev/test.sh does)"
    );
    addr
}

/// A new bucket (named after `prefix`) in moto's S3, and a client for it.
pub async fn new_bucket(prefix: &str) -> (aws_sdk_s3::Client, String) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127."),
        "AWS_ENDPOINT_URL must point at moto on loopback (dev/test.sh sets it): {endpoint:?}"
    );
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .build(),
    );
    let bucket = unique(prefix).to_ascii_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    (s3, bucket)
}

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Delivers `body` to the webhook as GitHub would, signed with `secret`;
/// the HTTP status.
pub async fn deliver(port: u16, secret: &[u8], delivery: &str, body: &[u8]) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/webhook"))
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            dumcel_pipeline::signature::sign(secret, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A daemon process, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until a line of the log satisfies `line` (panics with the log
    /// after `within`).
    pub fn log_until(&self, within: Duration, line: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + within;
        while !self.log().lines().any(&line) {
            assert!(Instant::now() < deadline, "{}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM, then its exit status (within `within`).
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon ignored SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `daemon` listens on `port`; panics with its log if it exits.
pub fn wait_for_port(port: u16, daemon: &mut Daemon) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!("the daemon exited at start: {status}\n{}", daemon.log());
        }
        assert!(
            Instant::now() < deadline,
            "nothing listened on {port}:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "dumcel test")
        .env("GIT_AUTHOR_EMAIL", "test@dumcel.invalid")
        .env("GIT_COMMITTER_NAME", "dumcel test")
        .env("GIT_COMMITTER_EMAIL", "test@dumcel.invalid")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A file of the project's examples/ directory.
fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(path)
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    /// Short and unique: AWS names are `<project>-<environment>`.
    pub project: String,
    /// On ECS: the name of the platform stack (examples/pipeline/platform)
    /// this harness applied, whose ALB, HTTPS listener and ECS cluster every
    /// environment of the project shares.
    pub platform: Option<String>,
    pub repository: String,
    pub bare: PathBuf,
    work: PathBuf,
    pub config: PathBuf,
    pub topic: String,
    pub table: String,
    brokers: String,
    workers: usize,
}

/// Where the harness's daemon deploys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// ECS on moto: examples/pipeline/deploy, domain apps.test.
    Ecs,
    /// This Docker engine behind the router: examples/pipeline/deploy-docker,
    /// domain localhost.
    Docker,
}

impl Harness {
    /// On ECS; `extra` is added to the daemon's configuration (top-level settings).
    pub fn new(extra: &str) -> Harness {
        Harness::on(Target::Ecs, extra)
    }

    pub fn on(target: Target, extra: &str) -> Harness {
        Harness::build(target, extra, broker(), unique("dumcel.push.worker"))
    }

    /// On the broker at `brokers` (not the shared one of dev/test.sh).
    pub fn on_broker(target: Target, extra: &str, brokers: &str) -> Harness {
        Harness::build(
            target,
            extra,
            brokers.to_owned(),
            unique("dumcel.push.worker"),
        )
    }

    /// Another project on `with`'s broker and push topic (its own
    /// configuration is not used: add it to `with`'s with `add_repository`).
    pub fn sharing(with: &Harness, target: Target) -> Harness {
        Harness::build(target, "", with.brokers.clone(), with.topic.clone())
    }

    /// Makes `other`'s repository one of this daemon's.
    pub fn add_repository(&self, other: &Harness) {
        let mut text = std::fs::read_to_string(&self.config).unwrap();
        text.push_str(&format!(
            "repository \"{}\" {{\n  stack     = \"deploy\"\n  previews  = true\n  clone_url = \"{}\"\n}}\n",
            other.repository,
            other.bare.display()
        ));
        std::fs::write(&self.config, text).unwrap();
    }

    fn build(target: Target, extra: &str, brokers: String, topic: String) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let project = format!(
            "p{:x}",
            (nanos ^ u128::from(std::process::id())) % 0xffff_ffff
        );
        let repository = format!("dumcel-test/{project}");
        let bare = dir.path().join("origin.git");
        let work = dir.path().join("work");
        git(dir.path(), &["init", "--quiet", "--bare", "origin.git"]);
        git(dir.path(), &["init", "--quiet", "-b", "main", "work"]);
        std::fs::create_dir_all(work.join("www")).unwrap();
        std::fs::create_dir_all(work.join("deploy")).unwrap();
        std::fs::copy(example("app/Dockerfile"), work.join("Dockerfile")).unwrap();
        std::fs::copy(example("app/www/index.html"), work.join("www/index.html")).unwrap();
        let (stack_example, target_name, domain) = match target {
            Target::Ecs => ("pipeline/deploy/stack.hcl", "ecs", "apps.test"),
            Target::Docker => ("pipeline/deploy-docker/stack.hcl", "docker", "localhost"),
        };
        let platform = (target == Target::Ecs).then(|| apply_platform(dir.path(), &project));
        let mut stack = std::fs::read_to_string(example(stack_example))
            .unwrap()
            .replace("default = \"shop\"", &format!("default = \"{project}\""));
        if let Some(platform) = &platform {
            // The platform the environments find their ALB and cluster in.
            let default = "default     = \"apps\"";
            assert!(
                stack.contains(default),
                "{stack_example} has no `platform` variable defaulting to \"apps\""
            );
            stack = stack.replace(default, &format!("default     = \"{platform}\""));
        }
        std::fs::write(work.join("deploy/stack.hcl"), stack).unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "--quiet", "-m", "the app"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        git(&work, &["push", "--quiet", "origin", "main"]);

        let table = unique("deployments");
        let config = dir.path().join("pipeline.hcl");
        let work_dir = dir.path().join("daemon");
        std::fs::write(
            &config,
            format!(
                r#"
target = "{target_name}"
kafka {{
  brokers      = "{brokers}"
  group        = "{topic}.group"
  push_topic   = "{topic}"
  events_topic = "{topic}.events"
  dlq_topic    = "{topic}.dlq"
}}
domain                = "{domain}"
deployments_table     = "{table}"
rollout_timeout       = "60s"
lease_ttl             = "4s"
registry_endpoint     = "{REGISTRY}"
work_dir              = "{work_dir}"
{extra}
repository "{repository}" {{
  stack     = "deploy"
  previews  = true
  clone_url = "{bare}"
}}
"#,
                work_dir = work_dir.display(),
                bare = bare.display(),
            ),
        )
        .unwrap();
        Harness {
            dir,
            project,
            platform,
            repository,
            bare,
            work,
            config,
            topic,
            table,
            brokers,
            workers: 0,
        }
    }

    /// Commits `content` to `file` on `branch` (made from main when new) and
    /// pushes it; the commit's SHA.
    pub fn commit(&self, branch: &str, file: &str, content: &str) -> String {
        git(&self.work, &["checkout", "--quiet", "-B", branch]);
        let path = self.work.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "--quiet", "-m", file]);
        git(
            &self.work,
            &["push", "--quiet", "--force", "origin", branch],
        );
        let sha = git(&self.work, &["rev-parse", "HEAD"]);
        git(&self.work, &["checkout", "--quiet", "main"]);
        sha
    }

    /// Changes the daemon's configuration file: `from` becomes `to`.
    pub fn edit_config(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        assert!(text.contains(from), "{from:?} is not in the configuration");
        std::fs::write(&self.config, text.replace(from, to)).unwrap();
    }

    /// Makes the broker expire a silent worker's membership after 6 s instead
    /// of librdkafka's 45: a killed or frozen worker's partitions move on
    /// sooner. The same kills, rebalances and fencing happen, in less time.
    pub fn expire_members_quickly(&self) {
        self.set_consumer_properties(&[
            ("session.timeout.ms", "6000"),
            ("heartbeat.interval.ms", "1000"),
        ]);
    }

    /// Sets the daemon's `kafka { consumer_properties = { ... } }`.
    pub fn set_consumer_properties(&self, properties: &[(&str, &str)]) {
        let lines: String = properties
            .iter()
            .map(|(k, v)| format!("\n    \"{k}\" = \"{v}\""))
            .collect();
        self.edit_config(
            "kafka {",
            &format!("kafka {{\n  consumer_properties = {{{lines}\n  }}"),
        );
    }

    /// Commits to main a Dockerfile with a step that takes `seconds`, never
    /// served from the build cache of an earlier run (the project name is in
    /// it); its SHA.
    pub fn commit_slow_build(&self, seconds: u32) -> String {
        let dockerfile = std::fs::read_to_string(self.work.join("Dockerfile")).unwrap();
        let step = format!(
            "COPY www /www\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"sleep {seconds}; echo {}\"]",
            self.project
        );
        self.commit(
            "main",
            "Dockerfile",
            &dockerfile.replace("COPY www /www", &step),
        )
    }

    pub fn head(&self) -> String {
        git(&self.work, &["rev-parse", "main"])
    }

    pub fn delete_branch(&self, branch: &str) {
        git(
            &self.work,
            &["push", "--quiet", "origin", &format!(":{branch}")],
        );
    }

    /// A push as the webhook queues it, with a delivery id of its own.
    pub fn push_of(&self, branch: &str, sha: &str, deleted: bool) -> Push {
        Push {
            schema_version: PUSH_SCHEMA_VERSION,
            delivery: unique("delivery"),
            repository: self.repository.clone(),
            branch: branch.to_owned(),
            sha: sha.to_owned(),
            deleted,
            action: Action::Push,
            message: "a test's push".to_owned(),
            pusher: "user:dumcel-test".to_owned(),
        }
    }

    /// A push message as the webhook queues it, signed.
    pub fn push(&self, branch: &str, sha: &str, deleted: bool) -> Message {
        Message::signed(&self.push_of(branch, sha, deleted), SIGNING_KEY.as_bytes())
    }

    /// Produces `message` on the push topic, keyed by the repository.
    pub async fn produce(&self, message: &Message) {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .create()
            .unwrap();
        self.create_topics().await;
        let mut record = FutureRecord::to(&self.topic)
            .key(&self.repository)
            .payload(&message.payload);
        if let Some(signature) = &message.signature {
            record = record.headers(OwnedHeaders::new().insert(Header {
                key: SIGNATURE_HEADER,
                value: Some(signature),
            }));
        }
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .expect("produce to the push topic");
    }

    async fn create_topics(&self) {
        let kafka = dumcel_pipeline::config::Config::load(&self.config)
            .unwrap()
            .kafka;
        dumcel_pipeline::kafka::ensure_topics(&kafka).await.unwrap();
    }

    /// Starts `dumcel-pipeline SUBCOMMAND --config ...` with `env`.
    pub fn daemon(&mut self, subcommand: &str, env: &[(&str, &str)]) -> Daemon {
        self.workers += 1;
        let log = self
            .dir
            .path()
            .join(format!("{subcommand}-{}.log", self.workers));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dumcel-pipeline"));
        cmd.args([subcommand, "--config"])
            .arg(&self.config)
            .env("DUMCEL_LOG", "info")
            .env("DUMCEL_PUSH_SIGNING_KEY", SIGNING_KEY)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    /// Runs `dumcel-pipeline SUBCOMMAND --config ... ARGS` to its end: its
    /// exit status and what it printed.
    pub fn command(&self, subcommand: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_dumcel-pipeline"))
            .args([subcommand, "--config"])
            .arg(&self.config)
            .args(args)
            .env("DUMCEL_PUSH_SIGNING_KEY", SIGNING_KEY)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Points `branch` at `sha` with a force-push (undoing later commits).
    pub fn reset_branch(&self, branch: &str, sha: &str) {
        git(
            &self.work,
            &[
                "push",
                "--quiet",
                "--force",
                "origin",
                &format!("{sha}:refs/heads/{branch}"),
            ],
        );
    }

    /// Commits `files` (path, content) and symlinks `links` (path, target)
    /// on `branch` (made from main when new); the commit's SHA.
    pub fn commit_files(
        &self,
        branch: &str,
        files: &[(&str, &str)],
        links: &[(&str, &Path)],
    ) -> String {
        git(&self.work, &["checkout", "--quiet", "-B", branch]);
        for (file, content) in files {
            let path = self.work.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        for (link, target) in links {
            let path = self.work.join(link);
            let _ = std::fs::remove_file(&path);
            std::os::unix::fs::symlink(target, path).unwrap();
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "--quiet", "-m", "files"]);
        git(
            &self.work,
            &["push", "--quiet", "--force", "origin", branch],
        );
        let sha = git(&self.work, &["rev-parse", "HEAD"]);
        git(&self.work, &["checkout", "--quiet", "main"]);
        sha
    }

    /// The file of the stack the example app deploys with.
    pub fn stack_text(&self) -> String {
        std::fs::read_to_string(self.work.join("deploy/stack.hcl")).unwrap()
    }

    pub fn worker(&mut self) -> Daemon {
        self.daemon("worker", &[])
    }

    /// Every message on `topic` so far (from its start).
    fn read_all(&self, topic: &str) -> Vec<Value> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", unique("test-reader"))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let mut out = Vec::new();
        let mut quiet = 0;
        // Stop after a few empty polls once something arrived, or after a
        // few seconds of nothing.
        let started = Instant::now();
        let waiting = |out: &Vec<Value>| {
            let waited = started.elapsed();
            waited < Duration::from_secs(60) && (!out.is_empty() || waited < Duration::from_secs(5))
        };
        while waiting(&out) && quiet < 3 {
            match consumer.poll(Duration::from_millis(300)) {
                Some(Ok(m)) => {
                    quiet = 0;
                    if let Some(v) = m.payload().and_then(|p| serde_json::from_slice(p).ok()) {
                        out.push(v);
                    }
                }
                Some(Err(_)) => {}
                None if !out.is_empty() => quiet += 1,
                None => {}
            }
        }
        out
    }

    /// Polls the events topic until `done` holds for this project's events
    /// (its steps: `build_log` lines and the `ended` summary that follows
    /// a push's last step are left out); panics with the events and
    /// `daemon`'s log after `timeout`.
    pub fn events_until(
        &self,
        daemon: &Daemon,
        timeout: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let events: Vec<Value> = self
                .read_all(&format!("{}.events", self.topic))
                .into_iter()
                .filter(|e| {
                    e["project"] == self.project.as_str()
                        && e["event"] != "build_log"
                        && e["event"] != "ended"
                })
                .collect();
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; events so far:\n{}\nworker log:\n{}",
                events
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Every event of every project on this daemon's events topic.
    pub fn all_events(&self) -> Vec<Value> {
        self.read_all(&format!("{}.events", self.topic))
    }

    /// The steps on the events topic: its events, the first of each id.
    /// Events are at-least-once (a push redone after its worker died
    /// publishes its steps again, under the same ids).
    pub fn all_steps(&self) -> Vec<Value> {
        let mut seen = std::collections::HashSet::new();
        self.all_events()
            .into_iter()
            .filter(|e| seen.insert(e["id"].as_str().unwrap_or_default().to_owned()))
            .collect()
    }

    /// Every message on this daemon's push topic.
    pub fn queued_pushes(&self) -> Vec<Value> {
        self.read_all(&self.topic)
    }

    pub fn dead_letters(&self) -> Vec<Value> {
        self.read_all(&format!("{}.dlq", self.topic))
    }

    pub async fn aws(&self) -> aws_config::SdkConfig {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            endpoint.starts_with("http://127."),
            "AWS_ENDPOINT_URL must point at moto on loopback (dev/test.sh sets it): {endpoint:?}"
        );
        aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
    }

    /// The ECS cluster and service name of `environment`: the service
    /// `<project>-<environment>` in the platform's cluster.
    pub fn ecs_service(&self, environment: &str) -> (String, String) {
        let cluster = self
            .platform
            .clone()
            .expect("an ECS harness (Harness::new) has a platform");
        (cluster, format!("{}-{environment}", self.project))
    }

    /// The host names the rules on the platform's shared HTTPS listener
    /// serve, sorted: one per environment deployed on it.
    pub async fn served_hosts(&self) -> Vec<String> {
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&self.aws().await);
        let platform = self
            .platform
            .as_deref()
            .expect("an ECS harness (Harness::new) has a platform");
        let lbs = elb
            .describe_load_balancers()
            .names(platform)
            .send()
            .await
            .expect("the platform's ALB");
        let lb = lbs.load_balancers()[0].load_balancer_arn().unwrap();
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .unwrap();
        let https = listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(443))
            .expect("the platform's HTTPS listener");
        let rules = elb
            .describe_rules()
            .listener_arn(https.listener_arn().unwrap())
            .send()
            .await
            .unwrap();
        let mut hosts: Vec<String> = rules
            .rules()
            .iter()
            .flat_map(|r| r.conditions())
            .filter_map(|c| c.host_header_config())
            .flat_map(|h| h.values().to_vec())
            .collect();
        hosts.sort();
        hosts
    }

    /// Whether the environment's ECS service is active in the platform's cluster.
    pub async fn service_active(&self, environment: &str) -> bool {
        let ecs = aws_sdk_ecs::Client::new(&self.aws().await);
        let (cluster, service) = self.ecs_service(environment);
        ecs.describe_services()
            .cluster(&cluster)
            .services(&service)
            .send()
            .await
            .map(|s| s.services().iter().any(|s| s.status() == Some("ACTIVE")))
            .unwrap_or(false)
    }

    /// The image the environment's ECS service runs (through its task
    /// definition), and the task definition's ARN.
    pub async fn running_image(&self, environment: &str) -> (String, String) {
        let ecs = aws_sdk_ecs::Client::new(&self.aws().await);
        let (cluster, service) = self.ecs_service(environment);
        let svc = ecs
            .describe_services()
            .cluster(&cluster)
            .services(&service)
            .send()
            .await
            .unwrap();
        let td = svc.services()[0].task_definition().unwrap().to_owned();
        let def = ecs
            .describe_task_definition()
            .task_definition(&td)
            .send()
            .await
            .unwrap();
        let image = def.task_definition().unwrap().container_definitions()[0]
            .image()
            .unwrap()
            .to_owned();
        (image, td)
    }

    /// The push records of `environment` (SHA, outcome, image), sorted.
    pub async fn records(&self, environment: &str) -> Vec<(String, String, String)> {
        self.records_of(&self.project, environment).await
    }

    /// The push records of another project this daemon deploys (see
    /// `add_repository`), in this daemon's table.
    pub async fn records_of(
        &self,
        project: &str,
        environment: &str,
    ) -> Vec<(String, String, String)> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let ddb = aws_sdk_dynamodb::Client::new(&self.aws().await);
        let out = ddb
            .query()
            .table_name(&self.table)
            .key_condition_expression("environment_key = :k AND begins_with(#entry, :push)")
            .expression_attribute_names("#entry", "entry")
            .expression_attribute_values(
                ":k",
                AttributeValue::S(format!("{project}/{environment}")),
            )
            .expression_attribute_values(":push", AttributeValue::S("push#".into()))
            .send()
            .await
            .unwrap();
        let mut records = out
            .items()
            .iter()
            .map(|i| {
                let s = |n: &str| i[n].as_s().unwrap().clone();
                (s("sha"), s("outcome"), s("image"))
            })
            .collect::<Vec<_>>();
        records.sort();
        records
    }

    pub fn image(&self, sha: &str) -> String {
        format!("{REGISTRY}/{}:{sha}", self.project)
    }
}

/// The `dumcel` binary, built next to `dumcel-pipeline` (`cargo test
/// --workspace` builds both; with `--test NAME` alone, build it first with
/// `cargo build --workspace --bins`).
fn dumcel_binary() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_dumcel-pipeline")).with_file_name("dumcel");
    assert!(
        bin.exists(),
        "no dumcel binary at {}: build it with `cargo build --workspace --bins`",
        bin.display()
    );
    bin
}

/// Applies examples/pipeline/platform under a name of the test's own (the
/// shared ALB, HTTPS listener, wildcard certificate, zone and ECS cluster
/// the project's environments find with data sources), with the real
/// `dumcel` binary, its state in `dir/platform`; the platform's name. It is
/// left in moto at the end, as the environments are: destroying it would
/// need every environment on it destroyed first.
fn apply_platform(dir: &Path, project: &str) -> String {
    let name = format!("{project}-pf");
    let stack = dir.join("platform");
    std::fs::create_dir_all(&stack).unwrap();
    std::fs::copy(
        example("pipeline/platform/stack.hcl"),
        stack.join("stack.hcl"),
    )
    .unwrap();
    let out = Command::new(dumcel_binary())
        .arg(format!("-chdir={}", stack.display()))
        .args(["apply", "-auto-approve", "-input=false", "-no-color"])
        .args(["-var", &format!("name={name}"), "-var", "domain=apps.test"])
        .env_remove("DUMCEL_LOG")
        .output()
        .expect("run dumcel");
    assert!(
        out.status.success(),
        "applying the platform stack failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    name
}

/// The names of `events` for `sha`, in order.
pub fn names_for(events: &[Value], sha: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["sha"] == sha)
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .collect()
}

pub fn has(events: &[Value], sha: &str, name: &str) -> bool {
    names_for(events, sha).iter().any(|n| n == name)
}
