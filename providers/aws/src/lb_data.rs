//! `data "aws_lb"` (alias `aws_alb` in Terraform): one load balancer, by
//! `arn` or `name`, further narrowed by `tags` (every pair must match; with
//! neither `arn` nor `name`, every load balancer of the region is searched
//! by its tags). Exactly one must match. Its attributes are those of the
//! `aws_lb` resource; `id` is the ARN.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer, LoadBalancerSchemeEnum};
use dumcel_engine::provider::{DataSource, ProviderError, ProviderResult};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{opt_str, s, str_map, string_map, strings, with_all};
use crate::config::Shared;
use crate::elbv2::{arn_resource, read_tags};
use crate::error::{AwsResult, sdk};

pub struct LbData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl LbData {
    pub fn new(shared: Arc<Shared>) -> LbData {
        LbData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("arn", Attribute::optional_computed())
                .attr("name", Attribute::optional_computed())
                .attr(
                    "tags",
                    Attribute::optional_computed()
                        .describe("every pair must match a tag of the load balancer"),
                )
                .attr("arn_suffix", Attribute::computed())
                .attr("load_balancer_type", Attribute::computed())
                .attr("internal", Attribute::computed())
                .attr("subnets", Attribute::computed())
                .attr("security_groups", Attribute::computed())
                .attr("dns_name", Attribute::computed())
                .attr("zone_id", Attribute::computed())
                .attr("vpc_id", Attribute::computed())
                .attr("ip_address_type", Attribute::computed()),
        }
    }

    /// The load balancers `arn` / `name` select (every one when neither is
    /// given); a name or ARN that matches nothing is an empty list.
    async fn candidates(
        &self,
        arn: Option<&str>,
        name: Option<&str>,
    ) -> AwsResult<Vec<LoadBalancer>> {
        let client = self.shared.elbv2().await;
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut req = client.describe_load_balancers().set_marker(marker.take());
            if let Some(arn) = arn {
                req = req.load_balancer_arns(arn);
            }
            if let Some(name) = name {
                req = req.names(name);
            }
            let out = match req.send().await.map_err(sdk("DescribeLoadBalancers")) {
                Ok(o) => o,
                Err(e) if e.is_not_found() => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            found.extend(out.load_balancers().iter().cloned());
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        // Both given: both must hold.
        found.retain(|lb| {
            arn.is_none_or(|a| lb.load_balancer_arn() == Some(a))
                && name.is_none_or(|n| lb.load_balancer_name() == Some(n))
        });
        Ok(found)
    }
}

fn value(config: &Value, lb: &LoadBalancer, tags: BTreeMap<String, String>) -> Value {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let resource = arn_resource(arn);
    let mut subnets: Vec<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_owned))
        .collect();
    subnets.sort();
    let mut groups = lb.security_groups().to_vec();
    groups.sort();
    with_all(
        config,
        [
            ("id", s(arn)),
            ("arn", s(arn)),
            (
                "arn_suffix",
                s(resource.strip_prefix("loadbalancer/").unwrap_or(resource)),
            ),
            ("name", s(lb.load_balancer_name().unwrap_or_default())),
            (
                "load_balancer_type",
                s(lb.r#type().map(|t| t.as_str()).unwrap_or("application")),
            ),
            (
                "internal",
                Value::Bool(lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal)),
            ),
            ("subnets", strings(subnets)),
            ("security_groups", strings(groups)),
            ("dns_name", s(lb.dns_name().unwrap_or_default())),
            (
                "zone_id",
                s(lb.canonical_hosted_zone_id().unwrap_or_default()),
            ),
            ("vpc_id", s(lb.vpc_id().unwrap_or_default())),
            (
                "ip_address_type",
                s(lb.ip_address_type().map(|t| t.as_str()).unwrap_or("ipv4")),
            ),
            ("tags", string_map(tags)),
        ],
    )
}

#[async_trait]
impl DataSource for LbData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let arn = opt_str(config, "arn");
        let name = opt_str(config, "name");
        let want: Vec<(String, String)> = str_map(config, "tags");
        if arn.is_none() && name.is_none() && want.is_empty() {
            return Err(ProviderError::new(
                "data \"aws_lb\" needs arn, name or tags to find its load balancer",
            ));
        }
        let client = self.shared.elbv2().await;
        let mut matched = Vec::new();
        for lb in self.candidates(arn, name).await? {
            let Some(lb_arn) = lb.load_balancer_arn() else {
                continue;
            };
            // Gone between the two calls: not a match.
            let Some(tags) = read_tags(&client, lb_arn).await? else {
                continue;
            };
            if want.iter().all(|(k, v)| tags.get(k) == Some(v)) {
                matched.push((lb, tags));
            }
        }
        let asked = match (arn, name) {
            (Some(a), _) => format!("arn {a:?}"),
            (None, Some(n)) => format!("name {n:?}"),
            (None, None) => "the given tags".to_owned(),
        };
        match matched.as_slice() {
            [(lb, tags)] => Ok(value(config, lb, tags.clone())),
            [] => Err(ProviderError::new(format!(
                "LoadBalancerNotFound: no load balancer matches {asked}{}; check the name and region (a \
                 data source does not create it: apply the stack that does first)",
                if want.is_empty() { "" } else { " and tags" }
            ))),
            many => Err(ProviderError::new(format!(
                "{} load balancers match {asked}; narrow the search with name, arn or more tags",
                many.len()
            ))),
        }
    }
}
