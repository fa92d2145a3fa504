//! The reference stack (examples/stack.hcl) against moto, end to end through
//! the real binary; results are checked with the AWS SDK, not through dumcel.

mod common;
#[path = "common/aws.rs"]
mod emulator;

use common::{Run, TestStack};
use emulator::{emulator_env, s3, sdk, unique};

fn aws(s: &TestStack, args: &[&str]) -> Run {
    Run::from(
        emulator_env(&mut s.command(args))
            .output()
            .expect("run dumcel"),
    )
}

fn ok(s: &TestStack, args: &[&str]) -> Run {
    let r = aws(s, args);
    assert_eq!(r.code, 0, "dumcel {args:?} failed:\n{}", r.all());
    r
}

fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stack.hcl"))
        .expect("examples/stack.hcl")
}

#[tokio::test(flavor = "multi_thread")]
async fn example_stack_applies_updates_drifts_and_destroys() {
    let name = unique("ex");
    let stack = TestStack::new(&example());
    let var = format!("name={name}");
    ok(&stack, &["apply", "-auto-approve", "-var", &var]);

    let c = sdk().await;
    let ecs = aws_sdk_ecs::Client::new(&c);
    let svc = ecs
        .describe_services()
        .cluster(&name)
        .services("app")
        .send()
        .await
        .unwrap();
    let svc = &svc.services()[0];
    assert_eq!(svc.desired_count(), 2);
    let td1 = svc.task_definition().unwrap().to_owned();
    assert!(td1.ends_with(&format!("{name}:1")), "{td1}");

    // The ALB routes the app's host name to the service's target group.
    let tg_arn = stack
        .attr("aws_lb_target_group.app", "arn")
        .as_str()
        .unwrap()
        .to_owned();
    let lbs = svc.load_balancers();
    assert_eq!(lbs.len(), 1);
    assert_eq!(lbs[0].target_group_arn(), Some(tg_arn.as_str()));
    assert_eq!(lbs[0].container_port(), Some(8080));
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c);
    let rule_arn = stack.attr("aws_lb_listener_rule.app", "arn");
    let rules = elb
        .describe_rules()
        .rule_arns(rule_arn.as_str().unwrap())
        .send()
        .await
        .unwrap();
    let rule = &rules.rules()[0];
    let hosts: Vec<&str> = rule
        .conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values())
        .map(String::as_str)
        .collect();
    assert_eq!(hosts, [format!("{name}.dumcel.test")]);
    assert_eq!(rule.actions()[0].target_group_arn(), Some(tg_arn.as_str()));

    // Nothing to do the second time.
    let r = aws(&stack, &["plan", "-detailed-exitcode", "-var", &var]);
    assert_eq!(r.code, 0, "second plan is not empty:\n{}", r.all());

    // A new image: a new revision, the service updated in place.
    let tag = "image_tag=v2";
    let r = ok(&stack, &["plan", "-var", &var, "-var", tag]);
    assert!(
        r.stdout
            .contains("aws_ecs_service.app will be updated in-place"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("# aws_lb"),
        "the ALB is left alone:\n{}",
        r.stdout
    );
    ok(
        &stack,
        &["apply", "-auto-approve", "-var", &var, "-var", tag],
    );
    let svc = ecs
        .describe_services()
        .cluster(&name)
        .services("app")
        .send()
        .await
        .unwrap();
    let td2 = svc.services()[0].task_definition().unwrap().to_owned();
    assert!(td2.ends_with(&format!("{name}:2")), "{td2}");
    let old = ecs
        .describe_task_definition()
        .task_definition(&td1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.task_definition().unwrap().status().map(|s| s.as_str()),
        Some("INACTIVE")
    );

    // Drift: the bucket deleted and the service scaled outside dumcel.
    let bucket = format!("{name}-assets");
    let s3c = s3(&c);
    // The bucket is versioned: every version and delete marker must go first.
    let versions = s3c
        .list_object_versions()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let ids = versions
        .versions()
        .iter()
        .map(|v| (v.key(), v.version_id()))
        .chain(
            versions
                .delete_markers()
                .iter()
                .map(|m| (m.key(), m.version_id())),
        );
    for (key, version) in ids {
        s3c.delete_object()
            .bucket(&bucket)
            .key(key.unwrap())
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .unwrap();
    }
    s3c.delete_bucket().bucket(&bucket).send().await.unwrap();
    ecs.update_service()
        .cluster(&name)
        .service("app")
        .desired_count(5)
        .send()
        .await
        .unwrap();
    let r = aws(
        &stack,
        &["plan", "-detailed-exitcode", "-var", &var, "-var", tag],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains("aws_s3_bucket.assets has been deleted"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("aws_ecs_service.app has been changed"),
        "{}",
        r.stdout
    );
    ok(
        &stack,
        &["apply", "-auto-approve", "-var", &var, "-var", tag],
    );
    s3c.head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket is back");
    s3c.head_object()
        .bucket(&bucket)
        .key("index.html")
        .send()
        .await
        .expect("object is back");
    let svc = ecs
        .describe_services()
        .cluster(&name)
        .services("app")
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].desired_count(), 2);
    let r = aws(
        &stack,
        &["plan", "-detailed-exitcode", "-var", &var, "-var", tag],
    );
    assert_eq!(r.code, 0, "{}", r.all());

    ok(
        &stack,
        &["destroy", "-auto-approve", "-var", &var, "-var", tag],
    );
    assert!(s3c.head_bucket().bucket(&bucket).send().await.is_err());
    let ecr = aws_sdk_ecr::Client::new(&c);
    assert!(
        ecr.describe_repositories()
            .repository_names(&name)
            .send()
            .await
            .is_err()
    );
    let gone = elb.describe_load_balancers().names(&name).send().await;
    assert!(gone.is_err(), "the ALB is gone after destroy: {gone:?}");
    let ddb = aws_sdk_dynamodb::Client::new(&c);
    assert!(
        ddb.describe_table()
            .table_name(format!("{name}-data"))
            .send()
            .await
            .is_err()
    );
    let clusters = ecs
        .describe_clusters()
        .clusters(&name)
        .send()
        .await
        .unwrap();
    assert!(
        clusters
            .clusters()
            .iter()
            .all(|c| c.status() == Some("INACTIVE"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn import_existing_repository_and_cluster() {
    let name = unique("imp");
    let c = sdk().await;
    let ecr = aws_sdk_ecr::Client::new(&c);
    ecr.create_repository()
        .repository_name(&name)
        .send()
        .await
        .unwrap();
    let ecs = aws_sdk_ecs::Client::new(&c);
    ecs.create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .unwrap();

    let stack = TestStack::new(&format!(
        r#"
resource "aws_ecr_repository" "r" {{
  name = "{name}"
}}
resource "aws_ecs_cluster" "c" {{
  name = "{name}"
}}
"#
    ));
    ok(&stack, &["import", "aws_ecr_repository.r", &name]);
    ok(&stack, &["import", "aws_ecs_cluster.c", &name]);
    assert!(
        stack
            .attr("aws_ecr_repository.r", "repository_url")
            .as_str()
            .unwrap()
            .ends_with(&name)
    );
    let r = aws(&stack, &["plan", "-detailed-exitcode"]);
    // Only tags_all may differ (import does not read tags): nothing is replaced.
    assert!(!r.stdout.contains("must be replaced"), "{}", r.all());
    assert!(r.code == 0 || r.code == 2, "{}", r.all());
    ok(&stack, &["apply", "-auto-approve"]);
    let r = aws(&stack, &["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    ok(&stack, &["destroy", "-auto-approve"]);
    assert!(
        ecr.describe_repositories()
            .repository_names(&name)
            .send()
            .await
            .is_err()
    );
}

#[test]
fn aws_errors_reach_the_user_with_the_address() {
    let stack = TestStack::new(
        r#"
resource "aws_ecs_service" "s" {
  name            = "s"
  cluster         = "no-such-cluster-for-dumcel"
  task_definition = "no-such-family:1"
}
"#,
    );
    let r = aws(&stack, &["apply", "-auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("aws_ecs_service.s"), "{}", r.all());
    assert!(r.all().contains("Exception"), "{}", r.all());
}

/// `dynamic "ingress"` blocks, through the binary, against a real (emulated)
/// EC2 API: one rule per port, and a port removed from the list is a rule
/// revoked in place.
#[tokio::test(flavor = "multi_thread")]
async fn dynamic_ingress_blocks_become_security_group_rules() {
    let name = unique("dyn");
    let stack_text = |ports: &str| {
        format!(
            r#"
variable "ports" {{
  type    = list(number)
  default = {ports}
}}

data "aws_vpc" "default" {{
  default = true
}}

resource "aws_security_group" "web" {{
  name        = "{name}"
  description = "dynamic ingress"
  vpc_id      = data.aws_vpc.default.id

  dynamic "ingress" {{
    for_each = var.ports
    content {{
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }}
  }}
}}
"#
        )
    };
    let stack = TestStack::new(&stack_text("[80, 443, 8080]"));
    ok(&stack, &["apply", "-auto-approve"]);
    let c = sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&c);
    let id = stack
        .attr("aws_security_group.web", "id")
        .as_str()
        .unwrap()
        .to_owned();
    let ports =
        |g: &aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput| {
            let mut p: Vec<i32> = g.security_groups()[0]
                .ip_permissions()
                .iter()
                .filter_map(|r| r.from_port())
                .collect();
            p.sort();
            p
        };
    let g = ec2
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(ports(&g), [80, 443, 8080]);

    stack.write("main.hcl", &stack_text("[443]"));
    let r = ok(&stack, &["plan", "-no-color"]);
    assert!(
        r.stdout
            .contains("aws_security_group.web will be updated in-place"),
        "{}",
        r.stdout
    );
    ok(&stack, &["apply", "-auto-approve"]);
    let g = ec2
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(ports(&g), [443], "the same group, two rules revoked");
    let r = aws(&stack, &["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    ok(&stack, &["destroy", "-auto-approve"]);
    assert!(
        ec2.describe_security_groups()
            .group_ids(&id)
            .send()
            .await
            .is_err()
    );
}
