//! `aws_appautoscaling_policy`: how Application Auto Scaling scales a
//! registered target: target tracking (keep a metric at a value, e.g. an ECS
//! service's average CPU at 60%) or step scaling (adjust by steps when an
//! alarm fires). As in Terraform, `id` is the policy name and the import id
//! is `service-namespace/resource-id/scalable-dimension/policy-name`. The
//! name and the target's three names replace it; the type and the
//! configuration change in place (PutScalingPolicy again). `policy_type`
//! defaults to `StepScaling`, as in Terraform. Customized metrics and
//! predictive scaling are not supported (the blocks are errors).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, MetricAggregationType, MetricType, PolicyType, PredefinedMetricSpecification,
    ScalableDimension, ScalingPolicy, ServiceNamespace, StepAdjustment,
    StepScalingPolicyConfiguration, TargetTrackingScalingPolicyConfiguration,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::appautoscaling::{is_gone, parse_policy_id};
use crate::attrs::{
    block, blocks, n, narrow_blocks, numbers_like, obj, opt_bool, opt_i32, opt_str, opt_text,
    or_default, os, req_str, s, strings, with_all,
};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::{nested, wait};

const TARGET_TRACKING: &str = "target_tracking_scaling_policy_configuration";
const STEP: &str = "step_scaling_policy_configuration";

pub struct AppautoscalingPolicy {
    shared: Arc<Shared>,
    schema: Schema,
}

/// The four names that identify a policy.
struct Key<'a> {
    name: &'a str,
    ns: &'a str,
    rid: &'a str,
    dim: &'a str,
}

impl<'a> Key<'a> {
    fn of(v: &'a Value) -> AwsResult<Key<'a>> {
        Ok(Key {
            name: req_str(v, "name")?,
            ns: req_str(v, "service_namespace")?,
            rid: req_str(v, "resource_id")?,
            dim: req_str(v, "scalable_dimension")?,
        })
    }

    fn describe(&self) -> String {
        format!(
            "scaling policy {} of {}/{}/{}",
            self.name, self.ns, self.rid, self.dim
        )
    }
}

fn one(schema: Schema) -> NestedBlock {
    NestedBlock {
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
    }
}

fn number_of(v: &Value, key: &str) -> AwsResult<Option<f64>> {
    match opt_text(v, key) {
        None => Ok(None),
        Some(t) if t.trim().is_empty() => Ok(None),
        Some(t) => t
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| AwsError::invalid(format!("\"{key}\" must be a number, got {t:?}"))),
    }
}

fn target_tracking(b: &Value) -> AwsResult<TargetTrackingScalingPolicyConfiguration> {
    let target = number_of(b, "target_value")?.ok_or_else(|| {
        AwsError::invalid(format!("{TARGET_TRACKING}: \"target_value\" is required"))
    })?;
    let predefined = match block(b, "predefined_metric_specification") {
        Some(p) => Some(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::from(req_str(p, "predefined_metric_type")?))
                .set_resource_label(opt_str(p, "resource_label").map(str::to_owned))
                .build()
                .map_err(|e| AwsError::invalid(format!("predefined_metric_specification: {e}")))?,
        ),
        None => None,
    };
    if predefined.is_none() {
        return Err(AwsError::invalid(format!(
            "{TARGET_TRACKING} needs a predefined_metric_specification block \
             (customized_metric_specification is not supported)"
        )));
    }
    TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(target)
        .set_predefined_metric_specification(predefined)
        .set_disable_scale_in(opt_bool(b, "disable_scale_in"))
        .set_scale_in_cooldown(opt_i32(b, "scale_in_cooldown")?)
        .set_scale_out_cooldown(opt_i32(b, "scale_out_cooldown")?)
        .build()
        .map_err(|e| AwsError::invalid(format!("{TARGET_TRACKING}: {e}")))
}

