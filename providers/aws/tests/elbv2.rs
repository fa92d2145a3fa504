//! aws_lb, aws_lb_target_group, aws_lb_listener and aws_lb_listener_rule
//! against moto, in its default VPC (ELBv2 needs real subnets). Results are
//! checked through the AWS SDK directly.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use dumcel_engine::provider::ResourceType;
use dumcel_planner::Value;

fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|x| Value::string(*x)).collect())
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn num(x: f64) -> Value {
    Value::Number(x)
}

fn tags(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::string(*v)))
            .collect(),
    )
}

/// `planned` with the computed attributes of `prior` carried over, as the
/// engine's diff does for an update in place.
fn update_of(rt: &dyn ResourceType, prior: &Value, config: Value) -> Value {
    let mut want = planned(rt, config);
    if let (Value::Map(w), Some(p)) = (&mut want, prior.as_map()) {
        for (name, attr) in &rt.schema().attributes {
            if attr.computed
                && w.get(name).is_none_or(|v| v.is_null() || v.is_unknown())
                && let Some(v) = p.get(name)
            {
                w.insert(name.clone(), v.clone());
            }
        }
    }
    want
}

fn forward(tg_arn: &str) -> Value {
    obj(&[
        ("type", Value::string("forward")),
        ("target_group_arn", Value::string(tg_arn)),
        ("fixed_response", list(vec![])),
    ])
}

fn fixed(status: f64, body: &str) -> Value {
    obj(&[
        ("type", Value::string("fixed-response")),
        (
            "fixed_response",
            list(vec![obj(&[
                ("content_type", Value::string("text/plain")),
                ("message_body", Value::string(body)),
                ("status_code", num(status)),
            ])]),
        ),
    ])
}

fn host_header(hosts: &[&str]) -> Value {
    obj(&[
        ("host_header", list(vec![obj(&[("values", strs(hosts))])])),
        ("path_pattern", list(vec![])),
    ])
}

fn path_pattern(paths: &[&str]) -> Value {
    obj(&[
        ("host_header", list(vec![])),
        ("path_pattern", list(vec![obj(&[("values", strs(paths))])])),
    ])
}

/// moto's default VPC and its subnets (one per availability zone).
async fn default_vpc(env: &Env) -> (String, Vec<String>) {
    let ec2 = env.ec2();
    let vpcs = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("isDefault")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("describe vpcs");
    let vpc = vpcs
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .expect("moto has a default VPC")
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
    assert!(
        ids.len() >= 3,
        "the default VPC has a subnet per AZ: {ids:?}"
    );
    (vpc, ids)
}

async fn security_group(env: &Env, vpc: &str) -> String {
    env.ec2()
        .create_security_group()
        .group_name(unique("lb-sg"))
        .description("elbv2 tests")
        .vpc_id(vpc)
        .send()
        .await
        .expect("security group")
        .group_id()
        .expect("group id")
        .to_owned()
}

async fn live_tags(env: &Env, arn: &str) -> BTreeMap<String, String> {
    let out = env
        .elbv2()
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .expect("describe tags");
    out.tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect()
}

fn expect_code<
    T: std::fmt::Debug,
    E: aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata,
>(
    r: Result<T, E>,
    code: &str,
) {
    match r {
        Ok(v) => panic!("expected {code}, got {v:?}"),
        Err(e) => assert_eq!(e.code(), Some(code)),
    }
}

/// A load balancer in the default VPC, made through the provider.
async fn load_balancer(env: &Env, subnets: &[String], sg: &str) -> (Arc<dyn ResourceType>, Value) {
    let rt = env.resource("aws_lb");
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("lb"))),
            (
                "subnets",
                list(subnets[..2].iter().map(Value::string).collect()),
            ),
            ("security_groups", strs(&[sg])),
        ]),
    );
    let made = rt.create(&cfg).await.expect("create load balancer");
    (rt, made)
}

