//! `data "aws_subnets"`: the ids of the subnets of a VPC (`vpc_id`), further
//! narrowed by `filter { name, values }` blocks, as EC2 filters them.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use dumcel_engine::provider::{DataSource, ProviderResult};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{blocks, opt_str, s, str_list, strings, with_all};
use crate::config::Shared;
use crate::error::sdk;

pub struct SubnetsData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl SubnetsData {
    pub fn new(shared: Arc<Shared>) -> SubnetsData {
        SubnetsData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("vpc_id", Attribute::optional())
                .attr("ids", Attribute::computed())
                .block(
                    "filter",
                    NestedBlock {
                        schema: Schema::new()
                            .attr("name", Attribute::required())
                            .attr("values", Attribute::required()),
                        min_items: 0,
                        max_items: None,
                        force_new: false,
                    },
                ),
        }
    }
}

#[async_trait]
impl DataSource for SubnetsData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let mut req = self.shared.ec2().await.describe_subnets();
        if let Some(vpc) = opt_str(config, "vpc_id") {
            req = req.filters(Filter::builder().name("vpc-id").values(vpc).build());
        }
        for f in blocks(config, "filter") {
            req = req.filters(
                Filter::builder()
                    .set_name(opt_str(f, "name").map(str::to_owned))
                    .set_values(Some(str_list(f, "values")))
                    .build(),
            );
        }
        // Default VPCs have a handful of subnets: one page is enough, but
        // follow the token anyway so a larger VPC is not cut short.
        let mut ids = Vec::new();
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(sdk("DescribeSubnets"))?;
            ids.extend(
                page.subnets()
                    .iter()
                    .filter_map(|s| s.subnet_id().map(str::to_owned)),
            );
        }
        ids.sort();
        let id = opt_str(config, "vpc_id").unwrap_or("subnets").to_owned();
        Ok(with_all(config, [("id", s(id)), ("ids", strings(ids))]))
    }
}
