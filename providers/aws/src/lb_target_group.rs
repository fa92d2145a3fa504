//! `aws_lb_target_group`: where a listener sends traffic (for Fargate tasks,
//! `target_type = "ip"`). Its id is the ARN; import takes the ARN. The health
//! check and deregistration delay change in place; name, port, protocol, VPC
//! and target type replace it. Delete retries, with a bounded backoff, while
//! AWS says a listener or rule still uses it (`ResourceInUse`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::operation::create_target_group::builders::CreateTargetGroupFluentBuilder;
use aws_sdk_elasticloadbalancingv2::operation::modify_target_group::builders::ModifyTargetGroupFluentBuilder;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup, TargetGroupAttribute, TargetTypeEnum,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    block, blocks, n, narrow_blocks, numbers_like, obj, opt_bool, opt_i32, opt_str, opt_text,
    or_default, os, req_str, s, string_map, with_all,
};
use crate::config::Shared;
use crate::elbv2::{arn_resource, elb_tags, read_tags, retag};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

pub struct LbTargetGroup {
    shared: Arc<Shared>,
    schema: Schema,
}

/// The health check settings of a `health_check` block, in the form both
/// CreateTargetGroup and ModifyTargetGroup take.
struct HealthCheck {
    enabled: Option<bool>,
    path: Option<String>,
    port: Option<String>,
    protocol: Option<ProtocolEnum>,
    matcher: Option<Matcher>,
    interval: Option<i32>,
    timeout: Option<i32>,
    healthy: Option<i32>,
    unhealthy: Option<i32>,
}

impl HealthCheck {
    fn from_block(b: &Value) -> AwsResult<HealthCheck> {
        Ok(HealthCheck {
            enabled: opt_bool(b, "enabled"),
            path: opt_str(b, "path").map(str::to_owned),
            port: opt_text(b, "port"),
            protocol: opt_str(b, "protocol").map(ProtocolEnum::from),
            matcher: opt_text(b, "matcher").map(|m| Matcher::builder().http_code(m).build()),
            interval: opt_i32(b, "interval")?,
            timeout: opt_i32(b, "timeout")?,
            healthy: opt_i32(b, "healthy_threshold")?,
            unhealthy: opt_i32(b, "unhealthy_threshold")?,
        })
    }

    fn on_create(self, r: CreateTargetGroupFluentBuilder) -> CreateTargetGroupFluentBuilder {
        r.set_health_check_enabled(self.enabled)
            .set_health_check_path(self.path)
            .set_health_check_port(self.port)
            .set_health_check_protocol(self.protocol)
            .set_matcher(self.matcher)
            .set_health_check_interval_seconds(self.interval)
            .set_health_check_timeout_seconds(self.timeout)
            .set_healthy_threshold_count(self.healthy)
            .set_unhealthy_threshold_count(self.unhealthy)
    }

    fn on_modify(self, r: ModifyTargetGroupFluentBuilder) -> ModifyTargetGroupFluentBuilder {
        r.set_health_check_enabled(self.enabled)
            .set_health_check_path(self.path)
            .set_health_check_port(self.port)
            .set_health_check_protocol(self.protocol)
            .set_matcher(self.matcher)
            .set_health_check_interval_seconds(self.interval)
            .set_health_check_timeout_seconds(self.timeout)
            .set_healthy_threshold_count(self.healthy)
            .set_unhealthy_threshold_count(self.unhealthy)
    }
}

/// What a target group looks like now: the group, its deregistration delay, its tags.
struct Observed {
    tg: TargetGroup,
    delay: Option<f64>,
    tags: BTreeMap<String, String>,
}

