//! `provider "aws" { assume_role { ... } }` through the real binary against
//! moto: the calls are made as the role, as read back from moto's S3 (a tag
//! the stack sets from `data "aws_caller_identity"`), not from dumcel's state.

mod common;
#[path = "common/aws.rs"]
mod emulator;

use common::{Run, TestStack};
use emulator::{emulator_env, s3, sdk, unique};

fn ok(s: &TestStack, args: &[&str]) -> Run {
    let r = Run::from(
        emulator_env(&mut s.command(args))
            .output()
            .expect("run dumcel"),
    );
    assert_eq!(r.code, 0, "dumcel {args:?} failed:\n{}", r.all());
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_makes_its_calls_as_the_role_the_block_assumes() {
    let bucket = unique("assume-role");
    let stack = TestStack::new(&format!(
        r#"provider "aws" {{
  assume_role {{
    role_arn     = "arn:aws:iam::123456789012:role/deploy-cli"
    session_name = "dumcel-cli"
    external_id  = "shared-with-the-owner"
  }}
}}

data "aws_caller_identity" "me" {{}}

resource "aws_s3_bucket" "b" {{
  bucket = "{bucket}"
  tags = {{
    deployer = data.aws_caller_identity.me.arn
  }}
}}

output "account" {{
  value = data.aws_caller_identity.me.account_id
}}
"#
    ));
    let applied = ok(&stack, &["apply", "-auto-approve"]);
    assert!(
        !applied.all().contains("shared-with-the-owner"),
        "{}",
        applied.all()
    );
    let tags = s3(&sdk().await)
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .expect("moto has the bucket's tags");
    let deployer = tags
        .tag_set()
        .iter()
        .find(|t| t.key() == "deployer")
        .map(|t| t.value());
    assert_eq!(
        deployer,
        Some("arn:aws:sts::123456789012:assumed-role/deploy-cli/dumcel-cli")
    );
    let out = ok(&stack, &["output", "-raw", "account"]);
    assert_eq!(out.stdout.trim(), "123456789012");
    ok(&stack, &["destroy", "-auto-approve"]);
}
