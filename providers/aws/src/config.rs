//! The provider's configuration (`provider "aws" { ... }`) and the SDK clients
//! built from it. `configure` only records the settings: the SDK's own
//! configuration (credential chain, region chain, `AWS_ENDPOINT_URL`) is
//! loaded lazily on the first call, so a stack that never calls AWS never
//! needs credentials. A role to assume, the stack's (`assume_role`) or one the
//! host pins for the run ([`AwsRole`]), replaces the credentials there.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};
use tokio::sync::OnceCell;

use crate::assume_role::{self, AssumeRole, AwsRole};
use crate::attrs::{block, opt_str, str_map};
use crate::error::AwsResult;

/// Services whose endpoint an `endpoints { ... }` block may override.
pub const SERVICES: &[&str] = &[
    "acm",
    "appautoscaling",
    "cloudfront",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "elbv2",
    "iam",
    "logs",
    "route53",
    "s3",
    "secretsmanager",
    "ssm",
    "sts",
];

/// The `provider "aws"` arguments and blocks that choose credentials, with
/// Terraform's names for those this provider does not take: a run whose
/// credentials the host decides (a pipeline run) refuses every one of them.
pub const CREDENTIAL_SETTINGS: &[&str] = &[
    "profile",
    "access_key",
    "secret_key",
    "token",
    "shared_credentials_files",
    "shared_config_files",
    "assume_role",
    "assume_role_with_web_identity",
];

#[derive(Clone, Default)]
pub struct Settings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoints: BTreeMap<String, String>,
    pub default_tags: BTreeMap<String, String>,
    /// Static credentials from the block; the standard chain when absent.
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    /// The stack's `assume_role` block.
    pub assume_role: Option<AssumeRole>,
}

// Written by hand so that the secret key never reaches a log line.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoints", &self.endpoints)
            .field("default_tags", &self.default_tags)
            .field("access_key", &self.access_key.as_ref().map(|_| "(set)"))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "(set)"))
            .field("assume_role", &self.assume_role)
            .finish()
    }
}

pub fn schema() -> Schema {
    let mut endpoints = Schema::new();
    for s in SERVICES {
        endpoints = endpoints.attr(s, Attribute::optional());
    }
    Schema::new()
        .attr("region", Attribute::optional())
        .attr("profile", Attribute::optional())
        .attr("access_key", Attribute::optional().sensitive())
        .attr("secret_key", Attribute::optional().sensitive())
        .block("assume_role", assume_role::schema())
        .block(
            "default_tags",
            NestedBlock {
                schema: Schema::new().attr("tags", Attribute::optional()),
                min_items: 0,
                max_items: Some(1),
                force_new: false,
            },
        )
        .block(
            "endpoints",
            NestedBlock {
                schema: endpoints,
                min_items: 0,
                max_items: Some(1),
                force_new: false,
            },
        )
}

