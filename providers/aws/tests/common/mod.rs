//! Shared by the provider's tests: the moto endpoint (failing clearly when it
//! is not running), a configured provider, SDK clients to check results with,
//! and unique names so tests run in parallel without resetting moto.
#![allow(dead_code)]

pub mod walk;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use dumcel_engine::provider::{DataSource, Provider, ResourceType};
use dumcel_planner::{Map, Value};
use dumcel_provider_aws::Aws;

pub const REGION: &str = "us-east-1";

/// The emulator's endpoint: `AWS_ENDPOINT_URL`, or where `dev/services/moto.sh`
/// starts it. Panics with what to do when nothing answers there.
pub fn endpoint() -> String {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:5005".into());
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let answered = (|| {
        let addr = host.parse().ok()?;
        let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        c.write_all(format!("GET /moto-api/ HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
            .ok()?;
        let mut buf = [0u8; 16];
        let n = c.read(&mut buf).ok()?;
        buf[..n].starts_with(b"HTTP/").then_some(())
    })();
    assert!(
        answered.is_some(),
        "moto (the AWS API emulator) is not answering on {url}: start it with dev/services/moto.sh \
         (dev/test.sh and CI do), or point AWS_ENDPOINT_URL at it"
    );
    url
}

/// The `provider "aws"` block the tests use: moto for every service, fake keys.
pub fn provider_block(endpoint: &str) -> Value {
    let services = dumcel_provider_aws::config::SERVICES;
    let endpoints: Map = services
        .iter()
        .map(|s| (s.to_string(), Value::string(endpoint)))
        .collect();
    obj(&[
        ("region", Value::string(REGION)),
        ("access_key", Value::string("testing")),
        ("secret_key", Value::string("testing")),
        ("endpoints", Value::List(vec![Value::Map(endpoints)])),
    ])
}

pub struct Env {
    pub provider: Aws,
    pub endpoint: String,
    pub sdk: aws_config::SdkConfig,
}

impl Env {
    pub async fn new() -> Env {
        let endpoint = endpoint();
        let provider = Aws::new();
        provider
            .configure(&provider_block(&endpoint))
            .await
            .expect("configure");
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await;
        Env {
            provider,
            endpoint,
            sdk,
        }
    }

    pub fn resource(&self, name: &str) -> Arc<dyn ResourceType> {
        self.provider
            .resource_types()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("no resource type {name}"))
    }

    pub fn data(&self, name: &str) -> Arc<dyn DataSource> {
        self.provider
            .data_sources()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("no data source {name}"))
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .force_path_style(true)
                .build(),
        )
    }
    pub fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.sdk)
    }
    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk)
    }
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk)
    }
    pub fn elbv2(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.sdk)
    }
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// What the engine hands a create: configuration plus the plan hook's values.
pub fn planned(rt: &dyn ResourceType, config: Value) -> Value {
    let mut full = Map::new();
    for name in rt.schema().attributes.keys() {
        full.insert(name.clone(), Value::Null);
    }
    for name in rt.schema().blocks.keys() {
        full.insert(name.clone(), Value::List(Vec::new()));
    }
    if let Value::Map(m) = config {
        full.extend(m);
    }
    rt.plan(None, Value::Map(full)).expect("plan hook")
}

pub fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
        .to_owned()
}

/// What the engine hands `find` after a create was cut off before its result
/// was recorded: the planned attributes that were known, with the unknown
/// ones (`id`, `arn`, anything left unset) absent rather than null.
pub fn before_create(planned: &Value) -> Value {
    let mut m = planned.as_map().cloned().unwrap_or_default();
    m.retain(|_, v| !v.is_null() && !v.is_unknown());
    Value::Map(m)
}

/// `find` for `planned`, which must answer an object.
pub async fn found(rt: &dyn ResourceType, planned: &Value) -> Value {
    rt.find(&before_create(planned))
        .await
        .expect("find answers")
        .unwrap_or_else(|| panic!("find found nothing for {planned}"))
}

/// `find` for `planned`, which must answer that nothing exists.
pub async fn found_nothing(rt: &dyn ResourceType, planned: &Value) {
    let got = rt
        .find(&before_create(planned))
        .await
        .expect("find answers");
    assert!(got.is_none(), "find found {got:?} for {planned}");
}

/// `v` with `key` set.
pub fn set(v: &Value, key: &str, to: Value) -> Value {
    let mut m = v.as_map().cloned().unwrap_or_default();
    m.insert(key.to_owned(), to);
    Value::Map(m)
}
