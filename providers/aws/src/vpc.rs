//! `aws_vpc`: a VPC. The CIDR block and the tenancy replace it; the DNS
//! settings and tags change in place. Its main route table, default security
//! group and default network ACL (made by AWS with it) are computed. Destroy
//! retries while AWS still holds dependents (a NAT gateway's interface being
//! released), then waits until it is gone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType as Ec2ResourceType, Tenancy, Vpc as Ec2Vpc,
    VpcAttributeName, VpcState,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_bool, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{
    arn, check_ipv4_cidr, found, imported_tags, retag, retry_while, tag_spec, tags_all, text,
};
use crate::ec2_batch::{READ_BATCH, describe_by_ids, ids_filter, read_by_ids};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct Vpc {
    shared: Arc<Shared>,
    schema: Schema,
}

const TENANCIES: &[&str] = &["default", "dedicated"];

/// A VPC as AWS describes it, with its DNS settings and what AWS made along
/// with it.
struct Observed {
    vpc: Ec2Vpc,
    dns_support: bool,
    dns_hostnames: bool,
    main_route_table: Option<String>,
    default_security_group: Option<String>,
    default_network_acl: Option<String>,
}

impl Observed {
    fn value(&self, ec2: &Client, base: &Value) -> Value {
        let vpc = &self.vpc;
        let id = vpc.vpc_id().unwrap_or_default();
        let owner = vpc.owner_id().unwrap_or_default();
        with_all(
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
                ("enable_dns_support", Value::Bool(self.dns_support)),
                ("enable_dns_hostnames", Value::Bool(self.dns_hostnames)),
                ("arn", arn(ec2, owner, &format!("vpc/{id}"))),
                ("owner_id", s(owner)),
                (
                    "default_route_table_id",
                    text(self.main_route_table.as_deref()),
                ),
                (
                    "main_route_table_id",
                    text(self.main_route_table.as_deref()),
                ),
                (
                    "default_security_group_id",
                    text(self.default_security_group.as_deref()),
                ),
                (
                    "default_network_acl_id",
                    text(self.default_network_acl.as_deref()),
                ),
                ("dhcp_options_id", text(vpc.dhcp_options_id())),
                tags_all(vpc.tags()),
            ],
        )
    }
}

async fn dns_attribute(ec2: &Client, id: &str, name: VpcAttributeName) -> AwsResult<bool> {
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

    /// The VPCs with these ids that exist, by id, with what a value of them
    /// needs: three calls for the batch (the VPCs, then what AWS made with
    /// them, filtered by VPC id), and two per VPC for its DNS settings, which
    /// AWS answers one attribute of one VPC at a time.
    async fn describe_many(ec2: &Client, ids: Vec<String>) -> AwsResult<HashMap<String, Observed>> {
        let vpcs: HashMap<String, Ec2Vpc> = describe_by_ids!(
            ec2.describe_vpcs(),
            "vpc-id",
            ids,
            vpcs,
            vpc_id,
            "DescribeVpcs"
        )?;
        if vpcs.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<String> = vpcs.keys().cloned().collect();
        let by_vpcs = || ids_filter("vpc-id", found.clone());
        let mut main_rt: HashMap<String, String> = HashMap::new();
        let mut tables = ec2
            .describe_route_tables()
            .filters(by_vpcs())
            .filters(ids_filter("association.main", vec!["true".into()]))
            .into_paginator()
            .send();
        while let Some(page) = tables.next().await {
            for t in page.map_err(sdk("DescribeRouteTables"))?.route_tables() {
                if let (Some(vpc), Some(id)) = (t.vpc_id(), t.route_table_id())
                    && t.associations().iter().any(|a| a.main() == Some(true))
                {
                    main_rt.insert(vpc.to_owned(), id.to_owned());
                }
            }
        }
        let mut default_sg: HashMap<String, String> = HashMap::new();
        let mut groups = ec2
            .describe_security_groups()
            .filters(by_vpcs())
            .filters(ids_filter("group-name", vec!["default".into()]))
            .into_paginator()
            .send();
        while let Some(page) = groups.next().await {
            for g in page
                .map_err(sdk("DescribeSecurityGroups"))?
                .security_groups()
            {
                if let (Some(vpc), Some(id), Some("default")) =
                    (g.vpc_id(), g.group_id(), g.group_name())
                {
                    default_sg.insert(vpc.to_owned(), id.to_owned());
                }
            }
        }
        let mut default_acl: HashMap<String, String> = HashMap::new();
        let mut acls = ec2
            .describe_network_acls()
            .filters(by_vpcs())
            .filters(ids_filter("default", vec!["true".into()]))
            .into_paginator()
            .send();
        while let Some(page) = acls.next().await {
            for a in page.map_err(sdk("DescribeNetworkAcls"))?.network_acls() {
                if let (Some(vpc), Some(id), Some(true)) =
                    (a.vpc_id(), a.network_acl_id(), a.is_default())
                {
                    default_acl.insert(vpc.to_owned(), id.to_owned());
                }
            }
        }
        let mut out = HashMap::with_capacity(vpcs.len());
        for (id, vpc) in vpcs {
            let observed = Observed {
                dns_support: dns_attribute(ec2, &id, VpcAttributeName::EnableDnsSupport).await?,
                dns_hostnames: dns_attribute(ec2, &id, VpcAttributeName::EnableDnsHostnames)
                    .await?,
                main_route_table: main_rt.remove(&id),
                default_security_group: default_sg.remove(&id),
                default_network_acl: default_acl.remove(&id),
                vpc,
            };
            out.insert(id, observed);
        }
        Ok(out)
    }

    /// The VPC as a value, with what AWS made along with it; `None` when gone.
    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(Self::describe_many(&ec2, vec![id.to_owned()])
            .await?
            .get(id)
            .map(|o| o.value(&ec2, base)))
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

    fn read_batch_size(&self) -> usize {
        READ_BATCH
    }

    async fn read_many(&self, priors: &[Value]) -> Vec<ProviderResult<Option<Value>>> {
        let client = self.shared.ec2().await;
        let ec2 = &client;
        read_by_ids(
            priors,
            |ids| Self::describe_many(ec2, ids),
            |prior, o| o.value(ec2, prior),
        )
        .await
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
