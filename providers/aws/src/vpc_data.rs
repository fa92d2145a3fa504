//! `data "aws_vpc"`: a VPC by `id`, or the region's default one (`default = true`).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use dumcel_engine::provider::{DataSource, ProviderError, ProviderResult};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{opt_bool, opt_str, s, with_all};
use crate::config::Shared;
use crate::error::sdk;

pub struct VpcData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl VpcData {
    pub fn new(shared: Arc<Shared>) -> VpcData {
        VpcData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::optional_computed())
                .attr("default", Attribute::optional_computed())
                .attr("cidr_block", Attribute::computed())
                .attr("arn", Attribute::computed()),
        }
    }
}

#[async_trait]
impl DataSource for VpcData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let mut req = self.shared.ec2().await.describe_vpcs();
        if let Some(id) = opt_str(config, "id") {
            req = req.vpc_ids(id);
        }
        if let Some(default) = opt_bool(config, "default") {
            req = req.filters(
                Filter::builder()
                    .name("isDefault")
                    .values(default.to_string())
                    .build(),
            );
        }
        let out = req.send().await.map_err(sdk("DescribeVpcs"))?;
        let vpcs = out.vpcs();
        let vpc = match vpcs {
            [one] => one,
            [] => return Err(ProviderError::new("no VPC matches the given arguments")),
            many => {
                return Err(ProviderError::new(format!(
                    "{} VPCs match the given arguments; narrow them with id or default",
                    many.len()
                )));
            }
        };
        let id = vpc.vpc_id().unwrap_or_default();
        Ok(with_all(
            config,
            [
                ("id", s(id)),
                ("default", Value::Bool(vpc.is_default().unwrap_or(false))),
                ("cidr_block", s(vpc.cidr_block().unwrap_or_default())),
                (
                    "arn",
                    s(format!(
                        "arn:aws:ec2:{}:{}:vpc/{id}",
                        self.shared.settings().region.unwrap_or_default(),
                        vpc.owner_id().unwrap_or_default()
                    )),
                ),
            ],
        ))
    }
}
