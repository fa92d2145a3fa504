//! Application Auto Scaling: aws_appautoscaling_target and
//! aws_appautoscaling_policy in Terraform's documented ECS pattern (a target
//! on `service/CLUSTER/SERVICE`, `ecs:service:DesiredCount`, and a target
//! tracking policy keeping average CPU at a value), end to end through the
//! engine's plan and apply walks against moto, checked through
//! aws-sdk-applicationautoscaling.
//!
//! What moto (5.2) does not do, and these tests live with: it has no
//! tagging for Application Auto Scaling (ListTagsForResource and
//! TagResource answer HTTP 500), so the stack sets no tags (and the provider
//! reads a target's tags only when some are recorded); a target registered
//! without a role keeps no role ARN (AWS would report its service-linked
//! role); RegisterScalableTarget on an existing target does not change its
//! role; DescribeScalingPolicies ignores PolicyNames (the provider picks by
//! name itself). It does check that the ECS service of a target exists.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use common::walk::*;
use common::*;
use dumcel_planner::Action;
use dumcel_state::State;

fn aas(env: &Env) -> aws_sdk_applicationautoscaling::Client {
    aws_sdk_applicationautoscaling::Client::new(&env.sdk)
}

const DIM: &str = "ecs:service:DesiredCount";

fn write_stack(dir: &Path, endpoint: &str, name: &str, policy: &str, max: u32, target: u32) {
    let hcl = format!(
        r#"
provider "aws" {{
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {{
    ecs            = "{endpoint}"
    appautoscaling = "{endpoint}"
  }}
}}

resource "aws_ecs_cluster" "main" {{
  name = "{name}"
}}

resource "aws_ecs_task_definition" "app" {{
  family                   = "{name}"
  container_definitions    = jsonencode([{{ name = "app", image = "nginx:1", essential = true, memory = 256 }}])
  cpu                      = "256"
  memory                   = "512"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
}}

resource "aws_ecs_service" "web" {{
  name            = "{name}-web"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = 1
  launch_type     = "FARGATE"
}}

resource "aws_appautoscaling_target" "ecs" {{
  max_capacity       = {max}
  min_capacity       = 1
  resource_id        = "service/${{aws_ecs_cluster.main.name}}/${{aws_ecs_service.web.name}}"
  scalable_dimension = "ecs:service:DesiredCount"
  service_namespace  = "ecs"
}}

resource "aws_appautoscaling_policy" "cpu" {{
  name               = "{policy}"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.ecs.resource_id
  scalable_dimension = aws_appautoscaling_target.ecs.scalable_dimension
  service_namespace  = aws_appautoscaling_target.ecs.service_namespace

  target_tracking_scaling_policy_configuration {{
    predefined_metric_specification {{
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }}
    target_value = {target}
  }}
}}
"#
    );
    std::fs::write(dir.join("main.hcl"), hcl).expect("write main.hcl");
}

/// The target as Application Auto Scaling has it: (min, max, arn).
async fn target(
    c: &aws_sdk_applicationautoscaling::Client,
    rid: &str,
) -> Option<(i32, i32, String)> {
    let out = c
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .expect("DescribeScalableTargets");
    out.scalable_targets()
        .iter()
        .find(|t| t.resource_id() == rid)
        .map(|t| {
            (
                t.min_capacity(),
                t.max_capacity(),
                t.scalable_target_arn().unwrap_or_default().to_owned(),
            )
        })
}

/// The policy's (target value, metric type, arn, alarm ARNs).
async fn policy(
    c: &aws_sdk_applicationautoscaling::Client,
    rid: &str,
    name: &str,
) -> Option<(f64, String, String, Vec<String>)> {
    let out = c
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .expect("DescribeScalingPolicies");
    out.scaling_policies()
        .iter()
        .find(|p| p.policy_name() == name && p.resource_id() == rid)
        .map(|p| {
            let t = p
                .target_tracking_scaling_policy_configuration()
                .expect("a target tracking configuration");
            (
                t.target_value(),
                t.predefined_metric_specification()
                    .map(|m| m.predefined_metric_type().as_str().to_owned())
                    .unwrap_or_default(),
                p.policy_arn().to_owned(),
                p.alarms()
                    .iter()
                    .map(|a| a.alarm_arn().to_owned())
                    .collect(),
            )
        })
}

