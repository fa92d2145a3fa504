//! What the end-to-end tests against moto share: the emulator's endpoint (the
//! tests refuse to run against anything but loopback), an AWS SDK configuration
//! for reading results back, and unique names so tests can run in parallel and
//! again against the same emulator.
#![allow(dead_code)]

use std::process::Command;

const ENDPOINT_DEFAULT: &str = "http://127.0.0.1:5005";

/// moto's endpoint: `AWS_ENDPOINT_URL` (as dev/test.sh exports it) or the
/// default, checked to answer.
pub fn endpoint() -> String {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| ENDPOINT_DEFAULT.into());
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    assert!(
        host.starts_with("127."),
        "AWS_ENDPOINT_URL must be on loopback, got {url}"
    );
    assert!(
        std::net::TcpStream::connect(host).is_ok(),
        "moto (the AWS API emulator) is not answering on {url}: start it with \
         dev/services/moto.sh (dev/test.sh and CI do)"
    );
    url
}

/// Points a command (dumcel, or a shell running it) at moto with fake keys.
pub fn emulator_env(c: &mut Command) -> &mut Command {
    c.env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
}

pub async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

pub fn s3(c: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(c)
            .force_path_style(true)
            .build(),
    )
}

/// A unique name (short enough for an ALB name with a suffix).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A DynamoDB table for the S3 backend's lock (and digest) items, keyed
/// `LockID` as Terraform's is, made with the SDK.
pub async fn lock_table(c: &aws_config::SdkConfig, table: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    aws_sdk_dynamodb::Client::new(c)
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("LockID")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("LockID")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}
