//! `aws_subnet`: a subnet of a VPC. The VPC, the CIDR block and the
//! availability zone replace it; `map_public_ip_on_launch` and tags change in
//! place. A subnet's CIDR block is unique in its VPC, so a create cut off
//! before its answer was recorded is found by the two. Destroy retries while
//! network interfaces (a NAT gateway's, a load balancer's) are being released.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, ResourceType as Ec2ResourceType, Subnet as Ec2Subnet,
    SubnetState,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_bool, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{
    arn, check_ipv4_cidr, found, imported_tags, retag, retry_while, tag_spec, tags_all, text,
};
use crate::ec2_batch::{READ_BATCH, describe_by_ids, read_by_ids};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct Subnet {
    shared: Arc<Shared>,
    schema: Schema,
}

impl Subnet {
    pub fn new(shared: Arc<Shared>) -> Subnet {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("vpc_id", Attribute::required().force_new())
            .attr("cidr_block", Attribute::required().force_new())
            .attr(
                "availability_zone",
                Attribute::optional_computed().force_new(),
            )
            .attr(
                "availability_zone_id",
                Attribute::optional_computed().force_new(),
            )
            .attr(
                "map_public_ip_on_launch",
                Attribute::optional().describe("default false"),
            )
            .attr("arn", Attribute::computed())
            .attr("owner_id", Attribute::computed());
        Subnet {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<Ec2Subnet>> {
        let out = found(
            ec2.describe_subnets()
                .subnet_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeSubnets")),
        )?;
        Ok(out.and_then(|o| {
            o.subnets()
                .iter()
                .find(|x| x.subnet_id() == Some(id))
                .cloned()
        }))
    }

    fn value(ec2: &Client, base: &Value, sn: &Ec2Subnet) -> Value {
        let id = sn.subnet_id().unwrap_or_default();
        let owner = sn.owner_id().unwrap_or_default();
        let arn = match sn.subnet_arn() {
            Some(a) if !a.is_empty() => s(a),
            _ => arn(ec2, owner, &format!("subnet/{id}")),
        };
        with_all(
            base,
            [
                ("id", s(id)),
                ("vpc_id", text(sn.vpc_id())),
                ("cidr_block", text(sn.cidr_block())),
                ("availability_zone", text(sn.availability_zone())),
                ("availability_zone_id", text(sn.availability_zone_id())),
                (
                    "map_public_ip_on_launch",
                    Value::Bool(sn.map_public_ip_on_launch().unwrap_or(false)),
                ),
                ("arn", arn),
                ("owner_id", s(owner)),
                tags_all(sn.tags()),
            ],
        )
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(self
            .describe(&ec2, id)
            .await?
            .map(|sn| Self::value(&ec2, base, &sn)))
    }

    async fn set_public_ip(&self, id: &str, on: bool) -> AwsResult<()> {
        self.shared
            .ec2()
            .await
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
            .send()
            .await
            .map_err(sdk("ModifySubnetAttribute"))?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType for Subnet {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        check_ipv4_cidr(config, "cidr_block").into_iter().collect()
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "map_public_ip_on_launch", Value::Bool(false));
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
            |ids| async move {
                describe_by_ids!(
                    ec2.describe_subnets(),
                    "subnet-id",
                    ids,
                    subnets,
                    subnet_id,
                    "DescribeSubnets"
                )
            },
            |prior, sn| Self::value(ec2, prior, sn),
        )
        .await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let vpc = req_str(planned, "vpc_id")?;
        let cidr = req_str(planned, "cidr_block")?;
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .set_availability_zone(opt_str(planned, "availability_zone").map(str::to_owned))
            .set_availability_zone_id(opt_str(planned, "availability_zone_id").map(str::to_owned))
            .set_tag_specifications(tag_spec(Ec2ResourceType::Subnet, all).map(|t| vec![t]))
            .send()
            .await
            .map_err(sdk("CreateSubnet"))?;
        let id = out
            .subnet()
            .and_then(|x| x.subnet_id())
            .ok_or_else(|| AwsError::unexpected("CreateSubnet", "no subnet id in the answer"))?
            .to_owned();
        let made = with_all(planned, [("id", s(&id))]);
        let finish = async {
            wait::until(
                &format!("subnet {id} to be available"),
                wait::limit(600),
                Duration::from_secs(2),
                || {
                    let ec2 = ec2.clone();
                    let id = id.clone();
                    async move {
                        let sn = self.describe(&ec2, &id).await?;
                        Ok(sn
                            .filter(|x| x.state().is_none_or(|st| *st == SubnetState::Available))
                            .map(|_| ()))
                    }
                },
            )
            .await?;
            if opt_bool(planned, "map_public_ip_on_launch") == Some(true) {
                self.set_public_ip(&id, true).await?;
            }
            self.observe(planned, &id).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("subnet {id} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    /// A CIDR block is unique in its VPC.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let vpc = req_str(planned, "vpc_id")?;
        let cidr = req_str(planned, "cidr_block")?;
        let ec2 = self.shared.ec2().await;
        let out = ec2
            .describe_subnets()
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .filters(Filter::builder().name("cidr-block").values(cidr).build())
            .send()
            .await
            .map_err(sdk("DescribeSubnets"))?;
        Ok(out
            .subnets()
            .iter()
            .find(|x| x.vpc_id() == Some(vpc) && x.cidr_block() == Some(cidr))
            .map(|sn| Self::value(&ec2, planned, sn)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let want = opt_bool(planned, "map_public_ip_on_launch").unwrap_or(false);
        if opt_bool(prior, "map_public_ip_on_launch").unwrap_or(false) != want {
            self.set_public_ip(id, want).await?;
        }
        retag(&self.shared.ec2().await, id, prior, planned).await?;
        self.observe(planned, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("subnet {id} vanished while it was updated")))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        let deleted = retry_while(
            &format!("subnet {id} to be released by its network interfaces"),
            1200,
            &[],
            || {
                let ec2 = ec2.clone();
                async move {
                    found(
                        ec2.delete_subnet()
                            .subnet_id(id)
                            .send()
                            .await
                            .map_err(sdk("DeleteSubnet")),
                    )
                }
            },
        )
        .await?;
        if deleted.is_some() {
            wait::until(
                &format!("subnet {id} to be deleted"),
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
        let sn = self.describe(&ec2, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "InvalidSubnetID.NotFound: no subnet {id:?} to import"
            ))
        })?;
        Ok(obj([
            ("id", s(id)),
            imported_tags(&self.shared.default_tags(), sn.tags()),
        ]))
    }
}