fn recorded_list(state: &State, address: &str, key: &str) -> Vec<String> {
    state.resources[address]
        .attributes
        .get(key)
        .and_then(|v| v.as_array())
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const TARGET: &str = "aws_appautoscaling_target.ecs";
const POLICY: &str = "aws_appautoscaling_policy.cpu";

#[tokio::test(flavor = "multi_thread")]
async fn ecs_service_scaling_applies_drifts_imports_and_destroys() {
    let env = Env::new().await;
    let c = aas(&env);
    let name = unique("scale");
    let rid = format!("service/{name}/{name}-web");
    let pname = format!("{name}-cpu");
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), &env.endpoint, &name, &pname, 4, 60);

    // Apply from nothing: cluster, task definition, service, target, policy.
    let (state, report) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(report.added, 5, "{report:?}");

    // Read back through the SDK.
    let (min, max, arn) = target(&c, &rid).await.expect("the target is registered");
    assert_eq!((min, max), (1, 4));
    assert_eq!(attr(&state, TARGET, "id"), rid, "id is the resource id");
    assert_eq!(attr(&state, TARGET, "arn"), arn);
    let (value, metric, parn, alarms) = policy(&c, &rid, &pname).await.expect("the policy");
    assert_eq!(value, 60.0);
    assert_eq!(metric, "ECSServiceAverageCPUUtilization");
    assert_eq!(attr(&state, POLICY, "id"), pname, "id is the policy name");
    assert_eq!(attr(&state, POLICY, "arn"), parn);
    assert_eq!(attr(&state, POLICY, "policy_type"), "TargetTrackingScaling");
    assert!(
        !alarms.is_empty(),
        "target tracking makes CloudWatch alarms"
    );
    assert_eq!(recorded_list(&state, POLICY, "alarm_arns"), alarms);

    // Nothing to do.
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Capacities and the target value change in place.
    write_stack(dir.path(), &env.endpoint, &name, &pname, 6, 70);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(TARGET, Action::Update), (POLICY, Action::Update)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(target(&c, &rid).await.map(|t| (t.0, t.1)), Some((1, 6)));
    assert_eq!(policy(&c, &rid, &pname).await.map(|p| p.0), Some(70.0));
    assert_eq!(attr(&state, TARGET, "arn"), arn, "the same target");
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // A new policy name replaces the policy: the old one is gone.
    let pname2 = format!("{name}-cpu2");
    write_stack(dir.path(), &env.endpoint, &name, &pname2, 6, 70);
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(POLICY, Action::Replace)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert!(
        policy(&c, &rid, &pname).await.is_none(),
        "the old policy is gone"
    );
    assert_eq!(policy(&c, &rid, &pname2).await.map(|p| p.0), Some(70.0));
    assert_eq!(attr(&state, POLICY, "id"), pname2);

    // Drift: the bounds and the target value changed behind dumcel's back.
    c.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(10)
        .send()
        .await
        .unwrap();
    c.put_scaling_policy()
        .policy_name(&pname2)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(aws_sdk_applicationautoscaling::types::PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            aws_sdk_applicationautoscaling::types::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(30.0)
                .disable_scale_in(false)
                .predefined_metric_specification(
                    aws_sdk_applicationautoscaling::types::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(
                            aws_sdk_applicationautoscaling::types::MetricType::EcsServiceAverageCpuUtilization,
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(
        changes(&p),
        want(&[(TARGET, Action::Update), (POLICY, Action::Update)])
    );
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(target(&c, &rid).await.map(|t| (t.0, t.1)), Some((1, 6)));
    assert_eq!(policy(&c, &rid, &pname2).await.map(|p| p.0), Some(70.0));

    // The policy deleted behind dumcel's back: the plan makes it again.
    c.delete_scaling_policy()
        .policy_name(&pname2)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .unwrap();
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(POLICY, Action::Create)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert!(policy(&c, &rid, &pname2).await.is_some());
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&again), BTreeMap::new());

    // Import both by Terraform's ids: nothing to change.
    let target_id = format!("ecs/{rid}/{DIM}");
    let policy_id = format!("ecs/{rid}/{DIM}/{pname2}");
    std::fs::write(
        dir.path().join("imports.hcl"),
        format!(
            "import {{\n  to = {TARGET}\n  id = \"{target_id}\"\n}}\n\
             import {{\n  to = {POLICY}\n  id = \"{policy_id}\"\n}}\n"
        ),
    )
    .unwrap();
    let mut forgotten = state.clone();
    forgotten.resources.remove(TARGET);
    forgotten.resources.remove(POLICY);
    let (stack, p) = plan_of(dir.path(), &forgotten, false).await;
    for (a, id) in [(TARGET, &target_id), (POLICY, &policy_id)] {
        let ch = p
            .plan
            .changes
            .iter()
            .find(|ch| ch.address == a)
            .unwrap_or_else(|| panic!("no change for {a}"));
        assert_eq!(ch.importing.as_deref(), Some(id.as_str()), "{a}");
        assert_eq!(
            ch.action,
            Action::NoOp,
            "{a}: before {:?}\nafter {:?}",
            ch.before,
            ch.after
        );
    }
    let (imported, _) = apply_plan(stack, p, forgotten, false).await;
    assert_eq!(attr(&imported, TARGET, "id"), rid);
    assert_eq!(attr(&imported, TARGET, "arn"), arn);
    assert_eq!(attr(&imported, POLICY, "arn"), attr(&state, POLICY, "arn"));
    let (_, again) = plan_of(dir.path(), &imported, false).await;
    assert_eq!(changes(&again), BTreeMap::new());
    std::fs::remove_file(dir.path().join("imports.hcl")).unwrap();

    // Destroy leaves nothing.
    let (state, report) = plan_apply(dir.path(), imported, true).await;
    assert_eq!(report.destroyed, 5, "{report:?}");
    assert!(state.resources.is_empty(), "{:?}", state.resources.keys());
    assert!(
        policy(&c, &rid, &pname2).await.is_none(),
        "the policy is gone"
    );
    assert!(target(&c, &rid).await.is_none(), "the target is gone");
}