impl Settings {
    /// The settings of an evaluated `provider "aws"` block; an error names
    /// what the block gets wrong.
    pub fn from_value(config: &Value) -> AwsResult<Settings> {
        let endpoints = block(config, "endpoints")
            .map(|e| {
                SERVICES
                    .iter()
                    .filter_map(|s| opt_str(e, s).map(|u| (s.to_string(), u.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let default_tags = block(config, "default_tags")
            .map(|t| str_map(t, "tags").into_iter().collect())
            .unwrap_or_default();
        Ok(Settings {
            region: opt_str(config, "region").map(str::to_owned),
            profile: opt_str(config, "profile").map(str::to_owned),
            endpoints,
            default_tags,
            access_key: opt_str(config, "access_key").map(str::to_owned),
            secret_key: opt_str(config, "secret_key").map(str::to_owned),
            assume_role: AssumeRole::from_config(config)?,
        })
    }

    /// Whether the block chooses credentials of its own.
    fn has_credentials(&self) -> bool {
        self.profile.is_some()
            || self.access_key.is_some()
            || self.secret_key.is_some()
            || self.assume_role.is_some()
    }
}

/// What every resource type of the provider shares: the settings and the SDK
/// configuration, each made once, and the role the host pinned, if any.
#[derive(Default)]
pub struct Shared {
    settings: OnceLock<Settings>,
    sdk: OnceCell<SdkConfig>,
    pinned: Option<AwsRole>,
}

/// One SDK client per service, from the shared configuration, with the
/// `endpoints { <key> = ... }` override applied.
macro_rules! client {
    ($name:ident, $sdk:ident, $key:literal) => {
        pub async fn $name(&self) -> $sdk::Client {
            let mut b = $sdk::config::Builder::from(self.sdk().await);
            if let Some(url) = self.endpoint($key) {
                b = b.endpoint_url(url);
            }
            $sdk::Client::from_conf(b.build())
        }
    };
}

impl Shared {
    /// Every call assumes `role` from the host's own credentials, whatever
    /// the settings say about credentials.
    pub fn pinned(role: AwsRole) -> Shared {
        Shared {
            pinned: Some(role),
            ..Shared::default()
        }
    }

    pub fn configure(&self, settings: Settings) {
        // Configured once per process; a second call (never made by the
        // engine) keeps the first settings.
        let _ = self.settings.set(settings);
    }

    pub fn settings(&self) -> Settings {
        self.settings.get().cloned().unwrap_or_default()
    }

    pub fn default_tags(&self) -> BTreeMap<String, String> {
        self.settings
            .get()
            .map(|s| s.default_tags.clone())
            .unwrap_or_default()
    }

    async fn sdk(&self) -> &SdkConfig {
        self.sdk
            .get_or_init(|| async {
                let settings = self.settings();
                // Standard retry mode: throttling and transient errors are
                // retried with exponential backoff and jitter.
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(RetryConfig::standard().with_max_attempts(6));
                if let Some(region) = settings.region.clone() {
                    loader = loader.region(Region::new(region));
                }
                if let Some(role) = &self.pinned {
                    // The host's chain (environment, its profile, instance
                    // role) assumes the pinned role; the stack's credential
                    // settings are not used, and its STS endpoint is not
                    // given the host's credentials to sign with.
                    if settings.has_credentials() {
                        tracing::warn!(
                            role_arn = %role.role_arn,
                            "provider \"aws\": the block's credential settings are ignored; this run assumes the host's role"
                        );
                    }
                    let base = loader.load().await;
                    return assume_role::assumed(base, &role.into(), None).await;
                }
                if let Some(profile) = settings.profile {
                    loader = loader.profile_name(profile);
                }
                if let (Some(ak), Some(sk)) = (settings.access_key, settings.secret_key) {
                    loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                        ak,
                        sk,
                        None,
                        None,
                        "provider-block",
                    ));
                }
                let base = loader.load().await;
                match &settings.assume_role {
                    Some(role) => {
                        let sts = settings.endpoints.get("sts").map(String::as_str);
                        assume_role::assumed(base, role, sts).await
                    }
                    None => base,
                }
            })
            .await
    }

    fn endpoint(&self, service: &str) -> Option<String> {
        self.settings.get()?.endpoints.get(service).cloned()
    }

    client!(ecr, aws_sdk_ecr, "ecr");
    client!(ecs, aws_sdk_ecs, "ecs");
    client!(elbv2, aws_sdk_elasticloadbalancingv2, "elbv2");
    client!(ec2, aws_sdk_ec2, "ec2");
    client!(dynamodb, aws_sdk_dynamodb, "dynamodb");
    client!(sts, aws_sdk_sts, "sts");
    client!(iam, aws_sdk_iam, "iam");
    client!(logs, aws_sdk_cloudwatchlogs, "logs");
    client!(secretsmanager, aws_sdk_secretsmanager, "secretsmanager");
    client!(ssm, aws_sdk_ssm, "ssm");
    client!(route53, aws_sdk_route53, "route53");
    client!(acm, aws_sdk_acm, "acm");
    client!(
        appautoscaling,
        aws_sdk_applicationautoscaling,
        "appautoscaling"
    );
    client!(cloudfront, aws_sdk_cloudfront, "cloudfront");

    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let sdk = self.sdk().await;
        let mut b = aws_sdk_s3::config::Builder::from(sdk);
        let custom = self.endpoint("s3");
        // An emulator or other custom endpoint has no per-bucket host names:
        // address buckets by path.
        let path_style = custom.is_some()
            || sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        if let Some(url) = custom {
            b = b.endpoint_url(url);
        }
        aws_sdk_s3::Client::from_conf(b.force_path_style(path_style).build())
    }
}
