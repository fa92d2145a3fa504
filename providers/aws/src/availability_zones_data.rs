//! `data "aws_availability_zones"`: the region's availability zones, as
//! Terraform lists them: `state` (`available`, `information`, `impaired`,
//! `unavailable`), `all_availability_zones` (opt-in zones and Local Zones
//! too), `exclude_names`, `exclude_zone_ids` and `filter { name, values }`
//! blocks (EC2's filter names) narrow them. Gives `names`, `zone_ids` and
//! `group_names`, sorted by name; `id` is the region.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use dumcel_engine::provider::{DataSource, ProviderResult};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{blocks, opt_bool, opt_str, s, str_list, strings, with_all};
use crate::config::Shared;
use crate::ec2::region;
use crate::error::sdk;

pub struct AvailabilityZonesData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl AvailabilityZonesData {
    pub fn new(shared: Arc<Shared>) -> AvailabilityZonesData {
        AvailabilityZonesData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("state", Attribute::optional())
                .attr("all_availability_zones", Attribute::optional())
                .attr("exclude_names", Attribute::optional())
                .attr("exclude_zone_ids", Attribute::optional())
                .attr("names", Attribute::computed())
                .attr("zone_ids", Attribute::computed())
                .attr("group_names", Attribute::computed())
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
impl DataSource for AvailabilityZonesData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let ec2 = self.shared.ec2().await;
        let mut req = ec2
            .describe_availability_zones()
            .set_all_availability_zones(opt_bool(config, "all_availability_zones"));
        if let Some(state) = opt_str(config, "state") {
            req = req.filters(Filter::builder().name("state").values(state).build());
        }
        for f in blocks(config, "filter") {
            req = req.filters(
                Filter::builder()
                    .set_name(opt_str(f, "name").map(str::to_owned))
                    .set_values(Some(str_list(f, "values")))
                    .build(),
            );
        }
        let out = req.send().await.map_err(sdk("DescribeAvailabilityZones"))?;
        let exclude_names = str_list(config, "exclude_names");
        let exclude_ids = str_list(config, "exclude_zone_ids");
        let state = opt_str(config, "state");
        let mut zones: Vec<(String, String, String)> = out
            .availability_zones()
            .iter()
            // The filter is AWS's; the answer is checked all the same.
            .filter(|z| state.is_none_or(|st| z.state().is_some_and(|x| x.as_str() == st)))
            .filter_map(|z| {
                let name = z.zone_name()?.to_owned();
                let id = z.zone_id().unwrap_or_default().to_owned();
                let group = z.group_name().unwrap_or_default().to_owned();
                Some((name, id, group))
            })
            .filter(|(name, id, _)| !exclude_names.contains(name) && !exclude_ids.contains(id))
            .collect();
        zones.sort();
        let mut groups: Vec<String> = zones
            .iter()
            .map(|(_, _, g)| g.clone())
            .filter(|g| !g.is_empty())
            .collect();
        groups.sort();
        groups.dedup();
        Ok(with_all(
            config,
            [
                ("id", s(region(&ec2))),
                ("names", strings(zones.iter().map(|z| z.0.clone()))),
                ("zone_ids", strings(zones.iter().map(|z| z.1.clone()))),
                ("group_names", strings(groups)),
            ],
        ))
    }
}