/// What the stack does not show: wrong import ids, a step scaling policy
/// (Terraform's default type) on a DynamoDB table's target read back, and
/// deletes of what is already gone.
#[tokio::test(flavor = "multi_thread")]
async fn import_ids_step_scaling_and_gone_objects() {
    let env = Env::new().await;
    let c = aas(&env);
    let trt = env.resource("aws_appautoscaling_target");
    let prt = env.resource("aws_appautoscaling_policy");
    assert!(
        trt.import("ecs")
            .await
            .unwrap_err()
            .message
            .contains("service-namespace/resource-id/scalable-dimension")
    );
    assert!(
        prt.import("ecs/service/a/b").await.is_ok(),
        "the shortest policy id"
    );
    assert!(prt.import("policy").await.is_err());

    // DynamoDB targets need no table on moto.
    let table = unique("tbl");
    let rid = format!("table/{table}");
    let v = |t: &str| dumcel_planner::Value::string(t);
    let num = dumcel_planner::Value::Number;
    let tcfg = planned(
        trt.as_ref(),
        obj(&[
            ("service_namespace", v("dynamodb")),
            ("resource_id", v(&rid)),
            ("scalable_dimension", v("dynamodb:table:ReadCapacityUnits")),
            ("min_capacity", num(1.0)),
            ("max_capacity", num(5.0)),
        ]),
    );
    found_nothing(trt.as_ref(), &tcfg).await;
    let t = trt.create(&tcfg).await.expect("register");
    assert_eq!(s(&found(trt.as_ref(), &tcfg).await, "arn"), s(&t, "arn"));
    assert_eq!(trt.read(&t).await.unwrap().unwrap(), t, "no drift");

    let step = obj(&[
        ("adjustment_type", v("ChangeInCapacity")),
        ("cooldown", num(60.0)),
        ("metric_aggregation_type", v("Average")),
        (
            "step_adjustment",
            dumcel_planner::Value::List(vec![obj(&[
                ("metric_interval_lower_bound", num(0.0)),
                ("scaling_adjustment", num(1.0)),
            ])]),
        ),
    ]);
    let pcfg = planned(
        prt.as_ref(),
        obj(&[
            ("name", v("step")),
            ("service_namespace", v("dynamodb")),
            ("resource_id", v(&rid)),
            ("scalable_dimension", v("dynamodb:table:ReadCapacityUnits")),
            (
                "step_scaling_policy_configuration",
                dumcel_planner::Value::List(vec![step]),
            ),
        ]),
    );
    assert_eq!(
        s(&pcfg, "policy_type"),
        "StepScaling",
        "Terraform's default"
    );
    let p = prt.create(&pcfg).await.expect("step policy");
    assert_eq!(prt.read(&p).await.unwrap().unwrap(), p, "no drift");
    let out = c
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Dynamodb)
        .resource_id(&rid)
        .send()
        .await
        .unwrap();
    let sp = out
        .scaling_policies()
        .iter()
        .find(|x| x.policy_name() == "step")
        .expect("the step policy")
        .step_scaling_policy_configuration()
        .expect("a step configuration")
        .clone();
    assert_eq!(sp.cooldown(), Some(60));
    assert_eq!(sp.step_adjustments()[0].scaling_adjustment(), 1);
    assert_eq!(
        sp.step_adjustments()[0].metric_interval_lower_bound(),
        Some(0.0)
    );

    prt.delete(&p).await.expect("delete policy");
    prt.delete(&p).await.expect("delete a gone policy");
    assert!(prt.read(&p).await.unwrap().is_none());
    trt.delete(&t).await.expect("deregister");
    trt.delete(&t).await.expect("deregister a gone target");
    assert!(trt.read(&t).await.unwrap().is_none());
}