async fn target_group(env: &Env, vpc: &str) -> (Arc<dyn ResourceType>, Value) {
    let rt = env.resource("aws_lb_target_group");
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("tg"))),
            ("port", num(8080.0)),
            ("protocol", Value::string("HTTP")),
            ("vpc_id", Value::string(vpc)),
            ("target_type", Value::string("ip")),
        ]),
    );
    let made = rt.create(&cfg).await.expect("create target group");
    (rt, made)
}

#[tokio::test]
async fn load_balancer_create_update_import_drift_delete() {
    let env = Env::new().await;
    let (vpc, subnets) = default_vpc(&env).await;
    let sg1 = security_group(&env, &vpc).await;
    let sg2 = security_group(&env, &vpc).await;
    let rt = env.resource("aws_lb");
    let name = unique("lb");
    let config = |subnets: &[String], sg: &str, tag: &str| {
        obj(&[
            ("name", Value::string(&name)),
            ("subnets", list(subnets.iter().map(Value::string).collect())),
            ("security_groups", strs(&[sg])),
            ("tags", tags(&[("app", tag)])),
        ])
    };
    let cfg = planned(rt.as_ref(), config(&subnets[..2], &sg1, "one"));
    // The plan hook shows AWS's defaults before apply.
    assert_eq!(
        cfg.get("load_balancer_type"),
        Some(&Value::string("application"))
    );
    assert_eq!(cfg.get("internal"), Some(&Value::Bool(false)));
    let made = rt.create(&cfg).await.expect("create");
    let arn = s(&made, "arn");
    assert_eq!(s(&made, "id"), arn);
    assert!(s(&made, "arn_suffix").starts_with(&format!("app/{name}/")));
    assert!(!s(&made, "dns_name").is_empty());
    assert!(!s(&made, "zone_id").is_empty());
    assert_eq!(s(&made, "vpc_id"), vpc);
    assert_eq!(
        rt.read(&made).await.unwrap().unwrap(),
        made,
        "no drift after create"
    );

    let elb = env.elbv2();
    let live = elb
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    let live = &live.load_balancers()[0];
    assert_eq!(live.load_balancer_name(), Some(name.as_str()));
    assert_eq!(live.r#type().map(|t| t.as_str()), Some("application"));
    assert_eq!(live.scheme().map(|t| t.as_str()), Some("internet-facing"));
    assert_eq!(live.security_groups(), std::slice::from_ref(&sg1));
    let mut live_subnets: Vec<String> = live
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_owned))
        .collect();
    live_subnets.sort();
    assert_eq!(live_subnets, subnets[..2]);
    assert_eq!(
        live_tags(&env, &arn).await.get("app").map(String::as_str),
        Some("one")
    );

    // Subnets, security groups and tags change in place.
    let want = update_of(rt.as_ref(), &made, config(&subnets[..3], &sg2, "two"));
    let updated = rt.update(&made, &want).await.expect("update");
    assert_eq!(s(&updated, "arn"), arn, "updated in place");
    let live = elb
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    let live = &live.load_balancers()[0];
    assert_eq!(live.security_groups(), std::slice::from_ref(&sg2));
    assert_eq!(live.availability_zones().len(), 3);
    assert_eq!(
        live_tags(&env, &arn).await.get("app").map(String::as_str),
        Some("two")
    );
    assert_eq!(rt.read(&updated).await.unwrap().unwrap(), updated);

    // Tags changed outside dumcel show in tags_all.
    elb.add_tags()
        .resource_arns(&arn)
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("extra")
                .value("x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drifted = rt.read(&updated).await.unwrap().unwrap();
    assert_eq!(
        drifted.get("tags_all"),
        Some(&tags(&[("app", "two"), ("extra", "x")]))
    );

    // Import by ARN.
    let imported = rt.import(&arn).await.expect("import");
    for k in ["arn", "name", "dns_name", "vpc_id", "load_balancer_type"] {
        assert_eq!(imported.get(k), updated.get(k), "{k}");
    }
    assert_eq!(imported.get("internal"), Some(&Value::Bool(false)));
    expect_err_contains(rt.import("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/nope/0123456789abcdef").await, "LoadBalancerNotFound");

    // Deleted outside dumcel: read says it is gone (drift), delete is a no-op.
    elb.delete_load_balancer()
        .load_balancer_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(rt.read(&updated).await.unwrap().is_none());
    rt.delete(&updated).await.expect("delete of a deleted LB");
}

