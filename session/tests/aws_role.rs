//! The AWS credentials of a headless run, read back from moto's API (never
//! from dumcel's state): a role the host pins is what every call is made as,
//! a run without one uses the host's own credentials, a sandboxed stack may
//! not choose credentials of its own, and a stack's own `assume_role` works
//! as the CLI runs it.
//!
//! The host's credentials and moto's endpoint come from the environment, as
//! dev/test.sh exports them (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, ...).

use std::path::PathBuf;
use std::time::Duration;

use dumcel_session::{Applied, AwsRole, Operation, Request, RunError, Sandbox, run};
use tempfile::TempDir;

const PREVIEW_ROLE: &str = "arn:aws:iam::123456789012:role/deploy-preview";

/// moto's endpoint from the environment, refusing anything but loopback and
/// a run without the host credentials the tests assume.
fn endpoint() -> String {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    assert!(
        host.starts_with("127."),
        "these tests need moto: export AWS_ENDPOINT_URL=http://127.0.0.1:5005 AWS_ACCESS_KEY_ID=testing \
         AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
         (dev/test.sh does; start moto with dev/services/moto.sh), got AWS_ENDPOINT_URL={url:?}"
    );
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
        "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing for moto"
    );
    assert!(
        std::net::TcpStream::connect(host).is_ok(),
        "moto is not answering on {url}: start it with dev/services/moto.sh"
    );
    url
}

async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .load()
        .await
}

fn s3(c: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(c)
            .force_path_style(true)
            .build(),
    )
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A bucket tagged with who made it.
fn tagged_bucket(bucket: &str) -> String {
    format!(
        r#"data "aws_caller_identity" "me" {{}}

resource "aws_s3_bucket" "b" {{
  bucket = "{bucket}"
  tags = {{
    deployer = data.aws_caller_identity.me.arn
  }}
}}
"#
    )
}

/// A checkout holding `stack/main.hcl` and a state directory beside it.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(main: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("checkout/stack");
        std::fs::create_dir_all(&stack).unwrap();
        std::fs::write(stack.join("main.hcl"), main).unwrap();
        Fixture { dir }
    }

    fn checkout(&self) -> PathBuf {
        self.dir.path().join("checkout")
    }

    fn main_hcl(&self) -> String {
        self.checkout().join("stack/main.hcl").display().to_string()
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    async fn run(
        &self,
        operation: Operation,
        sandboxed: bool,
        aws_role: Option<AwsRole>,
    ) -> Result<Applied, RunError> {
        let (checkout, state_dir) = (self.checkout(), self.state_dir());
        let stack = checkout.join("stack");
        run(Request {
            root: &stack,
            state_dir: &state_dir,
            workspace: "default",
            variables: Vec::new(),
            operation,
            lock_timeout: Duration::from_secs(5),
            parallelism: 4,
            sandbox: sandboxed.then_some(Sandbox {
                root: &checkout,
                backend: None,
            }),
            aws_role,
        })
        .await
    }
}

async fn deployer_tag(bucket: &str) -> String {
    let tags = s3(&sdk().await)
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto has no tags for {bucket}: {e:?}"));
    tags.tag_set()
        .iter()
        .find(|t| t.key() == "deployer")
        .map(|t| t.value().to_owned())
        .unwrap_or_else(|| panic!("no deployer tag on {bucket}: {tags:?}"))
}

async fn bucket_exists(bucket: &str) -> bool {
    let listed = s3(&sdk().await).list_buckets().send().await.unwrap();
    listed.buckets().iter().any(|b| b.name() == Some(bucket))
}

#[tokio::test]
async fn a_pinned_role_is_what_a_sandboxed_run_deploys_as() {
    endpoint();
    let bucket = unique("pinned");
    let f = Fixture::new(&tagged_bucket(&bucket));
    let role = AwsRole {
        role_arn: PREVIEW_ROLE.to_owned(),
        session_name: "dumcel-shop-preview-feature".to_owned(),
    };
    f.run(Operation::Apply, true, Some(role.clone()))
        .await
        .expect("apply");
    assert_eq!(
        deployer_tag(&bucket).await,
        "arn:aws:sts::123456789012:assumed-role/deploy-preview/dumcel-shop-preview-feature"
    );
    f.run(Operation::Destroy, true, Some(role))
        .await
        .expect("destroy");
    assert!(!bucket_exists(&bucket).await);
}

#[tokio::test]
async fn without_a_pinned_role_a_run_deploys_as_the_host() {
    endpoint();
    let bucket = unique("plain");
    let f = Fixture::new(&tagged_bucket(&bucket));
    f.run(Operation::Apply, true, None).await.expect("apply");
    let host = aws_sdk_sts::Client::new(&sdk().await)
        .get_caller_identity()
        .send()
        .await
        .expect("moto's GetCallerIdentity");
    let tag = deployer_tag(&bucket).await;
    assert_eq!(Some(tag.as_str()), host.arn());
    assert!(!tag.contains("assumed-role"), "{tag}");
    f.run(Operation::Destroy, true, None)
        .await
        .expect("destroy");
}

#[tokio::test]
async fn a_sandboxed_stack_may_not_choose_its_credentials() {
    endpoint();
    let bucket = unique("refused");
    let f = Fixture::new(&format!(
        r#"provider "aws" {{
  profile = "prod"
  region  = "us-east-1"
  assume_role {{
    role_arn = "arn:aws:iam::123456789012:role/deploy-production"
  }}
}}

provider "aws" {{
  alias   = "other"
  profile = "other"
}}

{}"#,
        tagged_bucket(&bucket)
    ));
    let role = AwsRole {
        role_arn: PREVIEW_ROLE.to_owned(),
        session_name: "dumcel-shop-preview-x".to_owned(),
    };
    let Err(e) = f.run(Operation::Apply, true, Some(role)).await else {
        panic!("a stack choosing a profile applied");
    };
    let message = e.to_string();
    let at = f.main_hcl();
    assert!(
        message.contains(&format!(
            "{at}:2:3: pipeline runs take their AWS credentials from the daemon's role for the environment; remove `profile` from provider \"aws\""
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("{at}:4:3: pipeline runs take their AWS credentials from the daemon's role for the environment; remove `assume_role` from provider \"aws\"")),
        "{message}"
    );
    // An aliased configuration is refused the same way.
    assert!(
        message.contains(&format!("{at}:11:3: pipeline runs take their AWS credentials from the daemon's role for the environment; remove `profile` from provider \"aws\"")),
        "{message}"
    );
    assert!(!f.state_dir().exists(), "a refused run opened its state");
    assert!(!bucket_exists(&bucket).await, "a refused run made {bucket}");
}

#[tokio::test]
async fn assume_role_in_the_block_works_as_the_cli_runs_it() {
    endpoint();
    let bucket = unique("cli");
    let f = Fixture::new(&format!(
        r#"provider "aws" {{
  assume_role {{
    role_arn     = "arn:aws:iam::123456789012:role/deploy-cli"
    session_name = "cli-session"
  }}
}}

{}"#,
        tagged_bucket(&bucket)
    ));
    f.run(Operation::Apply, false, None).await.expect("apply");
    assert_eq!(
        deployer_tag(&bucket).await,
        "arn:aws:sts::123456789012:assumed-role/deploy-cli/cli-session"
    );
    f.run(Operation::Destroy, false, None)
        .await
        .expect("destroy");
}
