//! `aws_ecs_cluster`: a named ECS cluster. Its id is the ARN, as in Terraform;
//! import takes the name or the ARN.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecs::types::{Cluster, Tag};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, req_str, s, string_map, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::tags;

pub struct EcsCluster {
    shared: Arc<Shared>,
    schema: Schema,
}

pub(crate) fn ecs_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Applies the difference between recorded and planned `tags_all` to an ECS object.
pub(crate) async fn retag(
    shared: &Shared,
    arn: &str,
    prior: &Value,
    planned: &Value,
) -> AwsResult<()> {
    let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
    let ecs = shared.ecs().await;
    if !set.is_empty() {
        ecs.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(set)))
            .send()
            .await
            .map_err(sdk("TagResource"))?;
    }
    if !removed.is_empty() {
        ecs.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(sdk("UntagResource"))?;
    }
    Ok(())
}

/// The tags AWS holds for an ECS object (`aws:` ones left out).
pub(crate) async fn read_ecs_tags(
    shared: &Shared,
    arn: &str,
) -> AwsResult<BTreeMap<String, String>> {
    let out = shared
        .ecs()
        .await
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(sdk("ListTagsForResource"))?;
    Ok(tags::from_pairs(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

impl EcsCluster {
    pub fn new(shared: Arc<Shared>) -> EcsCluster {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("arn", Attribute::computed());
        EcsCluster {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, name_or_arn: &str) -> AwsResult<Option<Cluster>> {
        let out = self
            .shared
            .ecs()
            .await
            .describe_clusters()
            .clusters(name_or_arn)
            .send()
            .await
            .map_err(sdk("DescribeClusters"))?;
        // A deleted cluster lingers as INACTIVE for a while.
        Ok(out
            .clusters()
            .iter()
            .find(|c| c.status() != Some("INACTIVE"))
            .cloned())
    }

    /// The cluster and its tags (`tags_all`, as AWS holds them).
    async fn observe(&self, base: &Value, c: &Cluster) -> AwsResult<Value> {
        let v = Self::value(base, c);
        let all = read_ecs_tags(&self.shared, c.cluster_arn().unwrap_or_default()).await?;
        Ok(with_all(&v, [("tags_all", string_map(all))]))
    }

    fn value(base: &Value, c: &Cluster) -> Value {
        let arn = c.cluster_arn().unwrap_or_default();
        with_all(
            base,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("name", s(c.cluster_name().unwrap_or_default())),
            ],
        )
    }
}

#[async_trait]
impl ResourceType for EcsCluster {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(prior, "name")?;
        match self.describe(name).await? {
            Some(c) => Ok(Some(self.observe(prior, &c).await?)),
            None => Ok(None),
        }
    }

    /// By name, as `read` does; `describe` already treats an INACTIVE
    /// (deleted) cluster as gone, so a lost create of a name deleted
    /// earlier is not mistaken for it.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        self.read(planned).await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let mut req = self.shared.ecs().await.create_cluster().cluster_name(name);
        if !all.is_empty() {
            req = req.set_tags(Some(ecs_tags(all)));
        }
        let out = req.send().await.map_err(sdk("CreateCluster"))?;
        let c = out
            .cluster()
            .ok_or_else(|| AwsError::unexpected("CreateCluster", "no cluster in the answer"))?;
        Ok(Self::value(planned, c))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        retag(&self.shared, arn, prior, planned).await?;
        let all = read_ecs_tags(&self.shared, arn).await?;
        Ok(with_all(
            planned,
            [
                ("id", s(arn)),
                ("arn", s(arn)),
                ("tags_all", string_map(all)),
            ],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let name = req_str(prior, "name")?;
        deleted(
            self.shared
                .ecs()
                .await
                .delete_cluster()
                .cluster(name)
                .send()
                .await
                .map_err(sdk("DeleteCluster")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null)]);
        let c = self.describe(id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "ClusterNotFoundException: no cluster {id:?} to import"
            ))
        })?;
        let v = self.observe(&base, &c).await?;
        let all = tags::recorded(&v);
        Ok(with_all(
            &v,
            [("tags", tags::imported(&self.shared.default_tags(), &all))],
        ))
    }
}
