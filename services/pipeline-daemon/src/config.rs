//! The daemon's one HCL file: Kafka, the webhook, and the repositories it
//! deploys. Validated whole at start; every error names the file, the line
//! where it can be found, and what to change.
//!
//! ```hcl
//! kafka {
//!   brokers = "127.0.0.1:9092"
//!   group   = "dumcel-pipeline"
//!   signing_key_env = "DUMCEL_PUSH_SIGNING_KEY" # webhook signs, workers verify
//!   partitions      = 6  # of the push topic when the daemon creates it: workers share them
//! }
//! webhook {
//!   listen         = "127.0.0.1:8088"
//!   secret_env     = "DUMCEL_WEBHOOK_SECRET"
//!   max_body_bytes = 1048576
//!   max_connections = 256     # more wait in the listen backlog
//!   header_timeout  = "10s"   # a client must send its headers within this
//!   request_timeout = "30s"   # and its whole request within this (408)
//!   dedup_window    = "24h"   # a delivery id seen within it is not queued again
//! }
//! target            = "docker"                # or "ecs"; docker is the default
//! domain            = "apps.example.com"      # <project>.<domain>, previews <branch>--<project>.<domain>
//! deployments_table = "dumcel-deployments"    # ecs: DynamoDB; docker keeps records in work_dir
//! build_logs_bucket = "acme-build-logs"       # also keep build logs in S3 (workers elsewhere than `serve`)
//! rollout_timeout   = "10m"
//! lease_ttl         = "30s"                   # how long a dead worker holds an environment
//! max_attempts      = 3                       # then a push goes to the dead-letter topic
//! registry_endpoint = "127.0.0.1:5000"        # local runs: push here, not to ECR's host
//! work_dir          = "/var/lib/dumcel-pipeline"
//! roles {                                     # the IAM role each kind of environment's runs assume
//!   production = "arn:aws:iam::123456789012:role/deploy-production"
//!   preview    = "arn:aws:iam::123456789012:role/deploy-preview"   # every preview environment
//! }
//! repository "octo/app" {
//!   stack          = "deploy"
//!   default_branch = "main"
//!   previews       = true
//!   trust_branch_stacks = false # a branch that changes the stack waits for approval
//!   roles {                     # this repository's own, over the top-level ones
//!     production = "arn:aws:iam::210987654321:role/app-production"
//!   }
//! }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::access::{Access, RawAccess};
pub use crate::config_api::Api;
use crate::config_api::RawApi;
use crate::notify::{Notify, RawNotify};

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Where the pipeline deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Containers on this machine's Docker engine behind the router; images
    /// in `registry_endpoint`; records in `<work_dir>/deployments.sqlite3`.
    /// Needs no AWS account.
    Docker,
    /// ECS services behind an ALB; images in ECR; records in DynamoDB.
    Ecs,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub kafka: Kafka,
    pub webhook: Webhook,
    /// The DynamoDB table holding deployment records.
    pub deployments_table: String,
    /// An S3 bucket the worker also puts each build log in (see
    /// [`crate::build_log`]), for a `serve` on another machine.
    pub build_logs_bucket: Option<String>,
    /// Production is served at `<project>.<domain>`, a preview at
    /// `<branch>--<project>.<domain>`.
    pub domain: Option<String>,
    /// Passed to the stack as `rollout_timeout` (seconds): how long a new
    /// release may take to become healthy.
    pub rollout_timeout: Duration,
    /// Pushes go to this registry (`host[:port]`) instead of the ECR
    /// repository's own host; the ECR API still holds the repository and
    /// hands out the token. For local runs against a plain registry.
    pub registry_endpoint: Option<String>,
    /// Checkouts go to `<work_dir>/checkouts`, local state to `<work_dir>/state`.
    pub work_dir: PathBuf,
    /// A partition is paused while this many of its pushes are unfinished.
    pub max_in_flight: usize,
    /// How long an environment's lease lasts without renewal: how long a
    /// worker that died blocks the environment before another takes over.
    pub lease_ttl: Duration,
    /// How many times a push is started (its worker dying or a transient
    /// error ending the attempt) before it goes to the dead-letter topic.
    pub max_attempts: u32,
    /// The top-level `roles` block, as written; each repository's resolved
    /// roles are in [`Repository::roles`].
    pub roles: Roles,
    /// The `api` block: `dumcel-pipeline serve` needs it.
    pub api: Option<Api>,
    pub repositories: BTreeMap<String, Repository>,
}

