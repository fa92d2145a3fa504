//! `aws_lb`: an Application (or Network) Load Balancer. Its id is the ARN, as
//! in Terraform; import takes the ARN. Subnets and security groups change in
//! place; name, type and scheme replace it. Create waits until it is active,
//! delete until it is gone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{
    obj, opt_bool, opt_str, or_default, req_str, s, set_like, str_list, string_map, with_all,
};
use crate::config::Shared;
use crate::elbv2::{arn_resource, elb_tags, read_tags, retag};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct Lb {
    shared: Arc<Shared>,
    schema: Schema,
}

impl Lb {
    pub fn new(shared: Arc<Shared>) -> Lb {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr(
                "load_balancer_type",
                Attribute::optional_computed()
                    .force_new()
                    .describe("application (default), network or gateway"),
            )
            .attr(
                "internal",
                Attribute::optional_computed().force_new().describe(
                    "true: reachable only inside the VPC; default false (internet-facing)",
                ),
            )
            .attr("subnets", Attribute::optional_computed())
            .attr("security_groups", Attribute::optional_computed())
            .attr("arn", Attribute::computed())
            .attr("arn_suffix", Attribute::computed())
            .attr("dns_name", Attribute::computed())
            .attr("zone_id", Attribute::computed())
            .attr("vpc_id", Attribute::computed());
        Lb {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, arn: &str) -> AwsResult<Option<LoadBalancer>> {
        match self
            .shared
            .elbv2()
            .await
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await
            .map_err(sdk("DescribeLoadBalancers"))
        {
            Ok(o) => Ok(o.load_balancers().first().cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The ARN of the load balancer called `name`; `None` when there is none.
    async fn arn_by_name(&self, name: &str) -> AwsResult<Option<String>> {
        match self
            .shared
            .elbv2()
            .await
            .describe_load_balancers()
            .names(name)
            .send()
            .await
            .map_err(sdk("DescribeLoadBalancers"))
        {
            Ok(o) => Ok(o
                .load_balancers()
                .iter()
                .find(|lb| lb.load_balancer_name() == Some(name))
                .and_then(|lb| lb.load_balancer_arn())
                .map(str::to_owned)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The load balancer and its tags as a value; `None` when it is gone.
    async fn observe(&self, base: &Value, arn: &str) -> AwsResult<Option<Value>> {
        let Some(lb) = self.describe(arn).await? else {
            return Ok(None);
        };
        let Some(tags) = read_tags(&self.shared.elbv2().await, arn).await? else {
            return Ok(None);
        };
        Ok(Some(Self::value(base, &lb, tags)))
    }

    fn value(base: &Value, lb: &LoadBalancer, tags: BTreeMap<String, String>) -> Value {
        let arn = lb.load_balancer_arn().unwrap_or_default();
        let resource = arn_resource(arn);
        let subnets: Vec<String> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_owned))
            .collect();
        with_all(
            base,
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
                ("subnets", set_like(base.get("subnets"), subnets)),
                (
                    "security_groups",
                    set_like(base.get("security_groups"), lb.security_groups().to_vec()),
                ),
                ("dns_name", s(lb.dns_name().unwrap_or_default())),
                (
                    "zone_id",
                    s(lb.canonical_hosted_zone_id().unwrap_or_default()),
                ),
                ("vpc_id", s(lb.vpc_id().unwrap_or_default())),
                ("tags_all", string_map(tags)),
            ],
        )
    }

    /// Waits until the load balancer has left `provisioning`; `failed` is an error.
    async fn wait_active(&self, arn: &str) -> AwsResult<()> {
        wait::until(
            &format!("load balancer {arn} to be active"),
            wait::limit(600),
            Duration::from_secs(5),
            || async move {
                let lb = self.describe(arn).await?.ok_or_else(|| {
                    AwsError::invalid(format!("load balancer {arn} vanished while provisioning"))
                })?;
                let state = lb.state();
                match state.and_then(|st| st.code()) {
                    Some(LoadBalancerStateEnum::Failed) => Err(AwsError::Service {
                        operation: "DescribeLoadBalancers",
                        code: "LoadBalancerFailed".into(),
                        message: state
                            .and_then(|st| st.reason())
                            .unwrap_or("no reason given")
                            .to_owned(),
                    }),
                    Some(LoadBalancerStateEnum::Provisioning) => Ok(None),
                    _ => Ok(Some(())),
                }
            },
        )
        .await
    }
}

#[async_trait]
impl ResourceType for Lb {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match opt_str(config, "load_balancer_type") {
            Some(t) if !matches!(t, "application" | "network" | "gateway") => vec![(
                "load_balancer_type".into(),
                format!("must be application, network or gateway, got {t:?}"),
            )],
            _ => Vec::new(),
        }
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "load_balancer_type", s("application"));
        let proposed = or_default(proposed, "internal", Value::Bool(false));
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let arn = req_str(prior, "arn")?;
        Ok(self.observe(prior, arn).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let scheme = if opt_bool(planned, "internal").unwrap_or(false) {
            LoadBalancerSchemeEnum::Internal
        } else {
            LoadBalancerSchemeEnum::InternetFacing
        };
        let subnets = str_list(planned, "subnets");
        let groups = str_list(planned, "security_groups");
        let mut req = self
            .shared
            .elbv2()
            .await
            .create_load_balancer()
            .name(name)
            .r#type(LoadBalancerTypeEnum::from(
                opt_str(planned, "load_balancer_type").unwrap_or("application"),
            ))
            .scheme(scheme)
            .set_subnets((!subnets.is_empty()).then_some(subnets))
            .set_security_groups((!groups.is_empty()).then_some(groups));
        if !all.is_empty() {
            req = req.set_tags(Some(elb_tags(all)));
        }
        let out = req.send().await.map_err(sdk("CreateLoadBalancer"))?;
        let arn = out
            .load_balancers()
            .first()
            .and_then(|lb| lb.load_balancer_arn())
            .ok_or_else(|| {
                AwsError::unexpected("CreateLoadBalancer", "no load balancer ARN in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&arn)), ("arn", s(&arn))]);
        let finish = async {
            self.wait_active(&arn).await?;
            self.observe(planned, &arn).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("load balancer {arn} vanished after it was created"),
                partial: Some(made),
            }),
            // It exists: record it (tainted) rather than lose it.
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// Load balancer names are unique in a region and account. Like create,
    /// it waits while the load balancer is still provisioning; one that
    /// failed is an error to look at, not an object to record.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let Some(arn) = self.arn_by_name(name).await? else {
            return Ok(None);
        };
        self.wait_active(&arn).await?;
        Ok(self.observe(planned, &arn).await?)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let client = self.shared.elbv2().await;
        let changed = |k: &str| {
            let mut a = str_list(prior, k);
            let mut b = str_list(planned, k);
            a.sort();
            b.sort();
            a != b && planned.get(k).is_some_and(|v| !v.is_null())
        };
        if changed("subnets") {
            client
                .set_subnets()
                .load_balancer_arn(arn)
                .set_subnets(Some(str_list(planned, "subnets")))
                .send()
                .await
                .map_err(sdk("SetSubnets"))?;
        }
        if changed("security_groups") {
            client
                .set_security_groups()
                .load_balancer_arn(arn)
                .set_security_groups(Some(str_list(planned, "security_groups")))
                .send()
                .await
                .map_err(sdk("SetSecurityGroups"))?;
        }
        retag(&client, arn, prior, planned).await?;
        Ok(self.observe(planned, arn).await?.ok_or_else(|| {
            ProviderError::new(format!("load balancer {arn} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = req_str(prior, "arn")?;
        match self
            .shared
            .elbv2()
            .await
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(sdk("DeleteLoadBalancer"))
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        wait::until(
            &format!("load balancer {arn} to be deleted"),
            wait::limit(600),
            Duration::from_secs(3),
            || async move { Ok(self.describe(arn).await?.is_none().then_some(())) },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null)]);
        self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "LoadBalancerNotFound: no load balancer {id:?} to import (give its ARN)"
            ))
        })
    }
}