impl LbTargetGroup {
    pub fn new(shared: Arc<Shared>) -> LbTargetGroup {
        let health = Schema::new()
            .attr("enabled", Attribute::optional())
            .attr("path", Attribute::optional())
            .attr(
                "port",
                Attribute::optional().describe("a port number, or \"traffic-port\""),
            )
            .attr("protocol", Attribute::optional())
            .attr(
                "matcher",
                Attribute::optional()
                    .describe("HTTP codes that mean healthy: \"200\", \"200-299\""),
            )
            .attr("interval", Attribute::optional())
            .attr("timeout", Attribute::optional())
            .attr("healthy_threshold", Attribute::optional())
            .attr("unhealthy_threshold", Attribute::optional());
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("port", Attribute::optional().force_new())
            .attr("protocol", Attribute::optional().force_new())
            .attr("vpc_id", Attribute::optional().force_new())
            .attr(
                "target_type",
                Attribute::optional_computed()
                    .force_new()
                    .describe("instance (default), ip (Fargate tasks), lambda or alb"),
            )
            .attr(
                "deregistration_delay",
                Attribute::optional_computed()
                    .describe("seconds a deregistering target keeps its connections (AWS: 300)"),
            )
            .attr("arn", Attribute::computed())
            .attr("arn_suffix", Attribute::computed())
            .block(
                "health_check",
                NestedBlock {
                    schema: health,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        LbTargetGroup {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, arn: &str) -> AwsResult<Option<Observed>> {
        let client = self.shared.elbv2().await;
        let tg = match client
            .describe_target_groups()
            .target_group_arns(arn)
            .send()
            .await
            .map_err(sdk("DescribeTargetGroups"))
        {
            Ok(o) => match o.target_groups().first() {
                Some(tg) => tg.clone(),
                None => return Ok(None),
            },
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let delay = match client
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(sdk("DescribeTargetGroupAttributes"))
        {
            Ok(o) => o
                .attributes()
                .iter()
                .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
                .and_then(|a| a.value())
                .and_then(|v| v.trim().parse::<f64>().ok()),
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(tags) = read_tags(&client, arn).await? else {
            return Ok(None);
        };
        Ok(Some(Observed { tg, delay, tags }))
    }

    /// The ARN of the target group called `name`; `None` when there is none.
    async fn arn_by_name(&self, name: &str) -> AwsResult<Option<String>> {
        match self
            .shared
            .elbv2()
            .await
            .describe_target_groups()
            .names(name)
            .send()
            .await
            .map_err(sdk("DescribeTargetGroups"))
        {
            Ok(o) => Ok(o
                .target_groups()
                .iter()
                .find(|tg| tg.target_group_name() == Some(name))
                .and_then(|tg| tg.target_group_arn())
                .map(str::to_owned)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `whole_health_check`: report AWS's health check in full (import);
    /// otherwise only what the recorded block names, and nothing when no
    /// block is recorded (AWS always has one, with its defaults).
    fn value(base: &Value, o: Observed, whole_health_check: bool) -> Value {
        let tg = &o.tg;
        let arn = tg.target_group_arn().unwrap_or_default();
        let hc = obj([
            (
                "enabled",
                tg.health_check_enabled()
                    .map(Value::Bool)
                    .unwrap_or(Value::Null),
            ),
            ("path", os(tg.health_check_path())),
            ("port", os(tg.health_check_port())),
            (
                "protocol",
                os(tg.health_check_protocol().map(|p| p.as_str())),
            ),
            ("matcher", os(tg.matcher().and_then(|m| m.http_code()))),
            (
                "interval",
                tg.health_check_interval_seconds()
                    .map(n)
                    .unwrap_or(Value::Null),
            ),
            (
                "timeout",
                tg.health_check_timeout_seconds()
                    .map(n)
                    .unwrap_or(Value::Null),
            ),
            (
                "healthy_threshold",
                tg.healthy_threshold_count().map(n).unwrap_or(Value::Null),
            ),
            (
                "unhealthy_threshold",
                tg.unhealthy_threshold_count().map(n).unwrap_or(Value::Null),
            ),
        ]);
        let prior_hc = blocks(base, "health_check");
        let health_check = if whole_health_check {
            Value::List(vec![hc])
        } else if prior_hc.is_empty() {
            Value::List(Vec::new())
        } else {
            numbers_like(
                &Value::List(prior_hc.to_vec()),
                narrow_blocks(prior_hc, vec![hc]),
            )
        };
        with_all(
            base,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("arn_suffix", s(arn_resource(arn))),
                ("name", s(tg.target_group_name().unwrap_or_default())),
                ("port", tg.port().map(n).unwrap_or(Value::Null)),
                ("protocol", os(tg.protocol().map(|p| p.as_str()))),
                ("vpc_id", os(tg.vpc_id())),
                ("target_type", os(tg.target_type().map(|t| t.as_str()))),
                (
                    "deregistration_delay",
                    o.delay.map(n).unwrap_or(Value::Null),
                ),
                ("health_check", health_check),
                ("tags_all", string_map(o.tags)),
            ],
        )
    }

    async fn set_delay(&self, arn: &str, planned: &Value) -> AwsResult<()> {
        let Some(delay) = opt_i32(planned, "deregistration_delay")? else {
            return Ok(());
        };
        self.shared
            .elbv2()
            .await
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(
                TargetGroupAttribute::builder()
                    .key(DEREGISTRATION_DELAY)
                    .value(delay.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("ModifyTargetGroupAttributes"))?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType for LbTargetGroup {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "target_type", s("instance"));
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "arn")?;
        Ok(self
            .describe(arn)
            .await?
            .map(|o| Self::value(prior, o, false)))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let mut req = self
            .shared
            .elbv2()
            .await
            .create_target_group()
            .name(name)
            .set_port(opt_i32(planned, "port")?)
            .set_protocol(opt_str(planned, "protocol").map(ProtocolEnum::from))
            .set_vpc_id(opt_str(planned, "vpc_id").map(str::to_owned))
            .target_type(TargetTypeEnum::from(
                opt_str(planned, "target_type").unwrap_or("instance"),
            ));
        if let Some(hc) = block(planned, "health_check") {
            req = HealthCheck::from_block(hc)?.on_create(req);
        }
        if !all.is_empty() {
            req = req.set_tags(Some(elb_tags(all)));
        }
        let out = req.send().await.map_err(sdk("CreateTargetGroup"))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|tg| tg.target_group_arn())
            .ok_or_else(|| {
                AwsError::unexpected("CreateTargetGroup", "no target group ARN in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&arn)), ("arn", s(&arn))]);
        let finish = async {
            self.set_delay(&arn, planned).await?;
            self.describe(&arn).await
        };
        match finish.await {
            Ok(Some(o)) => Ok(Self::value(planned, o, false)),
            Ok(None) => Err(ProviderError {
                message: format!("target group {arn} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// Target group names are unique in a region and account. A
    /// deregistration delay a cut-off create never set reads as AWS's, and
    /// the next plan sets it.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let Some(arn) = self.arn_by_name(name).await? else {
            return Ok(None);
        };
        Ok(self
            .describe(&arn)
            .await?
            .map(|o| Self::value(planned, o, false)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.elbv2().await;
        let want_hc = block(planned, "health_check");
        if want_hc.is_some() && prior.get("health_check") != planned.get("health_check") {
            let req = client.modify_target_group().target_group_arn(arn);
            let req = match want_hc {
                Some(hc) => HealthCheck::from_block(hc)?.on_modify(req),
                None => req,
            };
            req.send().await.map_err(sdk("ModifyTargetGroup"))?;
        }
        if prior.get("deregistration_delay") != planned.get("deregistration_delay") {
            self.set_delay(arn, planned).await?;
        }
        retag(&client, arn, prior, planned).await?;
        let o = self.describe(arn).await?.ok_or_else(|| {
            ProviderError::new(format!("target group {arn} vanished while it was updated"))
        })?;
        Ok(Self::value(planned, o, false))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.elbv2().await;
        // A listener or rule that forwards here is usually being deleted at
        // the same time (or was just replaced): wait for AWS to let go.
        wait::retry(
            &format!("target group {arn} to be released by the listeners and rules using it"),
            wait::limit(180),
            (Duration::from_secs(1), Duration::from_secs(10)),
            |e| e.code() == Some("ResourceInUse"),
            || {
                let client = client.clone();
                async move {
                    match client
                        .delete_target_group()
                        .target_group_arn(arn)
                        .send()
                        .await
                        .map_err(sdk("DeleteTargetGroup"))
                    {
                        Ok(_) => Ok(()),
                        Err(e) if e.is_not_found() => Ok(()),
                        Err(e) => Err(e),
                    }
                }
            },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null)]);
        let o = self.describe(id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "TargetGroupNotFound: no target group {id:?} to import (give its ARN)"
            ))
        })?;
        Ok(Self::value(&base, o, true))
    }
}
