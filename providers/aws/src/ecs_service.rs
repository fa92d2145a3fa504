//! `aws_ecs_service`: a long-running set of tasks. The task definition,
//! desired count, network configuration and deployment settings change in
//! place (a rolling deployment); name, cluster, launch type and load balancers
//! replace it. `wait_for_steady_state` waits until ECS has rolled out the
//! planned task definition and its targets are healthy (see
//! [`crate::ecs_rollout`]), within the `timeouts` block's limits.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    LaunchType, LoadBalancer, NetworkConfiguration, Service,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};
use sha2::{Digest, Sha256};

use crate::attrs::{
    block, blocks, n, narrow_blocks, obj, opt_bool, opt_i32, opt_str, req_str, s, strings, with_all,
};
use crate::config::Shared;
use crate::ecs_cluster::ecs_tags;
use crate::ecs_rollout::{self, Rollout, Targets, WaitOptions};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, timeouts, wait};

pub struct EcsService {
    shared: Arc<Shared>,
    schema: Schema,
}

impl EcsService {
    pub fn new(shared: Arc<Shared>) -> EcsService {
        let network = Schema::new()
            .attr("subnets", Attribute::required())
            .attr("security_groups", Attribute::optional())
            .attr("assign_public_ip", Attribute::optional());
        let lb = Schema::new()
            .attr("target_group_arn", Attribute::required())
            .attr("container_name", Attribute::required())
            .attr("container_port", Attribute::required());
        let breaker = Schema::new()
            .attr("enable", Attribute::required())
            .attr("rollback", Attribute::required());
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("cluster", Attribute::required().force_new())
            .attr("task_definition", Attribute::required())
            .attr("desired_count", Attribute::optional_computed())
            .attr("launch_type", Attribute::optional_computed().force_new())
            .attr(
                "deployment_minimum_healthy_percent",
                Attribute::optional_computed(),
            )
            .attr("deployment_maximum_percent", Attribute::optional_computed())
            .attr("health_check_grace_period_seconds", Attribute::optional())
            .attr(
                "wait_for_steady_state",
                Attribute::optional()
                    .describe("wait for the rollout to finish on create and update"),
            )
            .attr("arn", Attribute::computed())
            .block(
                "network_configuration",
                NestedBlock {
                    schema: network,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            )
            .block(
                "load_balancer",
                NestedBlock {
                    schema: lb,
                    min_items: 0,
                    max_items: None,
                    force_new: true,
                },
            )
            .block(
                "deployment_circuit_breaker",
                NestedBlock {
                    schema: breaker,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        EcsService {
            shared,
            schema: timeouts::add(tags::add(schema)),
        }
    }

    async fn describe(&self, cluster: &str, name: &str) -> AwsResult<Option<Service>> {
        let out = self
            .shared
            .ecs()
            .await
            .describe_services()
            .cluster(cluster)
            .services(name)
            .send()
            .await
            .map_err(sdk("DescribeServices"));
        match out {
            // A deleted service lingers as INACTIVE (or DRAINING) for a while.
            Ok(o) => Ok(o
                .services()
                .iter()
                .find(|s| s.status() == Some("ACTIVE"))
                .cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn value(base: &Value, svc: &Service) -> Value {
        let arn = svc.service_arn().unwrap_or_default();
        let mut pairs: Vec<(&str, Value)> = vec![
            ("id", s(arn)),
            ("arn", s(arn)),
            ("name", s(svc.service_name().unwrap_or_default())),
            ("desired_count", n(svc.desired_count())),
        ];
        if let Some(lt) = svc.launch_type() {
            pairs.push(("launch_type", s(lt.as_str())));
        }
        if let Some(td) = svc.task_definition() {
            // Keep what the configuration wrote when it names the same
            // revision by family:revision rather than by ARN.
            let prior = base.get("task_definition").and_then(Value::as_str);
            let same = prior.is_some_and(|p| td == p || td.ends_with(&format!("/{p}")));
            if !same {
                pairs.push(("task_definition", s(td)));
            }
        }
        if let Some(dc) = svc.deployment_configuration() {
            if let Some(p) = dc.minimum_healthy_percent() {
                pairs.push(("deployment_minimum_healthy_percent", n(p)));
            }
            if let Some(p) = dc.maximum_percent() {
                pairs.push(("deployment_maximum_percent", n(p)));
            }
            let prior_cb = blocks(base, "deployment_circuit_breaker");
            let actual: Vec<Value> = dc
                .deployment_circuit_breaker()
                .filter(|cb| cb.enable() || !prior_cb.is_empty())
                .map(|cb| {
                    obj([
                        ("enable", Value::Bool(cb.enable())),
                        ("rollback", Value::Bool(cb.rollback())),
                    ])
                })
                .into_iter()
                .collect();
            pairs.push((
                "deployment_circuit_breaker",
                narrow_blocks(prior_cb, actual),
            ));
        }
        let prior_net = blocks(base, "network_configuration");
        let actual_net: Vec<Value> = svc
            .network_configuration()
            .and_then(|nc| nc.awsvpc_configuration())
            .map(|a| {
                obj([
                    ("subnets", sorted(a.subnets())),
                    ("security_groups", sorted(a.security_groups())),
                    (
                        "assign_public_ip",
                        Value::Bool(a.assign_public_ip() == Some(&AssignPublicIp::Enabled)),
                    ),
                ])
            })
            .into_iter()
            .collect();
        // Compare subnet lists as sets: keep the configured order when equal.
        let actual_net = keep_order(prior_net, actual_net, &["subnets", "security_groups"]);
        pairs.push((
            "network_configuration",
            narrow_blocks(prior_net, actual_net),
        ));
        let lbs: Vec<Value> = svc
            .load_balancers()
            .iter()
            .map(|l| {
                obj([
                    (
                        "target_group_arn",
                        s(l.target_group_arn().unwrap_or_default()),
                    ),
                    ("container_name", s(l.container_name().unwrap_or_default())),
                    (
                        "container_port",
                        l.container_port().map(n).unwrap_or(Value::Null),
                    ),
                ])
            })
            .collect();
        pairs.push(("load_balancer", Value::List(lbs)));
        with_all(base, pairs)
    }

    fn deployment_configuration(planned: &Value) -> AwsResult<Option<DeploymentConfiguration>> {
        let cb = block(planned, "deployment_circuit_breaker");
        let min = opt_i32(planned, "deployment_minimum_healthy_percent")?;
        let max = opt_i32(planned, "deployment_maximum_percent")?;
        if cb.is_none() && min.is_none() && max.is_none() {
            return Ok(None);
        }
        let mut b = DeploymentConfiguration::builder()
            .set_minimum_healthy_percent(min)
            .set_maximum_percent(max);
        if let Some(cb) = cb {
            b = b.deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(opt_bool(cb, "enable").unwrap_or(false))
                    .rollback(opt_bool(cb, "rollback").unwrap_or(false))
                    .build(),
            );
        }
        Ok(Some(b.build()))
    }

    fn network_configuration(planned: &Value) -> AwsResult<Option<NetworkConfiguration>> {
        let Some(nc) = block(planned, "network_configuration") else {
            return Ok(None);
        };
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(crate::attrs::str_list(nc, "subnets")))
            .set_security_groups(Some(crate::attrs::str_list(nc, "security_groups")))
            .assign_public_ip(if opt_bool(nc, "assign_public_ip").unwrap_or(false) {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .map_err(|e| AwsError::invalid(e.to_string()))?;
        Ok(Some(
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc)
                .build(),
        ))
    }

    /// Waits until ECS has decided the rollout of the planned task
    /// definition ([`ecs_rollout`]: ours COMPLETED and primary; a FAILED
    /// deployment or a circuit-breaker rollback is an error), then until the
    /// targets it registered with its load balancers are healthy, all within
    /// the `timeouts` block's `operation` limit.
    async fn wait_steady(&self, planned: &Value, operation: &str) -> AwsResult<()> {
        let cluster = req_str(planned, "cluster")?;
        let name = req_str(planned, "name")?;
        let task_definition = req_str(planned, "task_definition")?;
        let limit = timeouts::of(planned, operation, 600)?;
        let deadline = Instant::now() + limit;
        let opts = WaitOptions {
            poll_interval: POLL,
            timeout: limit,
        };
        let ecs = self.shared.ecs().await;
        let outcome =
            ecs_rollout::wait_for_rollout(&ecs, cluster, name, task_definition, &opts).await?;
        let failed = |code: &str, message: String| AwsError::Service {
            operation: "DescribeServices",
            code: code.to_owned(),
            message,
        };
        match outcome {
            Rollout::Completed => {}
            Rollout::Failed { reason } => {
                return Err(failed(
                    "DeploymentFailed",
                    format!("the rollout of {task_definition} failed: {reason}"),
                ));
            }
            Rollout::RolledBack { to, reason } => {
                return Err(failed(
                    "DeploymentRolledBack",
                    format!("ECS rolled service {name} back to {to}: {reason}"),
                ));
            }
            Rollout::TimedOut { last_state } => {
                return Err(AwsError::Timeout(format!(
                    "service {name} did not finish rolling out within {}: {last_state}",
                    humantime::format_duration(limit)
                )));
            }
        }
        let elbv2 = self.shared.elbv2().await;
        for lb in blocks(planned, "load_balancer") {
            if let Some(tg) = opt_str(lb, "target_group_arn") {
                healthy_targets(&elbv2, tg, deadline).await?;
            }
        }
        Ok(())
    }
}

/// CreateService's idempotency token: the first 32 hex digits of a SHA-256
/// over the parts (cluster and service name), so a create repeated after its
/// answer was lost (a crash, a timeout) gets the service the first one made
/// instead of making a second. ECS takes up to 36 characters.
fn client_token(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Lengths first, so ("ab", "c") and ("a", "bc") differ.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let mut hex = hex::encode(h.finalize());
    hex.truncate(32);
    hex
}

fn sorted(items: &[String]) -> Value {
    let mut v = items.to_vec();
    v.sort();
    strings(v)
}

/// For each list attribute compared as a set: when the sets are equal, keep
/// the recorded order, so a reordering by AWS is no change.
fn keep_order(prior: &[Value], actual: Vec<Value>, keys: &[&str]) -> Vec<Value> {
    actual
        .into_iter()
        .enumerate()
        .map(|(i, mut a)| {
            if let Some(p) = prior.get(i) {
                for k in keys {
                    let mut pl: Vec<String> = crate::attrs::str_list(p, k);
                    let al: Vec<String> = crate::attrs::str_list(&a, k);
                    let kept = pl.clone();
                    pl.sort();
                    if pl == al {
                        a = with_all(&a, [(*k, strings(kept))]);
                    }
                }
            }
            a
        })
        .collect()
}

/// How often a rollout and its targets are polled.
const POLL: Duration = Duration::from_secs(5);

/// Waits until every target registered in `tg` is healthy, or `deadline`.
async fn healthy_targets(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    tg: &str,
    deadline: Instant,
) -> AwsResult<()> {
    loop {
        match ecs_rollout::target_health(elbv2, tg).await? {
            Targets::Healthy => return Ok(()),
            // ECS registers a service's tasks itself and does not call a
            // rollout COMPLETED before they pass the health checks; an
            // emulator that registers nothing is all that gets here.
            Targets::NoneRegistered => {
                tracing::warn!(
                    target_group = tg,
                    "no targets registered; trusting the ECS rollout state"
                );
                return Ok(());
            }
            Targets::NotYet => {}
        }
        if Instant::now() + POLL > deadline {
            return Err(AwsError::Timeout(format!(
                "the targets of {tg} were not all healthy in time"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[async_trait]
impl ResourceType for EcsService {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        timeouts::validate(config)
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let cluster = req_str(prior, "cluster")?;
        let name = req_str(prior, "name")?;
        Ok(self
            .describe(cluster, name)
            .await?
            .map(|svc| Self::value(prior, &svc)))
    }

    /// By cluster and name, as `read` does: only an ACTIVE service counts,
    /// a DRAINING or INACTIVE one (deleted) is gone; a missing cluster
    /// means no service either.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        self.read(planned).await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let cluster = req_str(planned, "cluster")?;
        let name = req_str(planned, "name")?;
        let mut req = self
            .shared
            .ecs()
            .await
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(req_str(planned, "task_definition")?)
            .desired_count(opt_i32(planned, "desired_count")?.unwrap_or(1))
            .set_launch_type(opt_str(planned, "launch_type").map(LaunchType::from))
            .set_health_check_grace_period_seconds(opt_i32(
                planned,
                "health_check_grace_period_seconds",
            )?)
            .set_deployment_configuration(Self::deployment_configuration(planned)?)
            .set_network_configuration(Self::network_configuration(planned)?);
        for l in blocks(planned, "load_balancer") {
            req = req.load_balancers(
                LoadBalancer::builder()
                    .set_target_group_arn(opt_str(l, "target_group_arn").map(str::to_owned))
                    .set_container_name(opt_str(l, "container_name").map(str::to_owned))
                    .set_container_port(opt_i32(l, "container_port")?)
                    .build(),
            );
        }
        let all = tags::merged(&self.shared.default_tags(), planned);
        if !all.is_empty() {
            req = req.set_tags(Some(ecs_tags(all)));
        }
        let token = client_token(&[cluster, name]);
        let out = req
            .clone()
            .client_token(&token)
            .send()
            .await
            .map_err(sdk("CreateService"))?;
        let mut svc = out
            .service()
            .ok_or_else(|| AwsError::unexpected("CreateService", "no service in the answer"))?
            .clone();
        // A token outlives the service it made: after a replacement deleted
        // that one, the same cluster and name would get the deleted service
        // back. Ask again with a token that also names when the deleted one
        // was made: still the same if this create is repeated, new for this
        // generation of the service.
        if svc.status().is_some_and(|st| st != "ACTIVE") {
            let stale = svc
                .created_at()
                .map(|t| t.as_nanos().to_string())
                .unwrap_or_default();
            let out = req
                .client_token(client_token(&[cluster, name, &stale]))
                .send()
                .await
                .map_err(sdk("CreateService"))?;
            svc = out
                .service()
                .ok_or_else(|| AwsError::unexpected("CreateService", "no service in the answer"))?
                .clone();
        }
        let svc = &svc;
        let made = Self::value(planned, svc);
        if opt_bool(planned, "wait_for_steady_state").unwrap_or(false)
            && let Err(e) = self.wait_steady(planned, "create").await
        {
            // The service exists: record it (tainted) rather than lose it.
            return Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            });
        }
        Ok(made)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let cluster = req_str(planned, "cluster")?;
        let name = req_str(planned, "name")?;
        let arn = req_str(prior, "arn")?;
        self.shared
            .ecs()
            .await
            .update_service()
            .cluster(cluster)
            .service(name)
            .task_definition(req_str(planned, "task_definition")?)
            .set_desired_count(opt_i32(planned, "desired_count")?)
            .set_health_check_grace_period_seconds(opt_i32(
                planned,
                "health_check_grace_period_seconds",
            )?)
            .set_deployment_configuration(Self::deployment_configuration(planned)?)
            .set_network_configuration(Self::network_configuration(planned)?)
            .send()
            .await
            .map_err(sdk("UpdateService"))?;
        crate::ecs_cluster::retag(&self.shared, arn, prior, planned).await?;
        // A rollout that fails or never finishes leaves the service as it
        // was updated: not tainted (that would replace a live service), and
        // the next refresh reads what it runs.
        if opt_bool(planned, "wait_for_steady_state").unwrap_or(false) {
            self.wait_steady(planned, "update").await?;
        }
        let svc = self.describe(cluster, name).await?.ok_or_else(|| {
            ProviderError::new(format!("service {name} vanished while it was updated"))
        })?;
        Ok(Self::value(planned, &svc))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let cluster = req_str(prior, "cluster")?;
        let name = req_str(prior, "name")?;
        let ecs = self.shared.ecs().await;
        // Force: no need to scale to zero first and wait for that.
        match ecs
            .delete_service()
            .cluster(cluster)
            .service(name)
            .force(true)
            .send()
            .await
            .map_err(sdk("DeleteService"))
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        wait::until(
            &format!("service {name} to drain"),
            timeouts::of(prior, "delete", 600)?,
            Duration::from_secs(3),
            || async move { Ok(self.describe(cluster, name).await?.is_none().then_some(())) },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (cluster, name) = id.split_once('/').ok_or_else(|| {
            ProviderError::new(format!("import id must be CLUSTER/SERVICE, got {id:?}"))
        })?;
        let base = obj([
            ("cluster", s(cluster)),
            ("tags", Value::Null),
            ("tags_all", Value::Map(Default::default())),
            ("wait_for_steady_state", Value::Null),
            ("timeouts", Value::List(Vec::new())),
            ("health_check_grace_period_seconds", Value::Null),
        ]);
        let svc = self.describe(cluster, name).await?.ok_or_else(|| {
            ProviderError::new(format!("ServiceNotFoundException: no service {id:?}"))
        })?;
        let v = Self::value(&base, &svc);
        Ok(with_all(
            &v,
            [(
                "task_definition",
                s(svc.task_definition().unwrap_or_default()),
            )],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_stable_short_and_distinct() {
        let t = client_token(&["prod", "web"]);
        assert_eq!(t, client_token(&["prod", "web"]));
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(t, client_token(&["prod", "api"]));
        assert_ne!(client_token(&["ab", "c"]), client_token(&["a", "bc"]));
    }
}