fn step_scaling(b: &Value) -> AwsResult<StepScalingPolicyConfiguration> {
    let mut steps = Vec::new();
    for st in blocks(b, "step_adjustment") {
        steps.push(
            StepAdjustment::builder()
                .set_metric_interval_lower_bound(number_of(st, "metric_interval_lower_bound")?)
                .set_metric_interval_upper_bound(number_of(st, "metric_interval_upper_bound")?)
                .set_scaling_adjustment(opt_i32(st, "scaling_adjustment")?)
                .build()
                .map_err(|e| AwsError::invalid(format!("step_adjustment: {e}")))?,
        );
    }
    Ok(StepScalingPolicyConfiguration::builder()
        .set_adjustment_type(opt_str(b, "adjustment_type").map(AdjustmentType::from))
        .set_cooldown(opt_i32(b, "cooldown")?)
        .set_metric_aggregation_type(
            opt_str(b, "metric_aggregation_type").map(MetricAggregationType::from),
        )
        .set_min_adjustment_magnitude(opt_i32(b, "min_adjustment_magnitude")?)
        .set_step_adjustments((!steps.is_empty()).then_some(steps))
        .build())
}

/// A bound as Terraform writes it: text, without a trailing `.0`.
fn bound(x: Option<f64>) -> Value {
    x.map(|x| s(format!("{x}"))).unwrap_or(Value::Null)
}

fn opt_n(x: Option<i32>) -> Value {
    x.map(n).unwrap_or(Value::Null)
}