/// The IAM roles a repository's pipeline runs assume (from the worker's own
/// credentials) for each kind of environment, so that a preview's role can
/// be one that cannot touch production. `None`: the worker's own credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub production: Option<String>,
    /// Every preview environment's.
    pub preview: Option<String>,
}

impl Roles {
    /// The role's ARN for a production (`preview == false`) or preview run.
    pub fn for_environment(&self, preview: bool) -> Option<&str> {
        if preview {
            self.preview.as_deref()
        } else {
            self.production.as_deref()
        }
    }

    /// `self`, each role `over` sets replaced by its.
    fn overridden_by(&self, over: Roles) -> Roles {
        Roles {
            production: over.production.or_else(|| self.production.clone()),
            preview: over.preview.or_else(|| self.preview.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Kafka {
    pub brokers: String,
    pub group: String,
    pub push_topic: String,
    pub events_topic: String,
    pub dlq_topic: String,
    /// The environment variable holding the key push messages are signed
    /// with: the webhook and the `dumcel-pipeline` commands sign, workers
    /// refuse anything unsigned.
    pub signing_key_env: String,
    /// How many partitions the push topic gets when the daemon creates it:
    /// how many workers can share the pushes (each repository's pushes stay
    /// in one partition, in order).
    pub partitions: i32,
    /// librdkafka properties for the worker's consumer
    /// (`session.timeout.ms`, `max.poll.interval.ms`, ...).
    pub consumer_properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub listen: SocketAddr,
    /// The name of the environment variable holding the secret: the secret
    /// itself never sits in the file.
    pub secret_env: String,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    /// How long a delivery id is remembered (GitHub redelivers with the same id).
    pub dedup_window: Duration,
}

#[derive(Debug, Clone)]
pub struct Repository {
    /// Name of the project: events, records and the ECS stack are keyed by it.
    pub project: String,
    /// The stack directory inside the repository.
    pub stack: PathBuf,
    pub default_branch: String,
    /// Whether pushes to other branches deploy preview environments.
    pub previews: bool,
    /// Where the worker fetches from: the configured `clone_url` (a mirror,
    /// GitHub Enterprise, a local path in tests), else GitHub's URL of the
    /// repository. Never the URL a push message carries: a forged message
    /// could point the worker, and the repository's token, elsewhere.
    pub clone_url: String,
    /// Environment variable holding a token for a private repository.
    pub token_env: Option<String>,
    /// The Dockerfile, relative to the repository's root.
    pub dockerfile: String,
    /// The ECR repository the images go to (created when missing).
    pub ecr_repository: String,
    /// Whether a branch's own stack deploys its preview at once. When false
    /// (the default), a preview push that changes the stack is planned and
    /// waits for a person to approve the commit (see [`crate::approval`]).
    pub trust_branch_stacks: bool,
    /// The roles its runs assume: its own `roles` block over the top-level one.
    pub roles: Roles,
    /// Who may see and steer it through the API (nobody when absent).
    pub access: Access,
    /// The webhook told how its pushes end (see [`crate::notify`]).
    pub notify: Option<Notify>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    target: Option<String>,
    kafka: Option<RawKafka>,
    webhook: Option<RawWebhook>,
    deployments_table: Option<String>,
    build_logs_bucket: Option<String>,
    domain: Option<String>,
    rollout_timeout: Option<String>,
    registry_endpoint: Option<String>,
    work_dir: Option<String>,
    max_in_flight: Option<usize>,
    lease_ttl: Option<String>,
    max_attempts: Option<u32>,
    roles: Option<RawRoles>,
    api: Option<RawApi>,
    #[serde(default)]
    repository: BTreeMap<String, RawRepository>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    production: Option<String>,
    preview: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKafka {
    brokers: String,
    group: Option<String>,
    push_topic: Option<String>,
    events_topic: Option<String>,
    dlq_topic: Option<String>,
    signing_key_env: Option<String>,
    partitions: Option<i32>,
    #[serde(default)]
    consumer_properties: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    listen: Option<String>,
    secret_env: Option<String>,
    max_body_bytes: Option<usize>,
    max_connections: Option<usize>,
    header_timeout: Option<String>,
    request_timeout: Option<String>,
    dedup_window: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepository {
    project: Option<String>,
    stack: Option<String>,
    default_branch: Option<String>,
    previews: Option<bool>,
    clone_url: Option<String>,
    token_env: Option<String>,
    dockerfile: Option<String>,
    ecr_repository: Option<String>,
    trust_branch_stacks: Option<bool>,
    roles: Option<RawRoles>,
    access: Option<RawAccess>,
    notify: Option<RawNotify>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: 0,
            message: format!("cannot read the daemon configuration: {e}"),
        })?;
        let mut config = Config::parse(&path.display().to_string(), &text)?;
        // A relative work_dir is relative to the file, not to wherever the
        // daemon was started.
        if config.work_dir.is_relative()
            && let Some(dir) = path.parent()
        {
            config.work_dir = dir.join(&config.work_dir);
        }
        Ok(config)
    }

    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let at = |needle: &str, message: String| ConfigError {
            file: file.to_owned(),
            line: line_of(text, needle),
            message,
        };
        let raw: Raw = hcl::from_str(text).map_err(|e| {
            // hcl-rs reports syntax errors with their position; serde errors
            // (an unknown or mistyped field) name the field.
            let message = e.to_string();
            let line = message
                .split_once("line ")
                .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            ConfigError {
                file: file.to_owned(),
                line,
                message: format!(
                    "{message}; see the example at the top of the pipeline daemon's README section"
                ),
            }
        })?;

        let kafka = raw.kafka.ok_or_else(|| {
            at(
                "",
                "a `kafka { brokers = \"host:port\" }` block is required".into(),
            )
        })?;
        if kafka.brokers.trim().is_empty() {
            return Err(at(
                "brokers",
                "kafka.brokers is empty: give `host:port[,host:port]`".into(),
            ));
        }
        let webhook = raw.webhook.unwrap_or(RawWebhook {
            listen: None,
            secret_env: None,
            max_body_bytes: None,
            max_connections: None,
            header_timeout: None,
            request_timeout: None,
            dedup_window: None,
        });
        let listen = listen(&at, "webhook.listen", webhook.listen, "127.0.0.1:8088")?;
        let secret_env = webhook
            .secret_env
            .unwrap_or_else(|| "DUMCEL_WEBHOOK_SECRET".into());
        let max_body_bytes = webhook.max_body_bytes.unwrap_or(1 << 20);
        if max_body_bytes == 0 {
            return Err(at(
                "max_body_bytes",
                "webhook.max_body_bytes must be above 0".into(),
            ));
        }
        let duration =
            |name: &str, value: Option<String>, default: u64| duration(&at, name, value, default);
        let rollout_timeout = duration("rollout_timeout", raw.rollout_timeout, 600)?;
        let header_timeout = duration("header_timeout", webhook.header_timeout, 10)?;
        let request_timeout = duration("request_timeout", webhook.request_timeout, 30)?;
        let dedup_window = duration("dedup_window", webhook.dedup_window, 24 * 3600)?;
        let max_connections = webhook.max_connections.unwrap_or(256);
        if max_connections == 0 {
            return Err(at(
                "max_connections",
                "webhook.max_connections must be above 0".into(),
            ));
        }
        if let Some(endpoint) = &raw.registry_endpoint
            && (endpoint.is_empty() || endpoint.contains('/'))
        {
            return Err(at(
                "registry_endpoint",
                format!(
                    "registry_endpoint {endpoint:?} must be `host[:port]`, e.g. \"127.0.0.1:5000\""
                ),
            ));
        }
        let target = match raw.target.as_deref() {
            None | Some("docker") => Target::Docker,
            Some("ecs") => Target::Ecs,
            Some(other) => {
                return Err(at(
                    "target",
                    format!(
                        "target {other:?}: use \"docker\" (a Docker host, the default) or \"ecs\""
                    ),
                ));
            }
        };
        if target == Target::Docker {
            if raw.registry_endpoint.is_none() {
                return Err(at(
                    "",
                    "target \"docker\" pushes images to a registry: set registry_endpoint (for example \"127.0.0.1:5000\")".into(),
                ));
            }
            if raw.domain.is_none() {
                return Err(at(
                    "",
                    "target \"docker\" serves every environment at a host name: set domain (for example \"localhost\")".into(),
                ));
            }
        }
        let lease_ttl = duration("lease_ttl", raw.lease_ttl, 30)?;
        let max_attempts = raw.max_attempts.unwrap_or(3);
        if max_attempts == 0 {
            return Err(at("max_attempts", "max_attempts must be above 0".into()));
        }
        let max_in_flight = raw.max_in_flight.unwrap_or(64);
        if max_in_flight == 0 {
            return Err(at("max_in_flight", "max_in_flight must be above 0".into()));
        }
        let build_logs_bucket = raw.build_logs_bucket;
        if let Some(bucket) = &build_logs_bucket
            && !is_bucket_name(bucket)
        {
            return Err(at(
                "build_logs_bucket",
                format!(
                    "build_logs_bucket {bucket:?} is not an S3 bucket name: 3 to 63 lowercase letters, digits, - and ."
                ),
            ));
        }
        let roles = parse_roles(raw.roles, "roles", &at)?;
        let api = raw.api.map(|a| a.parse(&at)).transpose()?;
        if raw.repository.is_empty() {
            return Err(at(
                "",
                "no `repository \"owner/name\" { stack = \"dir\" }` block: the daemon would deploy nothing".into(),
            ));
        }
        let mut repositories = BTreeMap::new();
        for (name, r) in raw.repository {
            let here = format!("repository \"{name}\"");
            let bad = |m: String| at(&here, format!("{here}: {m}"));
            if name.split('/').count() != 2 || name.split('/').any(str::is_empty) {
                return Err(bad("the label must be the repository's `owner/name`".into()));
            }
            let stack = PathBuf::from(r.stack.unwrap_or_else(|| ".".into()));
            if stack.is_absolute()
                || stack
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(bad(format!(
                    "stack {:?} must be a directory inside the repository (relative, no `..`)",
                    stack.display()
                )));
            }
            let project = r
                .project
                .unwrap_or_else(|| name.rsplit('/').next().unwrap_or_default().to_owned())
                .to_ascii_lowercase();
            if !is_label(&project) {
                return Err(bad(format!(
                    "project {project:?} must be letters, digits and hyphens (it becomes part of host names and AWS names)"
                )));
            }
            let dockerfile = r.dockerfile.unwrap_or_else(|| "Dockerfile".into());
            if Path::new(&dockerfile).is_absolute() || dockerfile.split('/').any(|c| c == "..") {
                return Err(bad(format!(
                    "dockerfile {dockerfile:?} must be a path inside the repository (relative, no `..`)"
                )));
            }
            let ecr_repository = r.ecr_repository.unwrap_or_else(|| project.clone());
            if ecr_repository.is_empty()
                || !ecr_repository
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_./".contains(&b))
            {
                return Err(bad(format!(
                    "ecr_repository {ecr_repository:?}: use lowercase letters, digits and - _ . /"
                )));
            }
            let previews = r.previews.unwrap_or(false);
            // A preview's host label is `<slug>--<project>`, at most 63 bytes.
            if previews && project.len() > 63 - crate::environment::MAX_SLUG - 2 {
                return Err(bad(format!(
                    "project {project:?} is too long for preview host names (`<branch>--{project}`): at most {} characters",
                    63 - crate::environment::MAX_SLUG - 2
                )));
            }
            if previews && raw.domain.is_none() {
                return Err(bad(
                    "previews = true needs a top-level `domain` for the preview host names".into(),
                ));
            }
            let own = parse_roles(r.roles, &format!("{here}: roles"), &at)?;
            let repo_roles = roles.overridden_by(own);
            if previews && repo_roles.production.is_some() && repo_roles.preview.is_none() {
                return Err(bad(
                    "roles sets a production role but no preview role: previews would deploy with the worker's own credentials; set roles.preview (a role that cannot touch production)".into(),
                ));
            }
            let access = match r.access {
                None => Access::default(),
                Some(a) => a
                    .parse()
                    .map_err(|m| at("access", format!("{here}: {m}")))?,
            };
            if let Some(token) = access
                .tokens()
                .find(|t| !api.as_ref().is_some_and(|a| a.has_token(t)))
            {
                return Err(at(
                    &format!("token:{token}"),
                    format!(
                        "{here}: access names token:{token}, but the api block has no `token \"{token}\"`"
                    ),
                ));
            }
            let notify = r
                .notify
                .map(RawNotify::parse)
                .transpose()
                .map_err(|m| at("notify", format!("{here}: {m}")))?;
            let clone_url = r
                .clone_url
                .unwrap_or_else(|| format!("https://github.com/{name}.git"));
            repositories.insert(
                name,
                Repository {
                    project,
                    stack,
                    default_branch: r.default_branch.unwrap_or_else(|| "main".into()),
                    previews,
                    clone_url,
                    token_env: r.token_env,
                    dockerfile,
                    ecr_repository,
                    trust_branch_stacks: r.trust_branch_stacks.unwrap_or(false),
                    roles: repo_roles,
                    access,
                    notify,
                },
            );
        }
        Ok(Config {
            target,
            kafka: Kafka {
                brokers: kafka.brokers,
                group: kafka.group.unwrap_or_else(|| "dumcel-pipeline".into()),
                push_topic: kafka.push_topic.unwrap_or_else(|| "dumcel.push".into()),
                events_topic: kafka.events_topic.unwrap_or_else(|| "dumcel.events".into()),
                dlq_topic: kafka.dlq_topic.unwrap_or_else(|| "dumcel.push.dlq".into()),
                partitions: match kafka.partitions {
                    None => 6,
                    Some(n) if n > 0 => n,
                    Some(_) => {
                        return Err(at("partitions", "kafka.partitions must be above 0".into()));
                    }
                },
                signing_key_env: kafka
                    .signing_key_env
                    .unwrap_or_else(|| "DUMCEL_PUSH_SIGNING_KEY".into()),
                consumer_properties: kafka.consumer_properties,
            },
            webhook: Webhook {
                listen,
                secret_env,
                max_body_bytes,
                max_connections,
                header_timeout,
                request_timeout,
                dedup_window,
            },
            deployments_table: raw
                .deployments_table
                .unwrap_or_else(|| "dumcel-deployments".into()),
            build_logs_bucket,
            domain: raw.domain,
            rollout_timeout,
            registry_endpoint: raw.registry_endpoint,
            work_dir: PathBuf::from(raw.work_dir.unwrap_or_else(|| ".dumcel-pipeline".into())),
            max_in_flight,
            lease_ttl,
            max_attempts,
            roles,
            api,
            repositories,
        })
    }

    /// The key push messages are signed with, from its environment variable.
    pub fn signing_key(&self) -> Result<Vec<u8>, String> {
        match std::env::var(&self.kafka.signing_key_env) {
            Ok(s) if s.len() >= 16 => Ok(s.into_bytes()),
            Ok(s) if !s.is_empty() => Err(format!(
                "the push signing key in {} is too short: use at least 16 random characters (e.g. `openssl rand -hex 32`)",
                self.kafka.signing_key_env
            )),
            _ => Err(format!(
                "the push signing key is not set: export {} (the same random key for the webhook, the workers and the commands)",
                self.kafka.signing_key_env
            )),
        }
    }

    /// The webhook secret from its environment variable.
    pub fn webhook_secret(&self) -> Result<Vec<u8>, String> {
        match std::env::var(&self.webhook.secret_env) {
            Ok(s) if !s.is_empty() => Ok(s.into_bytes()),
            _ => Err(format!(
                "the webhook secret is not set: export {} (the secret configured on the GitHub webhook)",
                self.webhook.secret_env
            )),
        }
    }
}

/// A listen address setting (`ip:port`), `default` when absent.
pub(crate) fn listen(
    at: &impl Fn(&str, String) -> ConfigError,
    name: &str,
    value: Option<String>,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_owned());
    text.parse()
        .map_err(|_| at("listen", format!("{name} {text:?} is not `ip:port`")))
}