fn expect_err_contains<T: std::fmt::Debug>(
    r: Result<T, dumcel_engine::provider::ProviderError>,
    what: &str,
) {
    match r {
        Ok(v) => panic!("expected an error with {what}, got {v:?}"),
        Err(e) => assert!(e.message.contains(what), "{}", e.message),
    }
}

#[tokio::test]
async fn load_balancer_delete_waits_until_gone_and_internal_scheme() {
    let env = Env::new().await;
    let (_vpc, subnets) = default_vpc(&env).await;
    let rt = env.resource("aws_lb");
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("lb"))),
            ("internal", Value::Bool(true)),
            (
                "subnets",
                list(subnets[..2].iter().map(Value::string).collect()),
            ),
        ]),
    );
    let made = rt.create(&cfg).await.expect("create");
    assert_eq!(made.get("internal"), Some(&Value::Bool(true)));
    let arn = s(&made, "arn");
    let live = env
        .elbv2()
        .describe_load_balancers()
        .load_balancer_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.load_balancers()[0].scheme().map(|t| t.as_str()),
        Some("internal")
    );
    rt.delete(&made).await.expect("delete");
    expect_code(
        env.elbv2()
            .describe_load_balancers()
            .load_balancer_arns(&arn)
            .send()
            .await,
        "LoadBalancerNotFound",
    );
    assert!(rt.read(&made).await.unwrap().is_none());
}

