//! `aws_eip`: an Elastic IP address allocated for use in a VPC (`domain =
//! "vpc"`, the default). The domain, network border group and address pool
//! replace it; tags change in place. `id` is the allocation id. Associating it
//! with an instance or network interface is not supported here (a NAT
//! gateway takes it by `allocation_id`). Destroy retries while the address is
//! still in use (a NAT gateway being deleted in the same apply).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType as Ec2ResourceType};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::ec2::{
    found, gone, imported_tags, region, retag, retry_while, tag_spec, tags_all, text,
};
use crate::error::{AwsError, AwsResult, sdk};
use crate::tags;

pub struct Eip {
    shared: Arc<Shared>,
    schema: Schema,
}

const DOMAINS: &[&str] = &["vpc", "standard"];

/// EC2's host names for an address, as Terraform computes them.
fn dns(ip: Option<&str>, region: &str, public: bool) -> Value {
    let Some(ip) = ip.filter(|i| !i.is_empty()) else {
        return Value::Null;
    };
    let dashed = ip.replace('.', "-");
    s(match (public, region) {
        (true, "us-east-1") => format!("ec2-{dashed}.compute-1.amazonaws.com"),
        (true, r) => format!("ec2-{dashed}.{r}.compute.amazonaws.com"),
        (false, "us-east-1") => format!("ip-{dashed}.ec2.internal"),
        (false, r) => format!("ip-{dashed}.{r}.compute.internal"),
    })
}

impl Eip {
    pub fn new(shared: Arc<Shared>) -> Eip {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr(
                "domain",
                Attribute::optional()
                    .force_new()
                    .describe("vpc (the default) or standard"),
            )
            .attr(
                "network_border_group",
                Attribute::optional_computed().force_new(),
            )
            .attr(
                "public_ipv4_pool",
                Attribute::optional_computed().force_new(),
            )
            .attr("allocation_id", Attribute::computed())
            .attr("association_id", Attribute::computed())
            .attr("public_ip", Attribute::computed())
            .attr("public_dns", Attribute::computed())
            .attr("private_ip", Attribute::computed())
            .attr("private_dns", Attribute::computed())
            .attr("network_interface", Attribute::computed())
            .attr("instance", Attribute::computed());
        Eip {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, ec2: &Client, id: &str) -> AwsResult<Option<Address>> {
        let out = found(
            ec2.describe_addresses()
                .allocation_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeAddresses")),
        )?;
        Ok(out.and_then(|o| {
            o.addresses()
                .iter()
                .find(|a| a.allocation_id() == Some(id))
                .cloned()
        }))
    }

    fn value(ec2: &Client, base: &Value, a: &Address) -> Value {
        let id = a.allocation_id().unwrap_or_default();
        let region = region(ec2);
        with_all(
            base,
            [
                ("id", s(id)),
                ("allocation_id", s(id)),
                ("domain", s(a.domain().map(|d| d.as_str()).unwrap_or("vpc"))),
                ("network_border_group", text(a.network_border_group())),
                ("public_ipv4_pool", text(a.public_ipv4_pool())),
                ("association_id", text(a.association_id())),
                ("public_ip", text(a.public_ip())),
                ("public_dns", dns(a.public_ip(), &region, true)),
                ("private_ip", text(a.private_ip_address())),
                ("private_dns", dns(a.private_ip_address(), &region, false)),
                ("network_interface", text(a.network_interface_id())),
                ("instance", text(a.instance_id())),
                tags_all(a.tags()),
            ],
        )
    }

    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let ec2 = self.shared.ec2().await;
        Ok(self
            .describe(&ec2, id)
            .await?
            .map(|a| Self::value(&ec2, base, &a)))
    }
}

#[async_trait]
impl ResourceType for Eip {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match opt_str(config, "domain") {
            Some(d) if !DOMAINS.contains(&d) => vec![(
                "domain".into(),
                format!("must be one of {}, got {d:?}", DOMAINS.join(", ")),
            )],
            _ => Vec::new(),
        }
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "domain", s("vpc"));
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let out = ec2
            .allocate_address()
            .domain(DomainType::from(
                opt_str(planned, "domain").unwrap_or("vpc"),
            ))
            .set_network_border_group(opt_str(planned, "network_border_group").map(str::to_owned))
            .set_public_ipv4_pool(opt_str(planned, "public_ipv4_pool").map(str::to_owned))
            .set_tag_specifications(tag_spec(Ec2ResourceType::ElasticIp, all).map(|t| vec![t]))
            .send()
            .await
            .map_err(sdk("AllocateAddress"))?;
        let id = out
            .allocation_id()
            .filter(|i| !i.is_empty())
            .ok_or_else(|| {
                AwsError::unexpected("AllocateAddress", "no allocation id in the answer")
            })?
            .to_owned();
        let made = with_all(planned, [("id", s(&id)), ("allocation_id", s(&id))]);
        match self.observe(planned, &id).await {
            Ok(Some(v)) => Ok(v),
            // Just allocated and not visible yet: what the answer said will do.
            Ok(None) => Ok(with_all(
                &made,
                [
                    ("public_ip", text(out.public_ip())),
                    ("public_ipv4_pool", text(out.public_ipv4_pool())),
                    ("network_border_group", text(out.network_border_group())),
                ],
            )),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        retag(&self.shared.ec2().await, id, prior, planned).await?;
        self.observe(planned, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("EIP {id} vanished while it was updated")))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let ec2 = self.shared.ec2().await;
        let border = opt_str(prior, "network_border_group").map(str::to_owned);
        // AWS answers AuthFailure while a NAT gateway being deleted still
        // holds the address; Terraform waits it out too.
        let r = retry_while(
            &format!("EIP {id} to be released by what uses it"),
            180,
            &["AuthFailure", "InvalidIPAddress.InUse"],
            || {
                let ec2 = ec2.clone();
                let border = border.clone();
                async move {
                    ec2.release_address()
                        .allocation_id(id)
                        .set_network_border_group(border)
                        .send()
                        .await
                        .map_err(sdk("ReleaseAddress"))
                }
            },
        )
        .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let a = self.describe(&ec2, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "InvalidAllocationID.NotFound: no EIP with allocation id {id:?} to import"
            ))
        })?;
        Ok(obj([
            ("id", s(id)),
            imported_tags(&self.shared.default_tags(), a.tags()),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_as_terraform_computes_them() {
        assert_eq!(
            dns(Some("52.1.2.3"), "us-east-1", true),
            s("ec2-52-1-2-3.compute-1.amazonaws.com")
        );
        assert_eq!(
            dns(Some("10.0.1.5"), "eu-west-1", false),
            s("ip-10-0-1-5.eu-west-1.compute.internal")
        );
        assert_eq!(dns(Some(""), "eu-west-1", true), Value::Null);
    }
}
