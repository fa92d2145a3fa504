//! `docker_registry_image`: a local image pushed to a registry under `name`,
//! with the provider's credentials for that registry (the same path a
//! pipeline takes to ECR). The pushed manifest's digest is an output; on
//! destroy the manifest is deleted unless `keep_remotely`.

use std::sync::Arc;

use async_trait::async_trait;
use bollard::query_parameters::{RemoveImageOptions, TagImageOptions};

use dumcel_engine::provider::{ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{bool_or, check_bool, check_string, check_string_map, opt_str, req_str, with};
use crate::client::Shared;
use crate::error::DockerError;
use crate::push::{push, remote_digest};
use crate::reference::Reference;
use crate::registry_api::delete_manifest;

pub struct DockerRegistryImage {
    shared: Arc<Shared>,
    schema: Schema,
}

impl DockerRegistryImage {
    pub fn new(shared: Arc<Shared>) -> DockerRegistryImage {
        DockerRegistryImage {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed().describe("name@digest."))
                .attr(
                    "name",
                    Attribute::required()
                        .force_new()
                        .describe("Where to push: registry/repository:tag."),
                )
                .attr(
                    "source_image",
                    Attribute::optional().force_new().describe(
                        "Local image (ID or name) to tag as `name` first; a new ID pushes again.",
                    ),
                )
                .attr(
                    "keep_remotely",
                    Attribute::optional()
                        .describe("Leave the pushed image in the registry on destroy."),
                )
                .attr("triggers", Attribute::optional().force_new())
                .attr(
                    "sha256_digest",
                    Attribute::computed().describe("Digest of the pushed manifest."),
                ),
        }
    }

    fn reference(name: &str) -> Result<Reference, DockerError> {
        Reference::parse(name)
            .ok_or_else(|| DockerError::Invalid(format!("{name:?} is not an image name to push")))
    }

    /// Removes the local tag `name` (made for a push); the image stays.
    async fn untag(&self, name: &str) {
        let Ok(docker) = self.shared.docker().await else {
            return;
        };
        if let Err(e) = docker
            .remove_image(name, None::<RemoveImageOptions>, None)
            .await
        {
            tracing::debug!(name, error = %e, "kept the local tag");
        }
    }
}

#[async_trait]
impl ResourceType for DockerRegistryImage {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        check_string(config, "name", &mut errors);
        check_string(config, "source_image", &mut errors);
        check_bool(config, "keep_remotely", &mut errors);
        check_string_map(config, "triggers", &mut errors);
        if let Some(name) = opt_str(config, "name")
            && Reference::parse(name).is_none()
        {
            errors.push((
                "name".into(),
                format!("{name:?} is not an image name such as \"127.0.0.1:5000/web:1\""),
            ));
        }
        errors
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let (Some(name), Some(digest)) = (opt_str(prior, "name"), opt_str(prior, "sha256_digest"))
        else {
            return Ok(None);
        };
        let reference = Self::reference(name)?;
        // Deleted, or the tag now names another manifest: ours is gone.
        match remote_digest(&self.shared, &reference, name).await? {
            Some(current) if current == digest => Ok(Some(prior.clone())),
            _ => Ok(None),
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let reference = Self::reference(name)?;
        let docker = self.shared.docker().await?;
        if let Some(source) = opt_str(planned, "source_image") {
            let options = TagImageOptions {
                repo: Some(reference.name()),
                tag: Some(reference.tag.clone()),
            };
            docker
                .tag_image(source, Some(options))
                .await
                .map_err(|e| DockerError::api(format!("tagging {source} as {name}"), e))?;
        }
        let digest = match push(&self.shared, &reference, name).await {
            Ok(d) => d,
            Err(e) => {
                if opt_str(planned, "source_image").is_some() {
                    // Nothing was made: take back the local tag made for the push.
                    self.untag(name).await;
                }
                return Err(e.into());
            }
        };
        Ok(with(
            planned,
            [
                (
                    "id",
                    Value::string(format!("{}@{digest}", reference.name())),
                ),
                ("sha256_digest", Value::string(digest)),
            ],
        ))
    }

    /// The manifest the registry holds under `name`, when it is the one this
    /// push would have made: the local image (`source_image`, else `name`)
    /// lists it among its repo digests, which Docker records on a push. A
    /// tag naming something else (an older push) is `None`, and the image is
    /// pushed again, which is harmless; recording the wrong digest is not.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let reference = Self::reference(name)?;
        let Some(digest) = remote_digest(&self.shared, &reference, name).await? else {
            return Ok(None);
        };
        let local = opt_str(planned, "source_image").unwrap_or(name);
        let docker = self.shared.docker().await?;
        let pushed = format!("{}@{digest}", reference.name());
        let ours = match docker.inspect_image(local).await {
            Ok(image) => image.repo_digests.unwrap_or_default().contains(&pushed),
            Err(e) if crate::error::status_of(&e) == Some(404) => false,
            Err(e) => return Err(DockerError::api(format!("inspecting image {local}"), e).into()),
        };
        Ok(ours.then(|| {
            with(
                planned,
                [
                    ("id", Value::string(pushed)),
                    ("sha256_digest", Value::string(digest)),
                ],
            )
        }))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Only keep_remotely changes in place.
        Ok(with(
            planned,
            [
                ("id", prior.get("id").cloned().unwrap_or_default()),
                (
                    "sha256_digest",
                    prior.get("sha256_digest").cloned().unwrap_or_default(),
                ),
            ],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let Some(name) = opt_str(prior, "name") else {
            return Ok(());
        };
        let reference = Self::reference(name)?;
        if !bool_or(prior, "keep_remotely", false)
            && let Some(digest) = opt_str(prior, "sha256_digest")
        {
            let auth = self.shared.auth_for(&reference.registry);
            delete_manifest(&reference, digest, auth.as_ref()).await?;
        }
        if opt_str(prior, "source_image").is_some() {
            // The local tag was made for the push; take it away again.
            self.untag(name).await;
        }
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        self.import_by_name(id).await
    }
}

impl DockerRegistryImage {
    /// An image already in a registry, by `name`; it is deleted from the
    /// registry on destroy unless the configuration says `keep_remotely`.
    async fn import_by_name(&self, name: &str) -> ProviderResult<Value> {
        let reference = Self::reference(name)?;
        let digest = remote_digest(&self.shared, &reference, name)
            .await?
            .ok_or_else(|| DockerError::Invalid(format!("the registry has no image {name}")))?;
        let mut out = dumcel_planner::Map::new();
        out.insert(
            "id".into(),
            Value::string(format!("{}@{digest}", reference.name())),
        );
        out.insert("name".into(), Value::string(name));
        out.insert("source_image".into(), Value::Null);
        out.insert("keep_remotely".into(), Value::Null);
        out.insert("triggers".into(), Value::Null);
        out.insert("sha256_digest".into(), Value::string(digest));
        Ok(Value::Map(out))
    }
}
