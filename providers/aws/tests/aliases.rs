//! Provider aliases against moto: two `provider "aws"` configurations with
//! different regions (`alias = "use1"` in us-east-1, `alias = "euw1"` in
//! eu-west-1), an S3 bucket and a DynamoDB table through each, read back
//! through the SDK in the region each belongs to. moto keeps DynamoDB tables
//! per region and records each bucket's location constraint, so an object
//! made through the wrong configuration would show.

mod common;

use aws_config::Region;
use common::walk::{attr, changes, plan_apply, plan_of};
use common::*;
use dumcel_state::State;

fn dynamodb_in(env: &Env, region: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&env.sdk)
            .region(Region::new(region.to_owned()))
            .build(),
    )
}

fn s3_in(env: &Env, region: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&env.sdk)
            .region(Region::new(region.to_owned()))
            .force_path_style(true)
            .build(),
    )
}

/// Whether the table exists as that region's client sees it.
async fn table_in(env: &Env, region: &str, name: &str) -> bool {
    match dynamodb_in(env, region)
        .describe_table()
        .table_name(name)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let code = aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e).unwrap_or_default();
            assert_eq!(code, "ResourceNotFoundException", "{e:?}");
            false
        }
    }
}

/// The bucket's location constraint ("" for us-east-1).
async fn bucket_region(env: &Env, bucket: &str) -> String {
    s3_in(env, "us-east-1")
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .expect("bucket location")
        .location_constraint()
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default()
}

const STACK: &str = r#"
provider "aws" {
  alias      = "use1"
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    s3       = "@ENDPOINT@"
    dynamodb = "@ENDPOINT@"
  }
}

provider "aws" {
  alias      = "euw1"
  region     = "eu-west-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    s3       = "@ENDPOINT@"
    dynamodb = "@ENDPOINT@"
  }
}

resource "aws_s3_bucket" "us" {
  provider      = aws.use1
  bucket        = "@US@"
  force_destroy = true
}

resource "aws_s3_bucket" "eu" {
  provider      = aws.euw1
  bucket        = "@EU@"
  force_destroy = true
}

resource "aws_dynamodb_table" "us" {
  provider     = aws.use1
  name         = "@US@"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_dynamodb_table" "eu" {
  provider     = aws.euw1
  name         = "@EU@"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}
"#;

#[tokio::test]
async fn two_aliases_in_two_regions_each_make_their_own_objects() {
    let env = Env::new().await;
    let us = unique("alias-us");
    let eu = unique("alias-eu");
    let dir = tempfile::tempdir().unwrap();
    let hcl = STACK
        .replace("@ENDPOINT@", &env.endpoint)
        .replace("@US@", &us)
        .replace("@EU@", &eu);
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();

    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 4);

    // Each table exists in its own region only.
    assert!(table_in(&env, "us-east-1", &us).await);
    assert!(!table_in(&env, "eu-west-1", &us).await);
    assert!(table_in(&env, "eu-west-1", &eu).await);
    assert!(!table_in(&env, "us-east-1", &eu).await);
    assert!(attr(&state, "aws_dynamodb_table.eu", "arn").contains(":eu-west-1:"));
    assert!(attr(&state, "aws_dynamodb_table.us", "arn").contains(":us-east-1:"));
    // Each bucket was made with its region's location constraint.
    assert_eq!(bucket_region(&env, &eu).await, "eu-west-1");
    assert_eq!(bucket_region(&env, &us).await, "");

    // State records the configuration as Terraform does.
    assert_eq!(
        state.resources["aws_s3_bucket.eu"].provider,
        r#"provider["registry.terraform.io/hashicorp/aws"].euw1"#
    );
    assert_eq!(
        state.resources["aws_dynamodb_table.us"].provider,
        r#"provider["registry.terraform.io/hashicorp/aws"].use1"#
    );

    // Refresh reads each object through its own region: nothing to do.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    // Destroy deletes each through its own region.
    plan_apply(dir.path(), state, true).await;
    assert!(!table_in(&env, "us-east-1", &us).await);
    assert!(!table_in(&env, "eu-west-1", &eu).await);
    for b in [&us, &eu] {
        let gone = s3_in(&env, "us-east-1")
            .head_bucket()
            .bucket(b)
            .send()
            .await;
        assert!(gone.is_err(), "bucket {b} still there");
    }
}