/// A duration setting (`"10m"`), `default` seconds when absent; never zero.
pub(crate) fn duration(
    at: &impl Fn(&str, String) -> ConfigError,
    name: &str,
    value: Option<String>,
    default: u64,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(Duration::from_secs(default)),
        Some(t) => match humantime::parse_duration(&t) {
            Ok(d) if !d.is_zero() => Ok(d),
            Ok(_) => Err(at(name, format!("{name} must be above zero"))),
            Err(e) => Err(at(
                name,
                format!("{name} {t:?}: {e} (write it like \"10m\")"),
            )),
        },
    }
}

/// A DNS label: what a project or preview name must be to sit in a host name.
pub fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A `roles` block's ARNs, checked; `what` names the block in errors.
fn parse_roles(
    raw: Option<RawRoles>,
    what: &str,
    at: &impl Fn(&str, String) -> ConfigError,
) -> Result<Roles, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Roles::default());
    };
    for (key, arn) in [("production", &raw.production), ("preview", &raw.preview)] {
        if let Some(arn) = arn
            && !is_role_arn(arn)
        {
            let needle = if arn.is_empty() {
                key.to_owned()
            } else {
                format!("\"{arn}\"")
            };
            return Err(at(
                &needle,
                format!(
                    "{what}.{key} {arn:?} is not an IAM role's ARN: write it like \"arn:aws:iam::123456789012:role/deploy-{key}\""
                ),
            ));
        }
    }
    Ok(Roles {
        production: raw.production,
        preview: raw.preview,
    })
}