#[tokio::test]
async fn target_group_create_update_import_delete() {
    let env = Env::new().await;
    let (vpc, _) = default_vpc(&env).await;
    let rt = env.resource("aws_lb_target_group");
    let name = unique("tg");
    let config = |path: &str, delay: f64, tag: &str| {
        obj(&[
            ("name", Value::string(&name)),
            ("port", num(8080.0)),
            ("protocol", Value::string("HTTP")),
            ("vpc_id", Value::string(&vpc)),
            ("target_type", Value::string("ip")),
            ("deregistration_delay", num(delay)),
            (
                "health_check",
                list(vec![obj(&[
                    ("path", Value::string(path)),
                    ("port", Value::string("traffic-port")),
                    ("protocol", Value::string("HTTP")),
                    ("matcher", Value::string("200-299")),
                    ("interval", num(15.0)),
                    ("timeout", num(5.0)),
                    ("healthy_threshold", num(2.0)),
                    ("unhealthy_threshold", num(3.0)),
                ])]),
            ),
            ("tags", tags(&[("app", tag)])),
        ])
    };
    let made = rt
        .create(&planned(rt.as_ref(), config("/", 30.0, "one")))
        .await
        .expect("create");
    let arn = s(&made, "arn");
    assert!(s(&made, "arn_suffix").starts_with(&format!("targetgroup/{name}/")));
    assert_eq!(
        rt.read(&made).await.unwrap().unwrap(),
        made,
        "no drift after create"
    );

    let elb = env.elbv2();
    let describe = || async {
        let out = elb
            .describe_target_groups()
            .target_group_arns(&arn)
            .send()
            .await
            .unwrap();
        out.target_groups()[0].clone()
    };
    let delay = || async {
        let out = elb
            .describe_target_group_attributes()
            .target_group_arn(&arn)
            .send()
            .await
            .unwrap();
        out.attributes()
            .iter()
            .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
            .and_then(|a| a.value().map(str::to_owned))
    };
    let live = describe().await;
    assert_eq!(live.port(), Some(8080));
    assert_eq!(live.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(live.health_check_path(), Some("/"));
    assert_eq!(live.health_check_interval_seconds(), Some(15));
    assert_eq!(live.matcher().and_then(|m| m.http_code()), Some("200-299"));
    assert_eq!(delay().await.as_deref(), Some("30"));
    assert_eq!(
        live_tags(&env, &arn).await.get("app").map(String::as_str),
        Some("one")
    );

    // Health check, deregistration delay and tags change in place.
    let want = update_of(rt.as_ref(), &made, config("/health", 10.0, "two"));
    let updated = rt.update(&made, &want).await.expect("update");
    assert_eq!(s(&updated, "arn"), arn);
    assert_eq!(describe().await.health_check_path(), Some("/health"));
    assert_eq!(delay().await.as_deref(), Some("10"));
    assert_eq!(
        live_tags(&env, &arn).await.get("app").map(String::as_str),
        Some("two")
    );
    assert_eq!(rt.read(&updated).await.unwrap().unwrap(), updated);

    // Changed outside dumcel: read shows it.
    elb.modify_target_group()
        .target_group_arn(&arn)
        .health_check_path("/elsewhere")
        .send()
        .await
        .unwrap();
    let drifted = rt.read(&updated).await.unwrap().unwrap();
    let hc = drifted
        .get("health_check")
        .and_then(Value::as_list)
        .unwrap();
    assert_eq!(hc[0].get("path"), Some(&Value::string("/elsewhere")));

    let imported = rt.import(&arn).await.expect("import");
    for k in [
        "arn",
        "name",
        "port",
        "protocol",
        "vpc_id",
        "target_type",
        "deregistration_delay",
    ] {
        assert_eq!(imported.get(k), updated.get(k), "{k}");
    }
    let hc = imported
        .get("health_check")
        .and_then(Value::as_list)
        .unwrap();
    assert_eq!(hc[0].get("matcher"), Some(&Value::string("200-299")));

    rt.delete(&updated).await.expect("delete");
    expect_code(
        elb.describe_target_groups()
            .target_group_arns(&arn)
            .send()
            .await,
        "TargetGroupNotFound",
    );
    assert!(rt.read(&updated).await.unwrap().is_none());
}

#[tokio::test]
async fn listener_and_host_rule_create_update_import_delete() {
    let env = Env::new().await;
    let (vpc, subnets) = default_vpc(&env).await;
    let sg = security_group(&env, &vpc).await;
    let (lb_rt, lb) = load_balancer(&env, &subnets, &sg).await;
    let (tg_rt, tg) = target_group(&env, &vpc).await;
    let lb_arn = s(&lb, "arn");
    let tg_arn = s(&tg, "arn");
    let elb = env.elbv2();

    // A listener answering 404 to everything no rule takes.
    let l_rt = env.resource("aws_lb_listener");
    let l_config = |port: f64, action: Value| {
        obj(&[
            ("load_balancer_arn", Value::string(&lb_arn)),
            ("port", num(port)),
            ("protocol", Value::string("HTTP")),
            ("default_action", list(vec![action])),
        ])
    };
    let listener = l_rt
        .create(&planned(
            l_rt.as_ref(),
            l_config(80.0, fixed(404.0, "no such app")),
        ))
        .await
        .expect("create listener");
    let l_arn = s(&listener, "arn");
    assert_eq!(l_rt.read(&listener).await.unwrap().unwrap(), listener);
    let live_listener = || async {
        let out = elb
            .describe_listeners()
            .listener_arns(&l_arn)
            .send()
            .await
            .unwrap();
        out.listeners()[0].clone()
    };
    let live = live_listener().await;
    assert_eq!(live.port(), Some(80));
    let fr = live.default_actions()[0].fixed_response_config().unwrap();
    assert_eq!(fr.status_code(), Some("404"));
    assert_eq!(fr.message_body(), Some("no such app"));

    // Port and default action change in place.
    let want = update_of(l_rt.as_ref(), &listener, l_config(8080.0, forward(&tg_arn)));
    let listener = l_rt
        .update(&listener, &want)
        .await
        .expect("update listener");
    assert_eq!(s(&listener, "arn"), l_arn);
    let live = live_listener().await;
    assert_eq!(live.port(), Some(8080));
    assert_eq!(
        live.default_actions()[0].target_group_arn(),
        Some(tg_arn.as_str())
    );
    assert_eq!(l_rt.read(&listener).await.unwrap().unwrap(), listener);
    let want = update_of(
        l_rt.as_ref(),
        &listener,
        l_config(80.0, fixed(404.0, "no such app")),
    );
    let listener = l_rt
        .update(&listener, &want)
        .await
        .expect("update listener back");

    // A rule for one project's host name and path.
    let r_rt = env.resource("aws_lb_listener_rule");
    let host = format!("{}.dumcel.test", unique("app"));
    let r_config = |prio: Option<f64>, hosts: &[&str], action: Value| {
        let mut pairs = vec![
            ("listener_arn", Value::string(&l_arn)),
            ("action", list(vec![action])),
            (
                "condition",
                list(vec![
                    host_header(hosts),
                    path_pattern(&["/app/*", "/api/*"]),
                ]),
            ),
        ];
        if let Some(p) = prio {
            pairs.push(("priority", num(p)));
        }
        obj(&pairs)
    };
    let cfg = planned(
        r_rt.as_ref(),
        r_config(Some(10.0), &[&host], forward(&tg_arn)),
    );
    assert!(r_rt.validate(&cfg).is_empty(), "{:?}", r_rt.validate(&cfg));
    let rule = r_rt.create(&cfg).await.expect("create rule");
    let r_arn = s(&rule, "arn");
    assert_eq!(
        r_rt.read(&rule).await.unwrap().unwrap(),
        rule,
        "no drift after create"
    );
    let live_rule = || async {
        let out = elb.describe_rules().rule_arns(&r_arn).send().await.unwrap();
        out.rules()[0].clone()
    };
    let live = live_rule().await;
    assert_eq!(live.priority(), Some("10"));
    let cond = |r: &aws_sdk_elasticloadbalancingv2::types::Rule, field: &str| -> Vec<String> {
        r.conditions()
            .iter()
            .filter(|c| c.field() == Some(field))
            .flat_map(|c| {
                let mut v: Vec<String> = c
                    .host_header_config()
                    .map(|h| h.values().to_vec())
                    .or_else(|| c.path_pattern_config().map(|p| p.values().to_vec()))
                    .unwrap_or_default();
                v.extend(c.values().iter().cloned());
                v
            })
            .collect()
    };
    assert_eq!(cond(&live, "host-header"), std::slice::from_ref(&host));
    let mut paths = cond(&live, "path-pattern");
    paths.sort();
    assert_eq!(paths, ["/api/*", "/app/*"]);
    assert_eq!(live.actions()[0].target_group_arn(), Some(tg_arn.as_str()));

    // Priority, host names and action change in place.
    let host2 = format!("preview-{host}");
    let want = update_of(
        r_rt.as_ref(),
        &rule,
        r_config(Some(20.0), &[&host, &host2], fixed(503.0, "paused")),
    );
    let rule = r_rt.update(&rule, &want).await.expect("update rule");
    assert_eq!(s(&rule, "arn"), r_arn);
    let live = live_rule().await;
    assert_eq!(live.priority(), Some("20"));
    let mut hosts = cond(&live, "host-header");
    hosts.sort();
    let mut expected = vec![host.clone(), host2.clone()];
    expected.sort();
    assert_eq!(hosts, expected);
    assert_eq!(
        live.actions()[0]
            .fixed_response_config()
            .and_then(|f| f.status_code()),
        Some("503")
    );
    assert_eq!(r_rt.read(&rule).await.unwrap().unwrap(), rule);

    // Without a priority, the next one after the listener's highest.
    let other = r_rt
        .create(&planned(
            r_rt.as_ref(),
            r_config(None, &[&format!("other-{host}")], forward(&tg_arn)),
        ))
        .await
        .expect("rule without priority");
    assert_eq!(other.get("priority"), Some(&num(21.0)));

    // Import by ARN: the listener comes from the rule's ARN.
    let imported = r_rt.import(&r_arn).await.expect("import rule");
    assert_eq!(s(&imported, "listener_arn"), l_arn);
    assert_eq!(imported.get("priority"), Some(&num(20.0)));
    let conds = imported.get("condition").and_then(Value::as_list).unwrap();
    assert_eq!(conds.len(), 2);
    let imported_l = l_rt.import(&l_arn).await.expect("import listener");
    assert_eq!(s(&imported_l, "load_balancer_arn"), lb_arn);
    // An imported action holds what AWS has set, and nothing else.
    assert_eq!(
        imported_l.get("default_action"),
        Some(&list(vec![obj(&[
            ("type", Value::string("fixed-response")),
            (
                "fixed_response",
                list(vec![obj(&[
                    ("content_type", Value::string("text/plain")),
                    ("message_body", Value::string("no such app")),
                    ("status_code", Value::string("404")),
                ])]),
            ),
        ])]))
    );

    // Deleted rules and listeners read as gone.
    r_rt.delete(&rule).await.expect("delete rule");
    expect_code(
        elb.describe_rules().rule_arns(&r_arn).send().await,
        "RuleNotFound",
    );
    assert!(r_rt.read(&rule).await.unwrap().is_none());
    r_rt.delete(&rule).await.expect("delete of a deleted rule");
    l_rt.delete(&listener).await.expect("delete listener");
    expect_code(
        elb.describe_listeners().listener_arns(&l_arn).send().await,
        "ListenerNotFound",
    );
    assert!(l_rt.read(&listener).await.unwrap().is_none());
    assert!(
        r_rt.read(&other).await.unwrap().is_none(),
        "rules go with their listener"
    );

    tg_rt.delete(&tg).await.expect("delete target group");
    lb_rt.delete(&lb).await.expect("delete load balancer");
}

#[tokio::test]
async fn target_group_delete_waits_while_a_listener_forwards_to_it() {
    let env = Env::new().await;
    let (vpc, subnets) = default_vpc(&env).await;
    let sg = security_group(&env, &vpc).await;
    let (lb_rt, lb) = load_balancer(&env, &subnets, &sg).await;
    let (tg_rt, tg) = target_group(&env, &vpc).await;
    let tg_arn = s(&tg, "arn");
    let l_rt = env.resource("aws_lb_listener");
    let listener = l_rt
        .create(&planned(
            l_rt.as_ref(),
            obj(&[
                ("load_balancer_arn", Value::string(s(&lb, "arn"))),
                ("port", num(80.0)),
                ("protocol", Value::string("HTTP")),
                ("default_action", list(vec![forward(&tg_arn)])),
            ]),
        ))
        .await
        .expect("listener");
    let elb = env.elbv2();
    // AWS refuses while the listener forwards to it...
    expect_code(
        elb.delete_target_group()
            .target_group_arn(&tg_arn)
            .send()
            .await,
        "ResourceInUse",
    );

    // ...so the provider's delete keeps trying, and ends once the listener is gone.
    let start = Instant::now();
    let deleting = {
        let (tg_rt, tg) = (tg_rt.clone(), tg.clone());
        tokio::spawn(async move { tg_rt.delete(&tg).await })
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !deleting.is_finished(),
        "delete returned while the target group was in use"
    );
    let still = elb
        .describe_target_groups()
        .target_group_arns(&tg_arn)
        .send()
        .await
        .expect("the target group is still there while in use");
    assert_eq!(still.target_groups().len(), 1);
    l_rt.delete(&listener).await.expect("delete listener");
    let result = tokio::time::timeout(Duration::from_secs(60), deleting)
        .await
        .expect("delete finishes once the listener is gone")
        .expect("join");
    result.expect("target group deleted");
    assert!(start.elapsed() >= Duration::from_millis(2500));
    expect_code(
        elb.describe_target_groups()
            .target_group_arns(&tg_arn)
            .send()
            .await,
        "TargetGroupNotFound",
    );
    assert!(tg_rt.read(&tg).await.unwrap().is_none());
    lb_rt.delete(&lb).await.expect("delete load balancer");
}

#[tokio::test]
async fn bad_actions_and_conditions_are_named_before_any_call() {
    let env = Env::new().await;
    let l_rt = env.resource("aws_lb_listener");
    let errs = l_rt.validate(&obj(&[(
        "default_action",
        list(vec![
            obj(&[("type", Value::string("authenticate-oidc"))]),
            obj(&[("type", Value::string("forward"))]),
        ]),
    )]));
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].1.contains("\"authenticate-oidc\" is not supported"),
        "{errs:?}"
    );
    assert!(errs[1].1.contains("needs target_group_arn"), "{errs:?}");

    let r_rt = env.resource("aws_lb_listener_rule");
    let both = obj(&[
        (
            "host_header",
            list(vec![obj(&[("values", strs(&["a.test"]))])]),
        ),
        (
            "path_pattern",
            list(vec![obj(&[("values", strs(&["/a"]))])]),
        ),
    ]);
    let errs = r_rt.validate(&obj(&[
        ("action", list(vec![fixed(404.0, "x")])),
        ("condition", list(vec![both])),
    ]));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("exactly one of"), "{errs:?}");
}

