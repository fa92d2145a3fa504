//! `aws_nat_gateway`: a NAT gateway in a subnet, public (with an EIP's
//! `allocation_id`) or private. Everything but tags replaces it. Create waits
//! until it is `available` (`failed` is an error with AWS's reason, and the
//! gateway is recorded tainted); destroy waits until it is `deleted`. One in
//! state `deleted` reads as gone. A public gateway is found by its subnet and
//! EIP when a create was cut off before its answer was recorded.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    ConnectivityType, Filter, NatGateway as Nat, NatGatewayAddress, NatGatewayState,
    ResourceType as Ec2ResourceType,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{found, gone, imported_tags, retag, tag_spec, tags_all, text};
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct NatGateway {
    shared: Arc<Shared>,
    schema: Schema,
}

const TYPES: &[&str] = &["public", "private"];

/// The gateway's primary address (the first when none says so).
fn primary(n: &Nat) -> Option<&NatGatewayAddress> {
    let addrs = n.nat_gateway_addresses();
    addrs
        .iter()
        .find(|a| a.is_primary() == Some(true))
        .or_else(|| addrs.first())
}

fn is_gone(n: &Nat) -> bool {
    matches!(
        n.state(),
        Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
    )
}

impl NatGateway {
    pub fn new(shared: Arc<Shared>) -> NatGateway {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("allocation_id", Attribute::optional().force_new())
            .attr("subnet_id", Attribute::required().force_new())
            .attr(
                "connectivity_type",
                Attribute::optional()
                    .force_new()
                    .describe("public (the default) or private"),
            )
            .attr("private_ip", Attribute::optional_computed().force_new())
            .attr("association_id", Attribute::computed())
            .attr("network_interface_id", Attribute::computed())
            .attr("public_ip", Attribute::computed());
        NatGateway {
            shared,
            schema: tags::add(schema),
        }
    }

    /// The gateway, whatever its state; `None` when AWS no longer knows it.
    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<Nat>> {
        let out = found(
            ec2.describe_nat_gateways()
                .nat_gateway_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeNatGateways")),
        )?;
        Ok(out.and_then(|o| {
            o.nat_gateways()
                .iter()
                .find(|n| n.nat_gateway_id() == Some(id))
                .cloned()
        }))
    }

    fn value(base: &Value, n: &Nat) -> Value {
        let addr = primary(n);
        let ct = n
            .connectivity_type()
            .map(|c| c.as_str())
            .unwrap_or("public");
        // A private gateway has no EIP: keep null rather than AWS's absence.
        let allocation = addr.and_then(|a| a.allocation_id());
        with_all(
            base,
            [
                ("id", s(n.nat_gateway_id().unwrap_or_default())),
                ("allocation_id", text(allocation)),
                ("subnet_id", text(n.subnet_id())),
                ("connectivity_type", s(ct)),
                ("private_ip", text(addr.and_then(|a| a.private_ip()))),
                (
                    "association_id",
                    text(addr.and_then(|a| a.association_id())),
                ),
                (
                    "network_interface_id",
                    text(addr.and_then(|a| a.network_interface_id())),
                ),
                ("public_ip", text(addr.and_then(|a| a.public_ip()))),
                tags_all(n.tags()),
            ],
        )
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(self
            .describe(&ec2, id)
            .await?
            .filter(|n| !is_gone(n))
            .map(|n| Self::value(base, &n)))
    }

    /// Waits while the gateway is `pending`; `failed` is an error with AWS's
    /// reason.
    async fn wait_available(&self, ec2: &Client, id: &str) -> AwsResult<Nat> {
        wait::until(
            &format!("NAT gateway {id} to be available"),
            wait::limit(600),
            Duration::from_secs(5),
            || {
                let ec2 = ec2.clone();
                async move {
                    let Some(n) = self.describe(&ec2, id).await? else {
                        // Just made: not visible yet.
                        return Ok(None);
                    };
                    match n.state() {
                        Some(NatGatewayState::Available) | None => Ok(Some(n)),
                        Some(NatGatewayState::Failed) => Err(AwsError::Service {
                            operation: "CreateNatGateway",
                            code: n.failure_code().unwrap_or("NatGatewayFailed").to_owned(),
                            message: n
                                .failure_message()
                                .unwrap_or("the NAT gateway failed")
                                .to_owned(),
                        }),
                        Some(NatGatewayState::Deleted | NatGatewayState::Deleting) => {
                            Err(AwsError::unexpected(
                                "CreateNatGateway",
                                format!("NAT gateway {id} is being deleted"),
                            ))
                        }
                        Some(_) => Ok(None),
                    }
                }
            },
        )
        .await
    }
}

