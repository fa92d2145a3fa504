//! `data "aws_ecs_cluster"`: an active ECS cluster by `cluster_name` (a name
//! or ARN). Attributes as in Terraform: `arn` (also the `id`), `status`,
//! `pending_tasks_count`, `running_tasks_count`,
//! `registered_container_instances_count`, `setting` (name/value pairs such
//! as containerInsights) and `tags`. A deleted cluster, which ECS keeps
//! listing as INACTIVE for a while, is not found.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecs::types::ClusterField;
use dumcel_engine::provider::{DataSource, ProviderError, ProviderResult};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, os, req_str, s, string_map, with_all};
use crate::config::Shared;
use crate::error::sdk;

pub struct EcsClusterData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl EcsClusterData {
    pub fn new(shared: Arc<Shared>) -> EcsClusterData {
        EcsClusterData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("cluster_name", Attribute::required())
                .attr("arn", Attribute::computed())
                .attr("status", Attribute::computed())
                .attr("pending_tasks_count", Attribute::computed())
                .attr("running_tasks_count", Attribute::computed())
                .attr(
                    "registered_container_instances_count",
                    Attribute::computed(),
                )
                .attr("setting", Attribute::computed())
                .attr("tags", Attribute::optional_computed()),
        }
    }
}

#[async_trait]
impl DataSource for EcsClusterData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let name = req_str(config, "cluster_name")?;
        let out = self
            .shared
            .ecs()
            .await
            .describe_clusters()
            .clusters(name)
            .include(ClusterField::Tags)
            .include(ClusterField::Settings)
            .send()
            .await
            .map_err(sdk("DescribeClusters"))?;
        let c = out
            .clusters()
            .iter()
            .find(|c| c.status() != Some("INACTIVE"))
            .ok_or_else(|| {
                ProviderError::new(format!(
                    "ClusterNotFoundException: no active ECS cluster {name:?}; check the name and \
                     region (a data source does not create it: apply the stack that does first)"
                ))
            })?;
        let arn = c.cluster_arn().unwrap_or_default();
        let settings: Vec<Value> = c
            .settings()
            .iter()
            .map(|st| {
                obj([
                    ("name", os(st.name().map(|x| x.as_str()))),
                    ("value", os(st.value())),
                ])
            })
            .collect();
        let tags = c
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())));
        Ok(with_all(
            config,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("status", os(c.status())),
                ("pending_tasks_count", n(c.pending_tasks_count())),
                ("running_tasks_count", n(c.running_tasks_count())),
                (
                    "registered_container_instances_count",
                    n(c.registered_container_instances_count()),
                ),
                ("setting", Value::List(settings)),
                ("tags", string_map(tags)),
            ],
        ))
    }
}
