//! `aws_ecr_repository`: an image repository. Tag mutability and scan-on-push
//! change in place; the name replaces it.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{opt_bool, opt_str, req_str, s, string_map, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::tags;

pub struct EcrRepository {
    shared: Arc<Shared>,
    schema: Schema,
}

impl EcrRepository {
    pub fn new(shared: Arc<Shared>) -> EcrRepository {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("image_tag_mutability", Attribute::optional_computed())
            .attr("scan_on_push", Attribute::optional_computed())
            .attr(
                "force_delete",
                Attribute::optional().describe("delete even if it holds images"),
            )
            .attr("arn", Attribute::computed())
            .attr("registry_id", Attribute::computed())
            .attr("repository_url", Attribute::computed());
        EcrRepository {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, name: &str) -> AwsResult<Option<Repository>> {
        let out = self
            .shared
            .ecr()
            .await
            .describe_repositories()
            .repository_names(name)
            .send()
            .await;
        match out.map_err(sdk("DescribeRepositories")) {
            Ok(o) => Ok(o.repositories().first().cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn value(base: &Value, r: &Repository) -> Value {
        let name = r.repository_name().unwrap_or_default();
        with_all(
            base,
            [
                ("id", s(name)),
                ("name", s(name)),
                (
                    "image_tag_mutability",
                    s(r.image_tag_mutability()
                        .map(|m| m.as_str())
                        .unwrap_or("MUTABLE")),
                ),
                (
                    "scan_on_push",
                    Value::Bool(
                        r.image_scanning_configuration()
                            .is_some_and(|c| c.scan_on_push()),
                    ),
                ),
                ("arn", s(r.repository_arn().unwrap_or_default())),
                ("registry_id", s(r.registry_id().unwrap_or_default())),
                ("repository_url", s(r.repository_uri().unwrap_or_default())),
            ],
        )
    }

    async fn set_mutable_settings(&self, name: &str, planned: &Value) -> AwsResult<()> {
        let ecr = self.shared.ecr().await;
        if let Some(m) = opt_str(planned, "image_tag_mutability") {
            ecr.put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(m))
                .send()
                .await
                .map_err(sdk("PutImageTagMutability"))?;
        }
        if let Some(scan) = opt_bool(planned, "scan_on_push") {
            ecr.put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(scan)
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("PutImageScanningConfiguration"))?;
        }
        Ok(())
    }

    /// The repository and its tags (`tags_all`, as AWS holds them); `None`
    /// when it is gone.
    async fn read_name(&self, base: &Value, name: &str) -> ProviderResult<Option<Value>> {
        let Some(repo) = self.describe(name).await? else {
            return Ok(None);
        };
        let v = Self::value(base, &repo);
        let Some(all) = self
            .read_tags(repo.repository_arn().unwrap_or_default())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(with_all(&v, [("tags_all", string_map(all))])))
    }

    /// The tags AWS holds for the repository; `None` when it is gone.
    async fn read_tags(&self, arn: &str) -> AwsResult<Option<BTreeMap<String, String>>> {
        let out = self
            .shared
            .ecr()
            .await
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"));
        match out {
            Ok(o) => Ok(Some(tags::from_pairs(
                o.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
            ))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn ecr_tags(all: BTreeMap<String, String>) -> AwsResult<Vec<Tag>> {
    all.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::invalid(e.to_string()))
        })
        .collect()
}

#[async_trait]
impl ResourceType for EcrRepository {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match opt_str(config, "image_tag_mutability") {
            Some("MUTABLE" | "IMMUTABLE") | None => Vec::new(),
            Some(other) => vec![(
                "image_tag_mutability".into(),
                format!("must be MUTABLE or IMMUTABLE, got {other:?}"),
            )],
        }
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(prior, "name")?;
        self.read_name(prior, name).await
    }

    /// Repository names are unique in a registry, and `read` looks up by
    /// name: the repository a lost create made is the one it finds.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        self.read(planned).await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let mut req = self
            .shared
            .ecr()
            .await
            .create_repository()
            .repository_name(name)
            .set_tags(Some(ecr_tags(tags::merged(
                &self.shared.default_tags(),
                planned,
            ))?));
        if let Some(m) = opt_str(planned, "image_tag_mutability") {
            req = req.image_tag_mutability(ImageTagMutability::from(m));
        }
        if let Some(scan) = opt_bool(planned, "scan_on_push") {
            req = req.image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(scan)
                    .build(),
            );
        }
        let out = req.send().await.map_err(sdk("CreateRepository"))?;
        let repo = out.repository().ok_or_else(|| {
            AwsError::unexpected("CreateRepository", "no repository in the answer")
        })?;
        // tags_all as planned: what was just sent.
        Ok(Self::value(planned, repo))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        self.set_mutable_settings(name, planned).await?;
        let arn = req_str(prior, "arn")?;
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        let ecr = self.shared.ecr().await;
        if !set.is_empty() {
            ecr.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(ecr_tags(set)?))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        if !removed.is_empty() {
            ecr.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        self.read_name(planned, name).await?.ok_or_else(|| {
            ProviderError::new(format!("repository {name} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let name = req_str(prior, "name")?;
        let out = self
            .shared
            .ecr()
            .await
            .delete_repository()
            .repository_name(name)
            .force(opt_bool(prior, "force_delete").unwrap_or(false))
            .send()
            .await
            .map_err(sdk("DeleteRepository"));
        deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = crate::attrs::obj([("force_delete", Value::Null), ("tags", Value::Null)]);
        let v = self.read_name(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "RepositoryNotFoundException: no repository named {id:?} to import"
            ))
        })?;
        let all = tags::recorded(&v);
        Ok(with_all(
            &v,
            [("tags", tags::imported(&self.shared.default_tags(), &all))],
        ))
    }
}
