//! The data sources a stack finds shared objects with: `aws_lb` (by name,
//! ARN or tags), `aws_lb_listener` (by ARN, or load balancer and port) and
//! `aws_ecs_cluster` (by name), against moto. The objects are made with the
//! AWS SDK, as another stack (or a person) would have made them; what the
//! data sources report is compared with what the SDK reads. A stack walk
//! then adds a target group and a host-name rule to a listener it found,
//! as the pipeline's per-environment stack does.

mod common;

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum, Tag,
};
use common::walk::*;
use common::*;
use dumcel_planner::Value;
use dumcel_state::State;

/// moto's default VPC, two of its subnets and a security group of the test's own.
async fn network(env: &Env) -> (String, Vec<String>, String) {
    let ec2 = env.ec2();
    let vpc = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("isDefault")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("describe vpcs")
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_owned();
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc)
                .build(),
        )
        .send()
        .await
        .expect("describe subnets");
    let mut ids: Vec<String> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids.truncate(2);
    let sg = ec2
        .create_security_group()
        .group_name(unique("lookup-sg"))
        .description("lookups tests")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("security group")
        .group_id()
        .unwrap()
        .to_owned();
    (vpc, ids, sg)
}

/// What another stack made: a load balancer tagged `team = <name>`, an
/// HTTP listener redirecting to HTTPS, an HTTPS listener with a
/// certificate answering 404, and an ECS cluster.
struct Shared {
    name: String,
    vpc: String,
    subnets: Vec<String>,
    sg: String,
    lb_arn: String,
    http_arn: String,
    https_arn: String,
    cert_arn: String,
    cluster_arn: String,
}

async fn shared(env: &Env) -> Shared {
    let name = unique("lk");
    let (vpc, subnets, sg) = network(env).await;
    let elb = env.elbv2();
    let lb = elb
        .create_load_balancer()
        .name(&name)
        .set_subnets(Some(subnets.clone()))
        .security_groups(&sg)
        .tags(Tag::builder().key("team").value(&name).build())
        .send()
        .await
        .expect("create load balancer");
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let http = elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .port(80)
        .protocol(ProtocolEnum::Http)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port("443")
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create HTTP listener");
    let acm = aws_sdk_acm::Client::new(&env.sdk);
    let cert_arn = acm
        .request_certificate()
        .domain_name(format!("*.{name}.test"))
        .send()
        .await
        .expect("request certificate")
        .certificate_arn()
        .unwrap()
        .to_owned();
    let https = elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .port(443)
        .protocol(ProtocolEnum::Https)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .certificates(Certificate::builder().certificate_arn(&cert_arn).build())
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .content_type("text/plain")
                        .status_code("404")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create HTTPS listener");
    let cluster = env
        .ecs()
        .create_cluster()
        .cluster_name(&name)
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("team")
                .value(&name)
                .build(),
        )
        .settings(
            aws_sdk_ecs::types::ClusterSetting::builder()
                .name(aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
                .value("enabled")
                .build(),
        )
        .send()
        .await
        .expect("create cluster");
    Shared {
        vpc,
        subnets,
        sg,
        lb_arn,
        http_arn: http.listeners()[0].listener_arn().unwrap().to_owned(),
        https_arn: https.listeners()[0].listener_arn().unwrap().to_owned(),
        cert_arn,
        cluster_arn: cluster.cluster().unwrap().cluster_arn().unwrap().to_owned(),
        name,
    }
}

async fn tear_down(env: &Env, s: &Shared) {
    let _ = env
        .elbv2()
        .delete_load_balancer()
        .load_balancer_arn(&s.lb_arn)
        .send()
        .await;
    let _ = env.ecs().delete_cluster().cluster(&s.name).send().await;
    let _ = env
        .ec2()
        .delete_security_group()
        .group_id(&s.sg)
        .send()
        .await;
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} is not a string in {v:?}"))
}

