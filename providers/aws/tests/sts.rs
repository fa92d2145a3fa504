//! `data "aws_caller_identity"` and the provider block's `assume_role`
//! against moto: who the calls are made as is read back from moto's STS, and
//! a bucket made through an assumed role is looked up with moto's S3.

mod common;

use common::*;
use dumcel_engine::provider::Provider;
use dumcel_planner::Value;
use dumcel_provider_aws::Aws;
use dumcel_provider_aws::config::Settings;

const ROLE: &str = "arn:aws:iam::123456789012:role/deploy-cli";

/// The tests' provider block with `assume_role { ... }` added.
fn with_assume_role(endpoint: &str, role: &[(&str, &str)]) -> Value {
    let role = obj(&role
        .iter()
        .map(|(k, v)| (*k, Value::string(*v)))
        .collect::<Vec<_>>());
    set(
        &provider_block(endpoint),
        "assume_role",
        Value::List(vec![role]),
    )
}

async fn identity(provider: &Aws) -> Value {
    let data = provider
        .data_sources()
        .into_iter()
        .find(|(n, _)| *n == "aws_caller_identity")
        .map(|(_, d)| d)
        .expect("aws_caller_identity is a data source");
    data.read(&obj(&[])).await.expect("GetCallerIdentity")
}

#[tokio::test]
async fn caller_identity_is_who_the_credentials_are() {
    let env = Env::new().await;
    let got = identity(&env.provider).await;
    let moto = aws_sdk_sts::Client::new(&env.sdk)
        .get_caller_identity()
        .send()
        .await
        .expect("moto's GetCallerIdentity");
    assert_eq!(s(&got, "arn"), moto.arn().unwrap());
    assert_eq!(s(&got, "user_id"), moto.user_id().unwrap());
    assert_eq!(s(&got, "account_id"), moto.account().unwrap());
    assert_eq!(s(&got, "id"), s(&got, "account_id"));
}

#[tokio::test]
async fn assume_role_in_the_block_signs_every_call_as_the_role() {
    let endpoint = endpoint();
    let provider = Aws::new();
    provider
        .configure(&with_assume_role(
            &endpoint,
            &[("role_arn", ROLE), ("session_name", "cli-session")],
        ))
        .await
        .expect("configure");
    let got = identity(&provider).await;
    assert_eq!(
        s(&got, "arn"),
        "arn:aws:sts::123456789012:assumed-role/deploy-cli/cli-session"
    );
    assert_eq!(s(&got, "account_id"), "123456789012");

    // Other services take the assumed credentials too.
    let bucket = unique("assumed");
    let rt = provider
        .resource_types()
        .into_iter()
        .find(|(n, _)| *n == "aws_s3_bucket")
        .map(|(_, r)| r)
        .unwrap();
    let made = rt
        .create(&planned(
            rt.as_ref(),
            obj(&[("bucket", Value::string(&bucket))]),
        ))
        .await
        .expect("create through the assumed role");
    let env = Env::new().await;
    env.s3()
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("moto has the bucket");
    rt.delete(&made).await.expect("delete");
}

#[tokio::test]
async fn an_assume_role_without_a_role_arn_is_refused() {
    let provider = Aws::new();
    let e = provider
        .configure(&with_assume_role(
            &endpoint(),
            &[("role_arn", "deploy-production")],
        ))
        .await
        .expect_err("not a role ARN");
    assert!(
        e.message
            .contains("assume_role.role_arn \"deploy-production\" is not a role's ARN"),
        "{}",
        e.message
    );
}

#[test]
fn the_settings_debug_shows_no_secret() {
    let block = with_assume_role(
        "http://127.0.0.1:1",
        &[("role_arn", ROLE), ("external_id", "shared-with-the-owner")],
    );
    let block = set(&block, "secret_key", Value::string("s3cr3t-key"));
    let settings = Settings::from_value(&block).unwrap();
    let shown = format!("{settings:?}");
    assert!(shown.contains(ROLE), "{shown}");
    assert!(!shown.contains("s3cr3t-key"), "{shown}");
    assert!(!shown.contains("shared-with-the-owner"), "{shown}");
}