#[async_trait]
impl ResourceType for NatGateway {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match opt_str(config, "connectivity_type") {
            Some(t) if !TYPES.contains(&t) => vec![(
                "connectivity_type".into(),
                format!("must be one of {}, got {t:?}", TYPES.join(", ")),
            )],
            _ => Vec::new(),
        }
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "connectivity_type", s("public"));
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let subnet = req_str(planned, "subnet_id")?;
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = ec2
            .create_nat_gateway()
            .subnet_id(subnet)
            .set_allocation_id(opt_str(planned, "allocation_id").map(str::to_owned))
            .connectivity_type(ConnectivityType::from(
                opt_str(planned, "connectivity_type").unwrap_or("public"),
            ))
            .set_private_ip_address(opt_str(planned, "private_ip").map(str::to_owned))
            .set_tag_specifications(tag_spec(Ec2ResourceType::Natgateway, all).map(|t| vec![t]))
            .send()
            .await
            .map_err(sdk("CreateNatGateway"))?;
        let id = out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .ok_or_else(|| {
                AwsError::unexpected("CreateNatGateway", "no NAT gateway id in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&id))]);
        match self.wait_available(&ec2, &id).await {
            Ok(n) => Ok(Self::value(planned, &n)),
            // It exists (or did): record it tainted so it is replaced.
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let subnet = req_str(planned, "subnet_id")?;
        let Some(allocation) = opt_str(planned, "allocation_id") else {
            return Err(ProviderError::new(
                "a private NAT gateway cannot be told from others in its subnet; check whether it exists, then `dumcel import` it or run `dumcel state rm` on the address",
            ));
        };
        let ec2 = self.shared.ec2().await;
        let out = ec2
            .describe_nat_gateways()
            .filter(Filter::builder().name("subnet-id").values(subnet).build())
            .send()
            .await
            .map_err(sdk("DescribeNatGateways"))?;
        let Some(n) = out
            .nat_gateways()
            .iter()
            .find(|n| {
                !is_gone(n)
                    && n.subnet_id() == Some(subnet)
                    && n.nat_gateway_addresses()
                        .iter()
                        .any(|a| a.allocation_id() == Some(allocation))
            })
            .cloned()
        else {
            return Ok(None);
        };
        let id = n.nat_gateway_id().unwrap_or_default().to_owned();
        let n = self.wait_available(&ec2, &id).await?;
        Ok(Some(Self::value(planned, &n)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        retag(&self.shared.ec2().await, id, prior, planned).await?;
        self.observe(planned, id).await?.ok_or_else(|| {
            ProviderError::new(format!("NAT gateway {id} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        match ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map_err(sdk("DeleteNatGateway"))
        {
            Ok(_) => {}
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        wait::until(
            &format!("NAT gateway {id} to be deleted"),
            wait::limit(1800),
            Duration::from_secs(5),
            || {
                let ec2 = ec2.clone();
                async move {
                    let n = self.describe(&ec2, id).await?;
                    Ok(
                        n.is_none_or(|n| n.state() == Some(&NatGatewayState::Deleted))
                            .then_some(()),
                    )
                }
            },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let n = self
            .describe(&ec2, id)
            .await?
            .filter(|n| !is_gone(n))
            .ok_or_else(|| {
                ProviderError::new(format!(
                    "NatGatewayNotFound: no NAT gateway {id:?} to import"
                ))
            })?;
        Ok(obj([
            ("id", s(id)),
            imported_tags(&self.shared.default_tags(), n.tags()),
        ]))
    }
}