fn texts(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_list)
        .unwrap_or_else(|| panic!("{key} is not a list in {v:?}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn tag_map(v: &Value) -> BTreeMap<String, String> {
    v.get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_load_balancer_its_listeners_and_a_cluster_are_found() {
    let env = Env::new().await;
    let s = shared(&env).await;
    let lb_data = env.data("aws_lb");

    // By name: everything the resource would report, as ELBv2 has it.
    let lb = lb_data
        .read(&obj(&[("name", Value::string(&s.name))]))
        .await
        .expect("aws_lb by name");
    let live = env
        .elbv2()
        .describe_load_balancers()
        .load_balancer_arns(&s.lb_arn)
        .send()
        .await
        .unwrap();
    let live = &live.load_balancers()[0];
    assert_eq!(text(&lb, "arn"), s.lb_arn);
    assert_eq!(text(&lb, "id"), s.lb_arn);
    assert_eq!(text(&lb, "name"), s.name);
    assert_eq!(Some(text(&lb, "dns_name")), live.dns_name());
    assert_eq!(Some(text(&lb, "zone_id")), live.canonical_hosted_zone_id());
    assert_eq!(text(&lb, "vpc_id"), s.vpc);
    assert_eq!(texts(&lb, "subnets"), s.subnets);
    assert_eq!(texts(&lb, "security_groups"), std::slice::from_ref(&s.sg));
    assert_eq!(text(&lb, "load_balancer_type"), "application");
    assert_eq!(lb.get("internal"), Some(&Value::Bool(false)));
    assert!(
        text(&lb, "arn_suffix").starts_with("app/"),
        "{}",
        text(&lb, "arn_suffix")
    );
    assert_eq!(tag_map(&lb).get("team"), Some(&s.name));

    // By ARN, and by tags alone: the same load balancer.
    let by_arn = lb_data
        .read(&obj(&[("arn", Value::string(&s.lb_arn))]))
        .await
        .expect("aws_lb by arn");
    assert_eq!(text(&by_arn, "name"), s.name);
    let by_tags = lb_data
        .read(&obj(&[(
            "tags",
            Value::Map([("team".to_owned(), Value::string(&s.name))].into()),
        )]))
        .await
        .expect("aws_lb by tags");
    assert_eq!(text(&by_tags, "arn"), s.lb_arn);
    // A name with tags that do not match finds nothing.
    let err = lb_data
        .read(&obj(&[
            ("name", Value::string(&s.name)),
            (
                "tags",
                Value::Map([("team".to_owned(), Value::string("someone-else"))].into()),
            ),
        ]))
        .await
        .expect_err("tags that do not match");
    assert!(err.message.contains("LoadBalancerNotFound"), "{err:?}");
    let err = lb_data
        .read(&obj(&[("name", Value::string(unique("nope")))]))
        .await
        .expect_err("no such load balancer");
    assert!(err.message.contains("LoadBalancerNotFound"), "{err:?}");
    assert!(lb_data.read(&obj(&[])).await.is_err(), "nothing to go by");

    // The HTTPS listener by load balancer and port, with its certificate.
    let listener_data = env.data("aws_lb_listener");
    let https = listener_data
        .read(&obj(&[
            ("load_balancer_arn", Value::string(&s.lb_arn)),
            ("port", Value::Number(443.0)),
        ]))
        .await
        .expect("aws_lb_listener by port");
    assert_eq!(text(&https, "arn"), s.https_arn);
    assert_eq!(text(&https, "protocol"), "HTTPS");
    assert_eq!(text(&https, "certificate_arn"), s.cert_arn);
    assert_eq!(
        text(&https, "ssl_policy"),
        "ELBSecurityPolicy-TLS13-1-2-2021-06"
    );
    let action = &https
        .get("default_action")
        .and_then(Value::as_list)
        .unwrap()[0];
    assert_eq!(text(action, "type"), "fixed-response");
    // The HTTP one by ARN: a redirect to HTTPS.
    let http = listener_data
        .read(&obj(&[("arn", Value::string(&s.http_arn))]))
        .await
        .expect("aws_lb_listener by arn");
    assert_eq!(http.get("port"), Some(&Value::Number(80.0)));
    assert_eq!(text(&http, "load_balancer_arn"), s.lb_arn);
    let action = &http.get("default_action").and_then(Value::as_list).unwrap()[0];
    assert_eq!(text(action, "type"), "redirect");
    let redirect = &action.get("redirect").and_then(Value::as_list).unwrap()[0];
    assert_eq!(text(redirect, "protocol"), "HTTPS");
    assert_eq!(text(redirect, "port"), "443");
    assert_eq!(text(redirect, "status_code"), "HTTP_301");
    let err = listener_data
        .read(&obj(&[
            ("load_balancer_arn", Value::string(&s.lb_arn)),
            ("port", Value::Number(8443.0)),
        ]))
        .await
        .expect_err("no listener on 8443");
    assert!(err.message.contains("no listener on port 8443"), "{err:?}");
    assert!(
        listener_data
            .read(&obj(&[("port", Value::Number(443.0))]))
            .await
            .is_err(),
        "a port alone names no listener"
    );

    // The cluster by name, with its tags and settings.
    let cluster_data = env.data("aws_ecs_cluster");
    let cluster = cluster_data
        .read(&obj(&[("cluster_name", Value::string(&s.name))]))
        .await
        .expect("aws_ecs_cluster");
    assert_eq!(text(&cluster, "arn"), s.cluster_arn);
    assert_eq!(text(&cluster, "id"), s.cluster_arn);
    assert_eq!(text(&cluster, "status"), "ACTIVE");
    assert_eq!(
        cluster.get("running_tasks_count"),
        Some(&Value::Number(0.0))
    );
    assert_eq!(tag_map(&cluster).get("team"), Some(&s.name));
    let settings = cluster.get("setting").and_then(Value::as_list).unwrap();
    assert!(
        settings
            .iter()
            .any(|st| text(st, "name") == "containerInsights" && text(st, "value") == "enabled"),
        "{settings:?}"
    );

    // Deleted: ECS lists it INACTIVE for a while, which is not found.
    tear_down(&env, &s).await;
    let err = cluster_data
        .read(&obj(&[("cluster_name", Value::string(&s.name))]))
        .await
        .expect_err("a deleted cluster");
    assert!(err.message.contains("ClusterNotFoundException"), "{err:?}");
    let err = lb_data
        .read(&obj(&[("arn", Value::string(&s.lb_arn))]))
        .await
        .expect_err("a deleted load balancer");
    assert!(err.message.contains("LoadBalancerNotFound"), "{err:?}");
}

/// A per-environment stack as the pipeline's: it finds the shared load
/// balancer, HTTPS listener and cluster, and adds its target group and
/// host-name rule. A second plan has nothing to do; destroy takes only what
/// the stack made.
#[tokio::test(flavor = "multi_thread")]
async fn a_stack_adds_its_rule_to_a_listener_it_found() {
    let env = Env::new().await;
    let s = shared(&env).await;
    let dir = tempfile::tempdir().unwrap();
    let host = format!("app.{}.test", s.name);
    std::fs::write(
        dir.path().join("main.hcl"),
        format!(
            r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    ec2   = "{endpoint}"
    ecs   = "{endpoint}"
    elbv2 = "{endpoint}"
  }}
}}

data "aws_lb" "shared" {{
  name = "{name}"
}}

data "aws_lb_listener" "https" {{
  load_balancer_arn = data.aws_lb.shared.arn
  port              = 443
}}

data "aws_ecs_cluster" "shared" {{
  cluster_name = "{name}"
}}

resource "aws_lb_target_group" "app" {{
  name        = "{name}-tg"
  port        = 8080
  protocol    = "HTTP"
  vpc_id      = data.aws_lb.shared.vpc_id
  target_type = "ip"
}}

resource "aws_lb_listener_rule" "app" {{
  listener_arn = data.aws_lb_listener.https.arn

  action {{
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }}

  condition {{
    host_header {{
      values = ["{host}"]
    }}
  }}
}}

output "cluster_arn" {{
  value = data.aws_ecs_cluster.shared.arn
}}

output "certificate_arn" {{
  value = data.aws_lb_listener.https.certificate_arn
}}
"#,
            endpoint = env.endpoint,
            name = s.name,
        ),
    )
    .unwrap();

    let (state, _) = plan_apply(dir.path(), State::new(), false).await;
    let output = |name: &str| {
        state
            .outputs
            .get(name)
            .and_then(|o| o.value.as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no output {name}"))
    };
    assert_eq!(output("cluster_arn"), s.cluster_arn);
    assert_eq!(output("certificate_arn"), s.cert_arn);
    let rules = env
        .elbv2()
        .describe_rules()
        .listener_arn(&s.https_arn)
        .send()
        .await
        .unwrap();
    let tg = attr(&state, "aws_lb_target_group.app", "arn");
    let ours: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .collect();
    assert_eq!(ours.len(), 1, "{rules:?}");
    let hosts: Vec<&str> = ours[0]
        .conditions()
        .iter()
        .filter_map(|c| c.host_header_config())
        .flat_map(|h| h.values())
        .map(String::as_str)
        .collect();
    assert_eq!(hosts, [host.as_str()]);
    assert_eq!(ours[0].actions()[0].target_group_arn(), Some(tg.as_str()));

    // The data sources read the same again: nothing to do.
    let (_, p) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&p).is_empty(), "{:?}", changes(&p));

    // Destroy: the rule and target group go; the shared listener stays.
    let (state, _) = plan_apply(dir.path(), state, true).await;
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    let rules = env
        .elbv2()
        .describe_rules()
        .listener_arn(&s.https_arn)
        .send()
        .await
        .expect("the shared listener is still there");
    assert!(
        rules.rules().iter().all(|r| r.is_default() == Some(true)),
        "{rules:?}"
    );
    tear_down(&env, &s).await;
}