/// `arn:<partition>:iam::<12 digits>:role/<path/name>`, the partition `aws`
/// or `aws-<suffix>` (`aws-cn`, `aws-us-gov`), the name IAM's characters.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let name_ok = resource.strip_prefix("role/").is_some_and(|name| {
        !name.is_empty()
            && !name.starts_with('/')
            && !name.ends_with('/')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
    });
    partition_ok && account_ok && name_ok
}

/// The 1-based line of the first occurrence of `needle` (1 when absent).
/// S3's rule for a bucket name, less its rarer limits.
fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

fn line_of(text: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 1;
    }
    text.find(needle)
        .map(|i| text[..i].matches('\n').count() + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
target = "ecs"
kafka {
  brokers = "127.0.0.1:9092"
}
domain = "preview.test"
repository "octo/app" {
  stack    = "deploy"
  previews = true
}
"#;

    #[test]
    fn a_small_file_gets_defaults() {
        let c = Config::parse("d.hcl", GOOD).unwrap();
        assert_eq!(c.kafka.push_topic, "dumcel.push");
        assert_eq!(c.kafka.dlq_topic, "dumcel.push.dlq");
        assert_eq!(c.webhook.listen.to_string(), "127.0.0.1:8088");
        let r = &c.repositories["octo/app"];
        assert_eq!(r.project, "app");
        assert_eq!(r.stack, PathBuf::from("deploy"));
        assert_eq!(r.default_branch, "main");
    }

    fn error(text: &str) -> String {
        Config::parse("d.hcl", text).unwrap_err().to_string()
    }

    #[test]
    fn mistakes_name_the_file_line_and_fix() {
        let e = error(&GOOD.replace("\"deploy\"", "\"../x\""));
        assert!(
            e.starts_with("d.hcl:7: repository \"octo/app\": stack"),
            "{e}"
        );
        let e = error(&GOOD.replace("domain = \"preview.test\"\n", ""));
        assert!(e.contains("needs a top-level `domain`"), "{e}");
        let e = error(&GOOD.replace("brokers", "broker"));
        assert!(e.starts_with("d.hcl:"), "{e}");
        let e = error("kafka {\n  brokers = \n}");
        assert!(e.starts_with("d.hcl:"), "{e}");
        let e = error("target = \"ecs\"\nkafka {\n  brokers = \"b:1\"\n}\n");
        assert!(e.contains("no `repository"), "{e}");
        let e = error(&format!("{GOOD}\nrollout_timeout = \"soon\"\n"));
        assert!(e.contains("rollout_timeout \"soon\""), "{e}");
        let e = error(&format!("{GOOD}\nregistry_endpoint = \"http://r/\"\n"));
        assert!(e.contains("must be `host[:port]`"), "{e}");
        let e = error(&GOOD.replace(
            "previews = true",
            "previews = true\n  dockerfile = \"../Dockerfile\"",
        ));
        assert!(
            e.contains("dockerfile \"../Dockerfile\" must be a path inside"),
            "{e}"
        );
        let e = error(&GOOD.replace(
            "previews = true",
            "previews = true\n  ecr_repository = \"App\"",
        ));
        assert!(e.contains("ecr_repository \"App\""), "{e}");
        let e = error(&format!("{GOOD}build_logs_bucket = \"Logs_Bucket\"\n"));
        assert!(
            e.starts_with("d.hcl:11: build_logs_bucket \"Logs_Bucket\" is not an S3 bucket name"),
            "{e}"
        );
        let c = Config::parse(
            "d.hcl",
            &format!("{GOOD}build_logs_bucket = \"acme-logs\"\n"),
        )
        .unwrap();
        assert_eq!(c.build_logs_bucket.as_deref(), Some("acme-logs"));
    }

    #[test]
    fn the_api_block_keeps_token_hashes_and_access_names_only_its_tokens() {
        let hash = "ab".repeat(32);
        let with_api = GOOD.replace(
            "previews = true",
            "previews = true\n  access {\n    view   = [\"group:octo\"]\n    deploy = [\"token:ci\"]\n  }",
        ) + &format!("api {{\n  token \"ci\" {{\n    sha256 = \"{hash}\"\n  }}\n}}\n");
        let c = Config::parse("d.hcl", &with_api).unwrap();
        let api = c.api.as_ref().unwrap();
        assert_eq!(api.listen.to_string(), "127.0.0.1:8089");
        assert_eq!(api.url_of("app.example.com"), "https://app.example.com/");
        assert_eq!(api.token_named(&[0xab; 32]), Some("ci"));
        assert_eq!(c.repositories["octo/app"].access.deploy, ["token:ci"]);
        assert!(
            Config::parse("d.hcl", GOOD).unwrap().repositories["octo/app"].access
                == Access::default()
        );

        let e = error(&with_api.replace(&hash, "abc"));
        assert!(
            e.starts_with("d.hcl:16: api: token \"ci\": sha256 must be"),
            "{e}"
        );
        let e = error(&with_api.replace("token:ci", "token:cd"));
        assert!(e.starts_with("d.hcl:12: repository \"octo/app\": access names token:cd, but the api block has no `token \"cd\"`"), "{e}");
        let e = error(&with_api.replace("group:octo", "octo"));
        assert!(
            e.contains("access.view: \"octo\" is not a principal"),
            "{e}"
        );
        let e = error(&format!(
            "{GOOD}api {{\n  environment_url = \"https://x/\"\n}}\n"
        ));
        assert!(
            e.starts_with("d.hcl:12: api.environment_url \"https://x/\" has no {host}"),
            "{e}"
        );
    }

    #[test]
    fn the_docker_target_is_the_default_and_needs_a_registry_and_a_domain() {
        let docker = GOOD.replace("target = \"ecs\"\n", "");
        let e = error(&docker);
        assert!(e.contains("set registry_endpoint"), "{e}");
        let e = error(&format!(
            "{}\nregistry_endpoint = \"127.0.0.1:5000\"\n",
            docker
                .replace("domain = \"preview.test\"\n", "")
                .replace("previews = true", "")
        ));
        assert!(e.contains("set domain"), "{e}");
        let c = Config::parse(
            "d.hcl",
            &format!("{docker}\nregistry_endpoint = \"127.0.0.1:5000\"\n"),
        )
        .unwrap();
        assert_eq!(c.target, Target::Docker);
        let e = error(&GOOD.replace("\"ecs\"", "\"k8s\""));
        assert!(e.starts_with("d.hcl:2: target \"k8s\""), "{e}");
    }

    #[test]
    fn the_clone_url_comes_from_the_configuration_never_from_a_message() {
        let c = Config::parse("d.hcl", GOOD).unwrap();
        assert_eq!(
            c.repositories["octo/app"].clone_url,
            "https://github.com/octo/app.git"
        );
        let c = Config::parse(
            "d.hcl",
            &GOOD.replace(
                "previews = true",
                "previews = true\n  clone_url = \"/srv/git/app.git\"",
            ),
        )
        .unwrap();
        assert_eq!(c.repositories["octo/app"].clone_url, "/srv/git/app.git");
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline/pipeline.hcl");
        let c = Config::load(&path).unwrap();
        assert_eq!(c.registry_endpoint.as_deref(), Some("127.0.0.1:5000"));
        assert!(c.repositories["octo/shop"].previews);
    }

    const ROLES: &str = r#"
roles {
  production = "arn:aws:iam::123456789012:role/deploy-production"
  preview    = "arn:aws:iam::123456789012:role/deploy-preview"
}
"#;

    #[test]
    fn roles_apply_to_every_repository_unless_it_has_its_own() {
        let c = Config::parse("d.hcl", GOOD).unwrap();
        assert_eq!(c.repositories["octo/app"].roles, Roles::default());

        let c = Config::parse("d.hcl", &format!("{GOOD}{ROLES}")).unwrap();
        let r = &c.repositories["octo/app"].roles;
        assert_eq!(
            r.for_environment(false),
            Some("arn:aws:iam::123456789012:role/deploy-production")
        );
        assert_eq!(
            r.for_environment(true),
            Some("arn:aws:iam::123456789012:role/deploy-preview")
        );
        assert_eq!(&c.roles, r);

        // A repository's own block wins, role by role.
        let own = GOOD.replace(
            "previews = true",
            "previews = true\n  roles {\n    preview = \"arn:aws-us-gov:iam::210987654321:role/ci/app-preview\"\n  }",
        );
        let c = Config::parse("d.hcl", &format!("{own}{ROLES}")).unwrap();
        let r = &c.repositories["octo/app"].roles;
        assert_eq!(
            r.preview.as_deref(),
            Some("arn:aws-us-gov:iam::210987654321:role/ci/app-preview")
        );
        assert_eq!(
            r.production.as_deref(),
            Some("arn:aws:iam::123456789012:role/deploy-production")
        );
    }

    #[test]
    fn a_role_that_is_not_a_role_arn_names_its_line() {
        for bad in [
            "deploy-production",
            "arn:aws:iam::12345:role/deploy",
            "arn:aws:iam::123456789012:user/deploy",
            "arn:aws:s3:::123456789012:role/deploy",
            "arn:aws:iam::123456789012:role/",
            "arn:gcp:iam::123456789012:role/deploy",
        ] {
            let e = error(&format!(
                "{GOOD}{}",
                ROLES.replace("arn:aws:iam::123456789012:role/deploy-preview", bad)
            ));
            assert!(
                e.starts_with(&format!(
                    "d.hcl:14: roles.preview {bad:?} is not an IAM role's ARN"
                )),
                "{e}"
            );
        }
        let e = error(&GOOD.replace(
            "previews = true",
            "previews = true\n  roles {\n    production = \"prod\"\n  }",
        ));
        assert!(
            e.starts_with("d.hcl:11: repository \"octo/app\": roles.production \"prod\""),
            "{e}"
        );
        let e = error(&format!("{GOOD}roles {{\n  staging = \"x\"\n}}\n"));
        assert!(e.contains("staging"), "{e}");
    }

    #[test]
    fn previews_need_a_role_of_their_own_once_production_has_one() {
        let e = error(&format!(
            "{GOOD}roles {{\n  production = \"arn:aws:iam::123456789012:role/p\"\n}}\n"
        ));
        assert!(
            e.starts_with(
                "d.hcl:7: repository \"octo/app\": roles sets a production role but no preview role"
            ),
            "{e}"
        );
        // Without previews, a production role alone is fine.
        let c = Config::parse(
            "d.hcl",
            &format!(
                "{}roles {{\n  production = \"arn:aws:iam::123456789012:role/p\"\n}}\n",
                GOOD.replace("previews = true", "")
            ),
        )
        .unwrap();
        assert_eq!(c.repositories["octo/app"].roles.preview, None);
    }

    #[test]
    fn worker_settings_have_defaults_and_a_relative_work_dir_follows_the_file() {
        let c = Config::parse("d.hcl", GOOD).unwrap();
        assert_eq!(c.rollout_timeout, Duration::from_secs(600));
        assert_eq!(c.registry_endpoint, None);
        assert_eq!(c.max_in_flight, 64);
        let r = &c.repositories["octo/app"];
        assert_eq!(
            (r.dockerfile.as_str(), r.ecr_repository.as_str()),
            ("Dockerfile", "app")
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pipeline.hcl");
        std::fs::write(&file, format!("{GOOD}\nwork_dir = \"state\"\n")).unwrap();
        assert_eq!(
            Config::load(&file).unwrap().work_dir,
            dir.path().join("state")
        );
    }
}