#[tokio::test]
async fn aws_errors_reach_the_user_with_code_and_message() {
    let env = Env::new().await;
    let l_rt = env.resource("aws_lb_listener");
    let err = l_rt
        .create(&planned(
            l_rt.as_ref(),
            obj(&[
                (
                    "load_balancer_arn",
                    Value::string(
                        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/nope/0123456789abcdef",
                    ),
                ),
                ("port", num(80.0)),
                ("protocol", Value::string("HTTP")),
                ("default_action", list(vec![fixed(404.0, "x")])),
            ]),
        ))
        .await
        .unwrap_err();
    assert!(
        err.message.starts_with("LoadBalancerNotFound: "),
        "{}",
        err.message
    );
    assert!(err.message.contains("(CreateListener)"), "{}", err.message);
    assert!(err.partial.is_none());
}

#[tokio::test]
async fn find_load_balancer_target_group_listener_and_rules() {
    let env = Env::new().await;
    let (vpc, subnets) = default_vpc(&env).await;
    let sg = security_group(&env, &vpc).await;

    let lb_rt = env.resource("aws_lb");
    let lb_cfg = planned(
        lb_rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("find"))),
            (
                "subnets",
                list(subnets[..2].iter().map(Value::string).collect()),
            ),
            ("security_groups", strs(&[&sg])),
        ]),
    );
    found_nothing(lb_rt.as_ref(), &lb_cfg).await;
    let lb = lb_rt.create(&lb_cfg).await.expect("create load balancer");
    let got = found(lb_rt.as_ref(), &lb_cfg).await;
    assert_eq!(s(&got, "arn"), s(&lb, "arn"));
    assert_eq!(s(&got, "dns_name"), s(&lb, "dns_name"));

    let tg_rt = env.resource("aws_lb_target_group");
    let tg_cfg = planned(
        tg_rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("find"))),
            ("port", num(8080.0)),
            ("protocol", Value::string("HTTP")),
            ("vpc_id", Value::string(&vpc)),
            ("target_type", Value::string("ip")),
        ]),
    );
    found_nothing(tg_rt.as_ref(), &tg_cfg).await;
    let tg = tg_rt.create(&tg_cfg).await.expect("create target group");
    assert_eq!(
        s(&found(tg_rt.as_ref(), &tg_cfg).await, "arn"),
        s(&tg, "arn")
    );
    let tg_arn = s(&tg, "arn");

    // A listener: its load balancer and port.
    let l_rt = env.resource("aws_lb_listener");
    let l_cfg = |port: f64| {
        planned(
            l_rt.as_ref(),
            obj(&[
                ("load_balancer_arn", Value::string(s(&lb, "arn"))),
                ("port", num(port)),
                ("protocol", Value::string("HTTP")),
                ("default_action", list(vec![fixed(404.0, "none")])),
            ]),
        )
    };
    found_nothing(l_rt.as_ref(), &l_cfg(80.0)).await;
    let listener = l_rt.create(&l_cfg(80.0)).await.expect("create listener");
    let got = found(l_rt.as_ref(), &l_cfg(80.0)).await;
    assert_eq!(s(&got, "arn"), s(&listener, "arn"));
    assert_eq!(got.get("default_action"), listener.get("default_action"));
    found_nothing(l_rt.as_ref(), &l_cfg(81.0)).await;
    let l_arn = s(&listener, "arn");

    // Rules: by priority when configured, else by conditions and actions.
    let r_rt = env.resource("aws_lb_listener_rule");
    let r_cfg = |prio: Option<f64>, host: &str| {
        let mut pairs = vec![
            ("listener_arn", Value::string(&l_arn)),
            ("action", list(vec![forward(&tg_arn)])),
            (
                "condition",
                list(vec![host_header(&[host]), path_pattern(&["/api/*"])]),
            ),
        ];
        if let Some(p) = prio {
            pairs.push(("priority", num(p)));
        }
        planned(r_rt.as_ref(), obj(&pairs))
    };
    found_nothing(r_rt.as_ref(), &r_cfg(Some(5.0), "a.find.test")).await;
    let fixed_prio = r_rt
        .create(&r_cfg(Some(5.0), "a.find.test"))
        .await
        .expect("rule with priority");
    let got = found(r_rt.as_ref(), &r_cfg(Some(5.0), "a.find.test")).await;
    assert_eq!(s(&got, "arn"), s(&fixed_prio, "arn"));
    found_nothing(r_rt.as_ref(), &r_cfg(Some(6.0), "a.find.test")).await;

    found_nothing(r_rt.as_ref(), &r_cfg(None, "b.find.test")).await;
    let next_prio = r_rt
        .create(&r_cfg(None, "b.find.test"))
        .await
        .expect("rule without priority");
    let got = found(r_rt.as_ref(), &r_cfg(None, "b.find.test")).await;
    assert_eq!(s(&got, "arn"), s(&next_prio, "arn"));
    assert_eq!(got.get("priority"), Some(&num(6.0)));
    found_nothing(r_rt.as_ref(), &r_cfg(None, "c.find.test")).await;

    r_rt.delete(&next_prio).await.expect("delete rule");
    r_rt.delete(&fixed_prio).await.expect("delete rule");
    l_rt.delete(&listener).await.expect("delete listener");
    found_nothing(l_rt.as_ref(), &l_cfg(80.0)).await;
    tg_rt.delete(&tg).await.expect("delete target group");
    found_nothing(tg_rt.as_ref(), &tg_cfg).await;
    lb_rt.delete(&lb).await.expect("delete load balancer");
    found_nothing(lb_rt.as_ref(), &lb_cfg).await;
    // No load balancer: no listener on it either.
    found_nothing(l_rt.as_ref(), &l_cfg(80.0)).await;
}
