//! `aws_vpc`: a VPC. The CIDR block and the tenancy replace it; the DNS
//! settings and tags change in place. Its main route table, default security
//! group and default network ACL (made by AWS with it) are computed. Destroy
//! retries while AWS still holds dependents (a NAT gateway's interface being
//! released), then waits until it is gone.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, ResourceType as Ec2ResourceType, Tenancy, Vpc as Ec2Vpc,
    VpcAttributeName, VpcState,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_bool, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{
    arn, check_ipv4_cidr, found, imported_tags, retag, retry_while, tag_spec, tags_all, text,
};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct Vpc {
    shared: Arc<Shared>,
    schema: Schema,
}

const TENANCIES: &[&str] = &["default", "dedicated"];

impl Vpc {
    pub fn new(shared: Arc<Shared>) -> Vpc {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("cidr_block", Attribute::required().force_new())
            .attr(
                "instance_tenancy",
                Attribute::optional()
                    .force_new()
                    .describe("default (the default) or dedicated"),
            )
            .attr(
                "enable_dns_support",
                Attribute::optional().describe("default true"),
            )
            .attr(
                "enable_dns_hostnames",
                Attribute::optional().describe("default false"),
            )
            .attr("arn", Attribute::computed())
            .attr("owner_id", Attribute::computed())
            .attr("default_route_table_id", Attribute::computed())
            .attr("main_route_table_id", Attribute::computed())
            .attr("default_security_group_id", Attribute::computed())
            .attr("default_network_acl_id", Attribute::computed())
            .attr("dhcp_options_id", Attribute::computed());
        Vpc {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<Ec2Vpc>> {
        let out = found(
            ec2.describe_vpcs()
                .vpc_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeVpcs")),
        )?;
        Ok(out.and_then(|o| o.vpcs().iter().find(|v| v.vpc_id() == Some(id)).cloned()))
    }

    async fn dns_attribute(
        &self,
        ec2: &Client,
        id: &str,
        name: VpcAttributeName,
    ) -> AwsResult<bool> {
        let out = ec2
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(name.clone())
            .send()
            .await
            .map_err(sdk("DescribeVpcAttribute"))?;
        let v = match name {
            VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
            _ => out.enable_dns_support(),
        };
        Ok(v.and_then(|b| b.value()).unwrap_or(false))
    }

    /// The VPC as a value, with what AWS made along with it; `None` when gone.
    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        let Some(vpc) = self.describe(&ec2, id).await? else {
            return Ok(None);
        };
        let dns_support = self
            .dns_attribute(&ec2, id, VpcAttributeName::EnableDnsSupport)
            .await?;
        let dns_hostnames = self
            .dns_attribute(&ec2, id, VpcAttributeName::EnableDnsHostnames)
            .await?;
        let by_vpc = || Filter::builder().name("vpc-id").values(id).build();
        let main_rt = ec2
            .describe_route_tables()
            .filters(by_vpc())
            .filters(
                Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("DescribeRouteTables"))?
            .route_tables()
            .iter()
            .find(|t| {
                t.vpc_id() == Some(id) && t.associations().iter().any(|a| a.main() == Some(true))
            })
            .and_then(|t| t.route_table_id().map(str::to_owned));
        let default_sg = ec2
            .describe_security_groups()
            .filters(by_vpc())
            .filters(
                Filter::builder()
                    .name("group-name")
                    .values("default")
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("DescribeSecurityGroups"))?
            .security_groups()
            .iter()
            .find(|g| g.vpc_id() == Some(id) && g.group_name() == Some("default"))
            .and_then(|g| g.group_id().map(str::to_owned));
        let default_acl = ec2
            .describe_network_acls()
            .filters(by_vpc())
            .filters(Filter::builder().name("default").values("true").build())
            .send()
            .await
            .map_err(sdk("DescribeNetworkAcls"))?
            .network_acls()
            .iter()
            .find(|a| a.vpc_id() == Some(id) && a.is_default() == Some(true))
            .and_then(|a| a.network_acl_id().map(str::to_owned));
        let owner = vpc.owner_id().unwrap_or_default();
        Ok(Some(with_all(
            base,
            [
                ("id", s(id)),
                ("cidr_block", text(vpc.cidr_block())),
                (
                    "instance_tenancy",
                    s(vpc
                        .instance_tenancy()
                        .map(|t| t.as_str())
                        .unwrap_or("default")),
                ),
                ("enable_dns_support", Value::Bool(dns_support)),
                ("enable_dns_hostnames", Value::Bool(dns_hostnames)),
                ("arn", arn(&ec2, owner, &format!("vpc/{id}"))),
                ("owner_id", s(owner)),
                ("default_route_table_id", text(main_rt.as_deref())),
                ("main_route_table_id", text(main_rt.as_deref())),
                ("default_security_group_id", text(default_sg.as_deref())),
                ("default_network_acl_id", text(default_acl.as_deref())),
                ("dhcp_options_id", text(vpc.dhcp_options_id())),
                tags_all(vpc.tags()),
            ],
        )))
    }

    async fn set_dns(&self, id: &str, prior: Option<&Value>, planned: &Value) -> AwsResult<()> {
        let ec2 = self.shared.ec2().await;
        // AWS's own defaults: DNS support on, host names off.
        let had = |k: &str, default: bool| prior.and_then(|p| opt_bool(p, k)).unwrap_or(default);
        let want_support = opt_bool(planned, "enable_dns_support").unwrap_or(true);
        let want_hostnames = opt_bool(planned, "enable_dns_hostnames").unwrap_or(false);
        let attr = |b: bool| AttributeBooleanValue::builder().value(b).build();
        // One attribute per call, as AWS requires; support first, since host
        // names need it.
        if want_support != had("enable_dns_support", true) {
            ec2.modify_vpc_attribute()
                .vpc_id(id)
                .enable_dns_support(attr(want_support))
                .send()
                .await
                .map_err(sdk("ModifyVpcAttribute"))?;
        }
        if want_hostnames != had("enable_dns_hostnames", false) {
            ec2.modify_vpc_attribute()
                .vpc_id(id)
                .enable_dns_hostnames(attr(want_hostnames))
                .send()
                .await
                .map_err(sdk("ModifyVpcAttribute"))?;
        }
        Ok(())
    }

    async fn wait_available(&self, id: &str) -> AwsResult<()> {
        let ec2 = self.shared.ec2().await;
        wait::until(
            &format!("VPC {id} to be available"),
            wait::limit(300),
            Duration::from_secs(2),
            || {
                let ec2 = ec2.clone();
                async move {
                    // Just made: not found yet is eventual consistency.
                    let vpc = self.describe(&ec2, id).await?;
                    Ok(vpc
                        .filter(|v| v.state().is_none_or(|s| *s == VpcState::Available))
                        .map(|_| ()))
                }
            },
        )
        .await
    }
}

#[async_trait]
impl ResourceType for Vpc {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            check_ipv4_cidr(config, "cidr_block").into_iter().collect();
        if let Some(t) = opt_str(config, "instance_tenancy")
            && !TENANCIES.contains(&t)
        {
            out.push((
                "instance_tenancy".into(),
                format!("must be one of {}, got {t:?}", TENANCIES.join(", ")),
            ));
        }
        out
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "instance_tenancy", s("default"));
        let proposed = or_default(proposed, "enable_dns_support", Value::Bool(true));
        let proposed = or_default(proposed, "enable_dns_hostnames", Value::Bool(false));
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let cidr = req_str(planned, "cidr_block")?;
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = ec2
            .create_vpc()
            .cidr_block(cidr)
            .instance_tenancy(Tenancy::from(
                opt_str(planned, "instance_tenancy").unwrap_or("default"),
            ))
            .set_tag_specifications(tag_spec(Ec2ResourceType::Vpc, all).map(|t| vec![t]))
            .send()
            .await
            .map_err(sdk("CreateVpc"))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| AwsError::unexpected("CreateVpc", "no VPC id in the answer"))?
            .to_owned();
        let made = with_all(planned, [("id", s(&id))]);
        let finish = async {
            self.wait_available(&id).await?;
            self.set_dns(&id, None, planned).await?;
            self.observe(planned, &id).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("VPC {id} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        self.set_dns(id, Some(prior), planned).await?;
        retag(&self.shared.ec2().await, id, prior, planned).await?;
        self.observe(planned, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("VPC {id} vanished while it was updated")))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        let deleted = retry_while(
            &format!("VPC {id} to be released by its dependents"),
            300,
            &[],
            || {
                let ec2 = ec2.clone();
                async move {
                    found(
                        ec2.delete_vpc()
                            .vpc_id(id)
                            .send()
                            .await
                            .map_err(sdk("DeleteVpc")),
                    )
                }
            },
        )
        .await?;
        if deleted.is_some() {
            wait::until(
                &format!("VPC {id} to be deleted"),
                wait::limit(300),
                Duration::from_secs(2),
                || {
                    let ec2 = ec2.clone();
                    async move { Ok(self.describe(&ec2, id).await?.is_none().then_some(())) }
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let vpc = self.describe(&ec2, id).await?.ok_or_else(|| {
            ProviderError::new(format!("InvalidVpcID.NotFound: no VPC {id:?} to import"))
        })?;
        Ok(obj([
            ("id", s(id)),
            imported_tags(&self.shared.default_tags(), vpc.tags()),
        ]))
    }
}
