//! `aws_internet_gateway`: an internet gateway, attached to `vpc_id` when it
//! is set. A change of `vpc_id` detaches it and attaches it to the new VPC in
//! place; tags change in place. Destroy detaches it first, retrying while the
//! VPC still has public addresses mapped (an EIP or a NAT gateway being
//! released), as AWS refuses until they are gone.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttachmentStatus, InternetGateway as Igw, ResourceType as Ec2ResourceType,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{arn, found, imported_tags, retag, retry_while, tag_spec, tags_all, text};
use crate::ec2_batch::{READ_BATCH, describe_by_ids, read_by_ids};
use crate::error::{AwsError, AwsResult, sdk};
use crate::tags;

pub struct InternetGateway {
    shared: Arc<Shared>,
    schema: Schema,
}

/// The VPC an internet gateway is attached to (or attaching to).
fn attached_vpc(g: &Igw) -> Option<&str> {
    g.attachments()
        .iter()
        .find(|a| {
            !matches!(
                a.state(),
                Some(AttachmentStatus::Detached | AttachmentStatus::Detaching)
            )
        })
        .and_then(|a| a.vpc_id())
        .filter(|v| !v.is_empty())
}

impl InternetGateway {
    pub fn new(shared: Arc<Shared>) -> InternetGateway {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("vpc_id", Attribute::optional())
            .attr("arn", Attribute::computed())
            .attr("owner_id", Attribute::computed());
        InternetGateway {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<Igw>> {
        let out = found(
            ec2.describe_internet_gateways()
                .internet_gateway_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeInternetGateways")),
        )?;
        Ok(out.and_then(|o| {
            o.internet_gateways()
                .iter()
                .find(|g| g.internet_gateway_id() == Some(id))
                .cloned()
        }))
    }

    fn value(ec2: &Client, base: &Value, g: &Igw) -> Value {
        let id = g.internet_gateway_id().unwrap_or_default();
        let owner = g.owner_id().unwrap_or_default();
        with_all(
            base,
            [
                ("id", s(id)),
                ("vpc_id", text(attached_vpc(g))),
                ("arn", arn(ec2, owner, &format!("internet-gateway/{id}"))),
                ("owner_id", s(owner)),
                tags_all(g.tags()),
            ],
        )
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(self
            .describe(&ec2, id)
            .await?
            .map(|g| Self::value(&ec2, base, &g)))
    }

    async fn attach(&self, ec2: &Client, id: &str, vpc: &str) -> AwsResult<()> {
        // A VPC just made may not be visible to the attach call yet.
        retry_while(
            &format!("VPC {vpc} to accept internet gateway {id}"),
            120,
            &["InvalidVpcID.NotFound", "InvalidInternetGatewayID.NotFound"],
            || async move {
                ec2.attach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(sdk("AttachInternetGateway"))
            },
        )
        .await?;
        Ok(())
    }

    /// Detaches from `vpc`; already detached (or the gateway gone) is fine.
    /// AWS answers `DependencyViolation` while public addresses are still
    /// mapped in the VPC: retried, as Terraform does, for up to 20 minutes.
    async fn detach(&self, ec2: &Client, id: &str, vpc: &str) -> AwsResult<()> {
        retry_while(
            &format!("internet gateway {id} to detach from {vpc}"),
            1200,
            &[],
            || async move {
                match ec2
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(sdk("DetachInternetGateway"))
                {
                    Ok(_) => Ok(()),
                    Err(e) if crate::ec2::gone(&e) || e.code() == Some("Gateway.NotAttached") => {
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            },
        )
        .await
    }
}

#[async_trait]
impl ResourceType for InternetGateway {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
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
                    ec2.describe_internet_gateways(),
                    "internet-gateway-id",
                    ids,
                    internet_gateways,
                    internet_gateway_id,
                    "DescribeInternetGateways"
                )
            },
            |prior, g| Self::value(ec2, prior, g),
        )
        .await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = ec2
            .create_internet_gateway()
            .set_tag_specifications(
                tag_spec(Ec2ResourceType::InternetGateway, all).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(sdk("CreateInternetGateway"))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| {
                AwsError::unexpected("CreateInternetGateway", "no gateway id in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&id)), ("vpc_id", Value::Null)]);
        let finish = async {
            if let Some(vpc) = opt_str(planned, "vpc_id") {
                self.attach(&ec2, &id, vpc).await?;
            }
            self.observe(planned, &id).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("internet gateway {id} vanished after it was created"),
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
        let ec2 = self.shared.ec2().await;
        let had = opt_str(prior, "vpc_id");
        let want = opt_str(planned, "vpc_id");
        if had != want {
            if let Some(old) = had {
                self.detach(&ec2, id, old).await?;
            }
            if let Some(new) = want {
                self.attach(&ec2, id, new).await?;
            }
        }
        retag(&ec2, id, prior, planned).await?;
        self.observe(planned, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "internet gateway {id} vanished while it was updated"
            ))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        // Detach from whatever VPC AWS says it is attached to, not only the
        // recorded one.
        let Some(g) = self.describe(&ec2, id).await? else {
            return Ok(());
        };
        if let Some(vpc) = attached_vpc(&g) {
            self.detach(&ec2, id, vpc).await?;
        }
        retry_while(
            &format!("internet gateway {id} to be released"),
            600,
            &[],
            || {
                let ec2 = ec2.clone();
                async move {
                    found(
                        ec2.delete_internet_gateway()
                            .internet_gateway_id(id)
                            .send()
                            .await
                            .map_err(sdk("DeleteInternetGateway")),
                    )
                }
            },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let g = self.describe(&ec2, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "InvalidInternetGatewayID.NotFound: no internet gateway {id:?} to import"
            ))
        })?;
        Ok(obj([
            ("id", s(id)),
            imported_tags(&self.shared.default_tags(), g.tags()),
        ]))
    }
}