impl AppautoscalingPolicy {
    pub fn new(shared: Arc<Shared>) -> AppautoscalingPolicy {
        let predefined = Schema::new()
            .attr(
                "predefined_metric_type",
                Attribute::required().describe("ECSServiceAverageCPUUtilization, ..."),
            )
            .attr("resource_label", Attribute::optional());
        let tracking = Schema::new()
            .attr("target_value", Attribute::required())
            .attr(
                "disable_scale_in",
                Attribute::optional().describe("default false"),
            )
            .attr("scale_in_cooldown", Attribute::optional())
            .attr("scale_out_cooldown", Attribute::optional())
            .block("predefined_metric_specification", one(predefined));
        let step = Schema::new()
            .attr("metric_interval_lower_bound", Attribute::optional())
            .attr("metric_interval_upper_bound", Attribute::optional())
            .attr("scaling_adjustment", Attribute::required());
        let stepping = Schema::new()
            .attr(
                "adjustment_type",
                Attribute::optional()
                    .describe("ChangeInCapacity, ExactCapacity or PercentChangeInCapacity"),
            )
            .attr("cooldown", Attribute::optional())
            .attr("metric_aggregation_type", Attribute::optional())
            .attr("min_adjustment_magnitude", Attribute::optional())
            .block(
                "step_adjustment",
                NestedBlock {
                    schema: step,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        let schema = Schema::new()
            .attr("id", Attribute::computed().describe("the policy name"))
            .attr("name", Attribute::required().force_new())
            .attr("service_namespace", Attribute::required().force_new())
            .attr("resource_id", Attribute::required().force_new())
            .attr("scalable_dimension", Attribute::required().force_new())
            .attr(
                "policy_type",
                Attribute::optional().describe("StepScaling (default) or TargetTrackingScaling"),
            )
            .attr("arn", Attribute::computed())
            .attr("alarm_arns", Attribute::computed())
            .block(TARGET_TRACKING, one(tracking))
            .block(STEP, one(stepping));
        AppautoscalingPolicy { shared, schema }
    }

    async fn describe(&self, key: &Key<'_>) -> AwsResult<Option<ScalingPolicy>> {
        let out = self
            .shared
            .appautoscaling()
            .await
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::from(key.ns))
            .resource_id(key.rid)
            .scalable_dimension(ScalableDimension::from(key.dim))
            .policy_names(key.name)
            .send()
            .await
            .map_err(sdk("DescribeScalingPolicies"));
        match out {
            Ok(o) => Ok(o
                .scaling_policies()
                .iter()
                .find(|p| {
                    p.policy_name() == key.name
                        && p.resource_id() == key.rid
                        && p.scalable_dimension().as_str() == key.dim
                })
                .cloned()),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The policy's configuration blocks as AWS has them, in the shape the
    /// plan hook gives the configuration.
    fn config_blocks(p: &ScalingPolicy) -> (Value, Value) {
        let tracking = match p.target_tracking_scaling_policy_configuration() {
            Some(t) => Value::List(vec![obj([
                ("target_value", n(t.target_value())),
                (
                    "disable_scale_in",
                    t.disable_scale_in().map(Value::Bool).unwrap_or(Value::Null),
                ),
                ("scale_in_cooldown", opt_n(t.scale_in_cooldown())),
                ("scale_out_cooldown", opt_n(t.scale_out_cooldown())),
                (
                    "predefined_metric_specification",
                    Value::List(
                        t.predefined_metric_specification()
                            .map(|m| {
                                obj([
                                    (
                                        "predefined_metric_type",
                                        s(m.predefined_metric_type().as_str()),
                                    ),
                                    ("resource_label", os(m.resource_label())),
                                ])
                            })
                            .into_iter()
                            .collect(),
                    ),
                ),
            ])]),
            None => Value::List(Vec::new()),
        };
        let step = match p.step_scaling_policy_configuration() {
            Some(c) => Value::List(vec![obj([
                (
                    "adjustment_type",
                    os(c.adjustment_type().map(|a| a.as_str())),
                ),
                ("cooldown", opt_n(c.cooldown())),
                (
                    "metric_aggregation_type",
                    os(c.metric_aggregation_type().map(|a| a.as_str())),
                ),
                (
                    "min_adjustment_magnitude",
                    opt_n(c.min_adjustment_magnitude()),
                ),
                (
                    "step_adjustment",
                    Value::List(
                        c.step_adjustments()
                            .iter()
                            .map(|a| {
                                obj([
                                    (
                                        "metric_interval_lower_bound",
                                        bound(a.metric_interval_lower_bound()),
                                    ),
                                    (
                                        "metric_interval_upper_bound",
                                        bound(a.metric_interval_upper_bound()),
                                    ),
                                    ("scaling_adjustment", n(a.scaling_adjustment())),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])]),
            None => Value::List(Vec::new()),
        };
        (tracking, step)
    }

    /// What AWS says of a block, narrowed to the recorded one's keys (so a
    /// default AWS fills in that the configuration never set is no
    /// change); whole when nothing is recorded (an import).
    fn narrowed(base: &Value, key: &str, actual: Value) -> Value {
        let prior = blocks(base, key);
        let Value::List(items) = actual else {
            return actual;
        };
        if prior.is_empty() {
            return Value::List(items);
        }
        numbers_like(&Value::List(prior.to_vec()), narrow_blocks(prior, items))
    }

    async fn observe(&self, base: &Value, key: &Key<'_>) -> AwsResult<Option<Value>> {
        let Some(p) = self.describe(key).await? else {
            return Ok(None);
        };
        let (tracking, step) = Self::config_blocks(&p);
        Ok(Some(with_all(
            base,
            [
                ("id", s(p.policy_name())),
                ("name", s(p.policy_name())),
                ("service_namespace", s(p.service_namespace().as_str())),
                ("resource_id", s(p.resource_id())),
                ("scalable_dimension", s(p.scalable_dimension().as_str())),
                ("policy_type", s(p.policy_type().as_str())),
                ("arn", s(p.policy_arn())),
                (
                    "alarm_arns",
                    strings(p.alarms().iter().map(|a| a.alarm_arn().to_owned())),
                ),
                (
                    TARGET_TRACKING,
                    Self::narrowed(base, TARGET_TRACKING, tracking),
                ),
                (STEP, Self::narrowed(base, STEP, step)),
            ],
        )))
    }

    async fn put(&self, key: &Key<'_>, planned: &Value) -> AwsResult<()> {
        let policy_type = opt_str(planned, "policy_type").unwrap_or("StepScaling");
        let tracking = block(planned, TARGET_TRACKING)
            .map(target_tracking)
            .transpose()?;
        let step = block(planned, STEP).map(step_scaling).transpose()?;
        let client = self.shared.appautoscaling().await;
        let client = &client;
        let (tracking, step) = (&tracking, &step);
        // A target registered a moment ago may not be visible yet.
        wait::retry(
            &format!("{} to be accepted", key.describe()),
            wait::limit(60),
            (Duration::from_millis(500), Duration::from_secs(5)),
            |e| {
                e.code() == Some("FailedResourceAccessException")
                    || e.code() == Some("ObjectNotFoundException")
            },
            || async move {
                client
                    .put_scaling_policy()
                    .policy_name(key.name)
                    .service_namespace(ServiceNamespace::from(key.ns))
                    .resource_id(key.rid)
                    .scalable_dimension(ScalableDimension::from(key.dim))
                    .policy_type(PolicyType::from(policy_type))
                    .set_target_tracking_scaling_policy_configuration(tracking.clone())
                    .set_step_scaling_policy_configuration(step.clone())
                    .send()
                    .await
                    .map_err(sdk("PutScalingPolicy"))
            },
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType for AppautoscalingPolicy {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let kind = opt_str(config, "policy_type").unwrap_or("StepScaling");
        let has_tracking = !blocks(config, TARGET_TRACKING).is_empty();
        let has_step = !blocks(config, STEP).is_empty();
        match kind {
            "TargetTrackingScaling" if !has_tracking => out.push((
                TARGET_TRACKING.to_owned(),
                format!("policy_type = \"TargetTrackingScaling\" needs a {TARGET_TRACKING} block"),
            )),
            "StepScaling" if has_tracking => out.push((
                "policy_type".to_owned(),
                format!("a {TARGET_TRACKING} block needs policy_type = \"TargetTrackingScaling\""),
            )),
            "StepScaling" | "TargetTrackingScaling" => {}
            other => out.push((
                "policy_type".to_owned(),
                format!(
                    "{other:?} is not supported; use \"StepScaling\" or \"TargetTrackingScaling\" \
                     (PredictiveScaling is not supported)"
                ),
            )),
        }
        if kind == "TargetTrackingScaling" && has_step {
            out.push((
                STEP.to_owned(),
                format!("a {STEP} block needs policy_type = \"StepScaling\""),
            ));
        }
        if let Some(b) = block(config, TARGET_TRACKING)
            && b.get("target_value").is_some_and(|v| !v.is_unknown())
            && let Err(e) = target_tracking(b)
        {
            out.push((TARGET_TRACKING.to_owned(), e.to_string()));
        }
        out
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "policy_type", s("StepScaling"));
        let proposed = nested::fill(&self.schema, proposed);
        Ok(nested::default_in(
            proposed,
            TARGET_TRACKING,
            "disable_scale_in",
            Value::Bool(false),
        ))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let key = Key::of(prior)?;
        Ok(self.observe(prior, &key).await?)
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let key = Key::of(planned)?;
        Ok(self.observe(planned, &key).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let key = Key::of(planned)?;
        self.put(&key, planned).await?;
        let made = with_all(planned, [("id", s(key.name))]);
        self.observe(&made, &key)
            .await?
            .ok_or_else(|| ProviderError {
                message: format!("{} vanished after it was created", key.describe()),
                partial: Some(made.clone()),
            })
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let key = Key::of(prior)?;
        self.put(&key, planned).await?;
        self.observe(planned, &key).await?.ok_or_else(|| {
            ProviderError::new(format!("{} vanished while it was updated", key.describe()))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let key = Key::of(prior)?;
        let out = self
            .shared
            .appautoscaling()
            .await
            .delete_scaling_policy()
            .policy_name(key.name)
            .service_namespace(ServiceNamespace::from(key.ns))
            .resource_id(key.rid)
            .scalable_dimension(ScalableDimension::from(key.dim))
            .send()
            .await
            .map_err(sdk("DeleteScalingPolicy"));
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (ns, rid, dim, name) = parse_policy_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "an aws_appautoscaling_policy is imported as \
                 service-namespace/resource-id/scalable-dimension/policy-name \
                 (e.g. ecs/service/CLUSTER/SERVICE/ecs:service:DesiredCount/cpu), got {id:?}"
            ))
        })?;
        Ok(obj([
            ("id", s(name)),
            ("name", s(name)),
            ("service_namespace", s(ns)),
            ("resource_id", s(rid)),
            ("scalable_dimension", s(dim)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_read_as_terraform_writes_them() {
        assert_eq!(bound(Some(0.0)), s("0"));
        assert_eq!(bound(Some(1.5)), s("1.5"));
        assert_eq!(bound(None), Value::Null);
    }

    #[test]
    fn target_tracking_needs_a_predefined_metric() {
        let b = obj([("target_value", n(60))]);
        let e = target_tracking(&b).unwrap_err().to_string();
        assert!(e.contains("predefined_metric_specification"), "{e}");
        let b = obj([
            ("target_value", n(60)),
            (
                "predefined_metric_specification",
                Value::List(vec![obj([(
                    "predefined_metric_type",
                    s("ECSServiceAverageCPUUtilization"),
                )])]),
            ),
        ]);
        let c = target_tracking(&b).unwrap();
        assert_eq!(c.target_value(), 60.0);
        assert_eq!(
            c.predefined_metric_specification()
                .unwrap()
                .predefined_metric_type()
                .as_str(),
            "ECSServiceAverageCPUUtilization"
        );
    }
}
