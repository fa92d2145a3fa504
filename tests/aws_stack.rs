//! The reference stack (examples/stack.hcl) against moto, end to end through
//! the real binary; results are checked with the AWS SDK, not through dumcel.
//!
//! moto never completes a second ECS rollout (UpdateService keeps the first
//! deployment as PRIMARY), so the image update is applied with
//! `wait_for_steady_state = false`; with the wait it would run into the
//! service's update timeout.

mod common;
#[path = "common/aws.rs"]
mod emulator;

use aws_sdk_ec2::types::Filter;
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

fn text(s: &TestStack, address: &str, attr: &str) -> String {
    s.attr(address, attr)
        .as_str()
        .unwrap_or_else(|| panic!("{address}.{attr} is not in the state"))
        .to_owned()
}

fn tag_filter(key: &str, value: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

/// DNS names compare without case and trailing dot.
fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

#[tokio::test(flavor = "multi_thread")]
async fn example_stack_applies_updates_and_destroys() {
    let name = unique("ex");
    let domain = format!("{name}.test");
    let host = format!("{name}.{domain}");
    let stack = TestStack::new(&example());
    let vars = [
        "-var".to_owned(),
        format!("name={name}"),
        "-var".to_owned(),
        format!("domain={domain}"),
        "-var".to_owned(),
        "app_secret=correct horse battery staple".to_owned(),
    ];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|a| a.to_string())
            .chain(vars.iter().cloned())
            .collect()
    };
    let run = |args: &[&str]| {
        let args = with(args);
        aws(&stack, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let must = |args: &[&str]| {
        let r = run(args);
        assert_eq!(r.code, 0, "dumcel {args:?} failed:\n{}", r.all());
        r
    };

    // From nothing; the wait for the first rollout ends on moto (see
    // dev/services/moto.sh: new services report their tasks running).
    let r = must(&["apply", "-auto-approve"]);
    assert!(
        !r.all().contains("correct horse"),
        "the secret is printed:\n{}",
        r.all()
    );

    let c = sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&c);

    // Its own VPC, and one NAT gateway in a public subnet.
    let vpcs = ec2
        .describe_vpcs()
        .filters(tag_filter("Name", &name))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "{vpcs:?}");
    let vpc = vpcs.vpcs()[0].vpc_id().unwrap().to_owned();
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"));
    let public: Vec<String> = (0..2)
        .map(|i| text(&stack, &format!("aws_subnet.public[{i}]"), "id"))
        .collect();
    let mut private: Vec<String> = (0..2)
        .map(|i| text(&stack, &format!("aws_subnet.private[{i}]"), "id"))
        .collect();
    private.sort();
    let nats = ec2
        .describe_nat_gateways()
        .filter(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .unwrap();
    let nats: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| n.state().map(|s| s.as_str()) == Some("available"))
        .collect();
    assert_eq!(nats.len(), 1, "{nats:?}");
    assert_eq!(nats[0].subnet_id(), Some(public[0].as_str()));
    // The private subnets go out through it.
    let tables = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(&private[0])
                .build(),
        )
        .send()
        .await
        .unwrap();
    let nat_id = nats[0].nat_gateway_id().unwrap();
    assert!(
        tables.route_tables()[0]
            .routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
                && r.nat_gateway_id() == Some(nat_id)),
        "{tables:?}"
    );

    // The service: two tasks in the private subnets, no public address,
    // pulling with the execution role, logging to the log group, the secret
    // in its environment.
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
    let net = svc
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("awsvpc network configuration");
    let mut subnets = net.subnets().to_vec();
    subnets.sort();
    assert_eq!(subnets, private);
    assert_eq!(net.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
    let td1 = svc.task_definition().unwrap().to_owned();
    assert!(td1.ends_with(&format!("{name}:1")), "{td1}");
    let iam = aws_sdk_iam::Client::new(&c);
    let role_arn = |role: String| {
        let iam = iam.clone();
        async move {
            iam.get_role()
                .role_name(role)
                .send()
                .await
                .unwrap()
                .role()
                .unwrap()
                .arn()
                .to_owned()
        }
    };
    let def = ecs
        .describe_task_definition()
        .task_definition(&td1)
        .send()
        .await
        .unwrap();
    let def = def.task_definition().unwrap();
    assert_eq!(
        def.execution_role_arn(),
        Some(role_arn(format!("{name}-execution")).await.as_str())
    );
    assert_eq!(
        def.task_role_arn(),
        Some(role_arn(format!("{name}-task")).await.as_str())
    );
    let attached = iam
        .list_attached_role_policies()
        .role_name(format!("{name}-execution"))
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().iter().any(|p| p.policy_arn()
            == Some("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")),
        "{attached:?}"
    );
    let container = &def.container_definitions()[0];
    let logs = container.log_configuration().expect("a log configuration");
    assert_eq!(logs.log_driver().as_str(), "awslogs");
    let options = logs.options().expect("awslogs options");
    assert_eq!(
        options.get("awslogs-group").map(String::as_str),
        Some(format!("/ecs/{name}").as_str())
    );
    let secret_arn = text(&stack, "aws_secretsmanager_secret.app", "arn");
    let secrets: Vec<(&str, &str)> = container
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(secrets, [("APP_SECRET", secret_arn.as_str())]);
    let sm = aws_sdk_secretsmanager::Client::new(&c);
    let value = sm
        .get_secret_value()
        .secret_id(&secret_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(value.secret_string(), Some("correct horse battery staple"));
    let state = stack.read("dumcel.tfstate");
    assert!(
        state.contains("correct horse"),
        "the state holds the secret version's value, as Terraform's does"
    );

    // The log group, kept 30 days.
    let cw = aws_sdk_cloudwatchlogs::Client::new(&c);
    let groups = cw
        .describe_log_groups()
        .log_group_name_prefix(format!("/ecs/{name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));

    // The ALB: HTTP redirected to HTTPS; HTTPS with the validated
    // certificate, the app's host name forwarded to the service's targets.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c);
    let lb_arn = text(&stack, "aws_lb.main", "arn");
    let lb_dns = text(&stack, "aws_lb.main", "dns_name");
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(&lb_arn)
        .send()
        .await
        .unwrap();
    let listener = |port: i32| {
        listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(port))
            .unwrap_or_else(|| panic!("no listener on {port}: {listeners:?}"))
    };
    let redirect = listener(80).default_actions()[0]
        .redirect_config()
        .expect("port 80 redirects");
    assert_eq!(redirect.protocol(), Some("HTTPS"));
    assert_eq!(redirect.port(), Some("443"));
    assert_eq!(redirect.status_code().map(|s| s.as_str()), Some("HTTP_301"));
    let https = listener(443);
    assert_eq!(https.protocol().map(|p| p.as_str()), Some("HTTPS"));
    let cert_arn = text(&stack, "aws_acm_certificate.app", "arn");
    assert_eq!(
        https
            .certificates()
            .iter()
            .filter_map(|c| c.certificate_arn())
            .collect::<Vec<_>>(),
        [cert_arn.as_str()]
    );
    let acm = aws_sdk_acm::Client::new(&c);
    let cert = acm
        .describe_certificate()
        .certificate_arn(&cert_arn)
        .send()
        .await
        .unwrap();
    let cert = cert.certificate().unwrap();
    assert_eq!(cert.domain_name(), Some(host.as_str()));
    assert_eq!(cert.status().map(|s| s.as_str()), Some("ISSUED"));
    let rules = elb
        .describe_rules()
        .listener_arn(https.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let tg_arn = text(&stack, "aws_lb_target_group.app", "arn");
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.is_default() != Some(true))
        .expect("a host-name rule");
    let hosts: Vec<&str> = rule
        .conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values())
        .map(String::as_str)
        .collect();
    assert_eq!(hosts, [host.as_str()]);
    assert_eq!(rule.actions()[0].target_group_arn(), Some(tg_arn.as_str()));
    assert_eq!(
        svc.load_balancers()[0].target_group_arn(),
        Some(tg_arn.as_str())
    );

    // The host name is an alias of the ALB in the stack's zone.
    let r53 = aws_sdk_route53::Client::new(&c);
    let zone_id = text(&stack, "aws_route53_zone.main", "zone_id");
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .unwrap();
    let alias = records
        .resource_record_sets()
        .iter()
        .find(|r| same_name(r.name(), &host) && r.r#type().as_str() == "A")
        .and_then(|r| r.alias_target())
        .unwrap_or_else(|| panic!("no alias A record for {host}: {records:?}"));
    assert!(
        same_name(alias.dns_name(), &lb_dns),
        "{alias:?} is not the ALB {lb_dns}"
    );

    // Scaled on CPU, between 2 and 6 tasks.
    let scaling = aws_sdk_applicationautoscaling::Client::new(&c);
    let resource = format!("service/{name}/app");
    let targets = scaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_ids(&resource)
        .send()
        .await
        .unwrap();
    let target = &targets.scalable_targets()[0];
    assert_eq!(
        (target.min_capacity(), target.max_capacity()),
        (2, 6),
        "{target:?}"
    );
    assert_eq!(
        target.scalable_dimension().as_str(),
        "ecs:service:DesiredCount"
    );
    let policies = scaling
        .describe_scaling_policies()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id(&resource)
        .send()
        .await
        .unwrap();
    let policy = &policies.scaling_policies()[0];
    assert_eq!(policy.policy_type().as_str(), "TargetTrackingScaling");
    let tracking = policy
        .target_tracking_scaling_policy_configuration()
        .expect("target tracking");
    assert_eq!(tracking.target_value(), 60.0);
    assert_eq!(
        tracking
            .predefined_metric_specification()
            .map(|m| m.predefined_metric_type().as_str()),
        Some("ECSServiceAverageCPUUtilization")
    );

    // Nothing to do the second time.
    let r = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "second plan is not empty:\n{}", r.all());

    // A new image: a new revision, the service updated in place, nothing
    // else touched.
    let update = [
        "-var",
        "image_tag=v2",
        "-var",
        "wait_for_steady_state=false",
    ];
    let r = must(&[&["plan"][..], &update].concat());
    assert!(
        r.stdout
            .contains("aws_ecs_service.app will be updated in-place"),
        "{}",
        r.stdout
    );
    // Only the task definition (a new revision) and the service change.
    let changed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(" will be ") || l.contains(" must be replaced"))
        .filter_map(|l| l.trim().strip_prefix("# "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        changed
            .iter()
            .all(|a| ["aws_ecs_task_definition.app", "aws_ecs_service.app"].contains(a)),
        "more than the task definition and the service change:\n{}",
        r.stdout
    );
    must(&[&["apply", "-auto-approve"][..], &update].concat());
    let svc = ecs
        .describe_services()
        .cluster(&name)
        .services("app")
        .send()
        .await
        .unwrap();
    let td2 = svc.services()[0].task_definition().unwrap().to_owned();
    assert!(td2.ends_with(&format!("{name}:2")), "{td2}");
    let r = run(&[&["plan", "-detailed-exitcode"][..], &update].concat());
    assert_eq!(r.code, 0, "{}", r.all());

    // Destroy: nothing of the stack is left.
    must(&[&["destroy", "-auto-approve"][..], &update].concat());
    let vpcs = ec2
        .describe_vpcs()
        .filters(tag_filter("Name", &name))
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "the VPC is left: {vpcs:?}");
    let nats = ec2
        .describe_nat_gateways()
        .filter(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .unwrap();
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting"))),
        "{nats:?}"
    );
    let eip = text_or_none(&stack, "aws_eip.nat");
    assert!(eip.is_none(), "the EIP is still in the state");
    let addresses = ec2
        .describe_addresses()
        .filters(tag_filter("Name", &format!("{name}-nat")))
        .send()
        .await
        .unwrap();
    assert!(addresses.addresses().is_empty(), "{addresses:?}");
    let gone = elb.describe_load_balancers().names(&name).send().await;
    assert!(gone.is_err(), "the ALB is gone after destroy: {gone:?}");
    assert!(
        r53.get_hosted_zone().id(&zone_id).send().await.is_err(),
        "the zone is gone"
    );
    assert!(
        acm.describe_certificate()
            .certificate_arn(&cert_arn)
            .send()
            .await
            .is_err(),
        "the certificate is gone"
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
    let groups = cw
        .describe_log_groups()
        .log_group_name_prefix(format!("/ecs/{name}"))
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "{groups:?}");
    let secret = sm.describe_secret().secret_id(&secret_arn).send().await;
    assert!(
        secret.as_ref().map_or(true, |s| s.deleted_date().is_some()),
        "the secret is left: {secret:?}"
    );
    let targets = scaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_ids(&resource)
        .send()
        .await
        .unwrap();
    assert!(targets.scalable_targets().is_empty(), "{targets:?}");
    for role in ["execution", "task"] {
        assert!(
            iam.get_role()
                .role_name(format!("{name}-{role}"))
                .send()
                .await
                .is_err(),
            "role {role} is left"
        );
    }
    let ecr = aws_sdk_ecr::Client::new(&c);
    assert!(
        ecr.describe_repositories()
            .repository_names(&name)
            .send()
            .await
            .is_err()
    );
    assert!(
        s3(&c)
            .head_bucket()
            .bucket(format!("{name}-assets"))
            .send()
            .await
            .is_err()
    );
    assert!(
        stack.state_addresses().is_empty(),
        "{:?}",
        stack.state_addresses()
    );
}

fn text_or_none(s: &TestStack, address: &str) -> Option<serde_json::Value> {
    let v = s.state()["resources"][address].clone();
    (!v.is_null()).then_some(v)
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
