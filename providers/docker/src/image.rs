//! `docker_image`: an image built from a context directory and tagged `name`
//! (or, without a `build` block, pulled by `name`). The plan hashes the
//! context's files into `context_hash`, so a changed file rebuilds the image
//! and the plan says so.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bollard::query_parameters::{CreateImageOptions, RemoveImageOptions};
use futures_util::StreamExt;

use dumcel_engine::provider::{ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    blocks, bool_or, check_bool, check_string, check_string_map, opt_str, req_str, string_map, with,
};
use crate::build::{BuildSpec, build};
use crate::client::Shared;
use crate::context;
use crate::error::DockerError;
use crate::reference::Reference;

/// The label every image this provider builds carries, with its tag as value:
/// how a container's removal knows an untagged image is a leftover of ours.
pub const BUILT_BY_LABEL: &str = "dumcel.image";

/// The label holding the hash of the context an image was built from: how
/// `find` tells the build a lost create made from an older build still
/// tagged with the same name.
const CONTEXT_LABEL: &str = "dumcel.context_hash";

const DEFAULT_DOCKERFILE: &str = "Dockerfile";

pub struct DockerImage {
    shared: Arc<Shared>,
    schema: Schema,
}

impl DockerImage {
    pub fn new(shared: Arc<Shared>) -> DockerImage {
        let build = Schema::new()
            .attr(
                "context",
                Attribute::required().describe("Directory sent to the builder."),
            )
            .attr(
                "dockerfile",
                Attribute::optional().describe("Path inside the context (default Dockerfile)."),
            )
            .attr("build_args", Attribute::optional())
            .attr("labels", Attribute::optional())
            .attr(
                "target",
                Attribute::optional().describe("Stage of a multi-stage Dockerfile."),
            );
        DockerImage {
            shared,
            schema: Schema::new()
                .attr(
                    "id",
                    Attribute::computed().describe("The image ID (sha256:...)."),
                )
                .attr(
                    "name",
                    Attribute::required()
                        .force_new()
                        .describe("The tag to build, or the image to pull."),
                )
                .attr(
                    "context_hash",
                    Attribute::computed()
                        .force_new()
                        .describe("SHA-256 of the build context's files, computed at plan time."),
                )
                .attr(
                    "keep_locally",
                    Attribute::optional().describe("Leave the image in place on destroy."),
                )
                .attr(
                    "triggers",
                    Attribute::optional()
                        .force_new()
                        .describe("Arbitrary values whose change rebuilds the image."),
                )
                .block(
                    "build",
                    NestedBlock {
                        schema: build,
                        min_items: 0,
                        max_items: Some(1),
                        force_new: true,
                    },
                ),
        }
    }

    async fn pull(&self, name: &str) -> Result<String, DockerError> {
        let reference = Reference::parse(name)
            .ok_or_else(|| DockerError::Invalid(format!("{name:?} is not an image reference")))?;
        let docker = self.shared.docker().await?;
        let options = CreateImageOptions {
            from_image: Some(reference.name()),
            tag: Some(reference.tag.clone()),
            ..Default::default()
        };
        let credentials = self.shared.credentials_for(&reference.registry);
        let mut stream = docker.create_image(Some(options), None, credentials);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| DockerError::api(format!("pulling {name}"), e))?;
            if let Some(status) = info.status.filter(|_| info.progress_detail.is_none()) {
                dumcel_engine::progress::report(&match info.id {
                    Some(id) => format!("{id}: {status}"),
                    None => status,
                });
            }
        }
        image_id(docker, name).await?.ok_or_else(|| {
            DockerError::Invalid(format!("{name} was pulled but cannot be found locally"))
        })
    }
}

/// The ID `name` resolves to locally, `None` when there is no such image.
async fn image_id(docker: &bollard::Docker, name: &str) -> Result<Option<String>, DockerError> {
    match docker.inspect_image(name).await {
        Ok(image) => Ok(image.id),
        Err(e) => {
            let e = DockerError::api(format!("inspecting image {name}"), e);
            if e.is_not_found() { Ok(None) } else { Err(e) }
        }
    }
}

/// The labels a build sets: the configured ones, the tag it was built as,
/// and the hash of its context.
fn labels(b: &Value, name: &str, hash: &str) -> Result<HashMap<String, String>, DockerError> {
    let mut labels = string_map(b, "labels")?;
    labels.insert(BUILT_BY_LABEL.into(), name.to_owned());
    labels.insert(CONTEXT_LABEL.into(), hash.to_owned());
    Ok(labels)
}

#[async_trait]
impl ResourceType for DockerImage {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        check_bool(config, "keep_locally", &mut errors);
        check_string_map(config, "triggers", &mut errors);
        if let Some(name) = opt_str(config, "name")
            && Reference::parse(name).is_none()
        {
            errors.push((
                "name".into(),
                format!(
                    "{name:?} is not an image name such as \"web:1\" or \"127.0.0.1:5000/web:1\""
                ),
            ));
        }
        for b in blocks(config, "build") {
            for attr in ["context", "dockerfile", "target"] {
                check_string(b, attr, &mut errors);
            }
            for attr in ["build_args", "labels"] {
                check_string_map(b, attr, &mut errors);
            }
        }
        errors
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let hash = match blocks(&proposed, "build").first() {
            None => Value::Null,
            Some(b) => match b.get("context") {
                Some(Value::String(dir)) => {
                    let dockerfile = match b.get("dockerfile") {
                        Some(Value::Unknown) => {
                            return Ok(with(&proposed, [("context_hash", Value::Unknown)]));
                        }
                        other => other.and_then(Value::as_str).unwrap_or(DEFAULT_DOCKERFILE),
                    };
                    Value::string(
                        context::hash(Path::new(dir), dockerfile).map_err(|e| e.to_string())?,
                    )
                }
                // The context is only known at apply.
                _ => Value::Unknown,
            },
        };
        Ok(with(&proposed, [("context_hash", hash)]))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let (Some(name), Some(id)) = (opt_str(prior, "name"), opt_str(prior, "id")) else {
            return Ok(None);
        };
        let docker = self.shared.docker().await?;
        // Gone, or the tag now names another image: ours is not there any more.
        match image_id(docker, name).await? {
            Some(current) if current == id => Ok(Some(prior.clone())),
            _ => Ok(None),
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let Some(b) = blocks(planned, "build").first() else {
            let id = self.pull(name).await?;
            return Ok(with(
                planned,
                [("id", Value::string(id)), ("context_hash", Value::Null)],
            ));
        };
        let dir = Path::new(req_str(b, "context")?);
        let dockerfile = opt_str(b, "dockerfile").unwrap_or(DEFAULT_DOCKERFILE);
        // Hash what is sent, in case the files changed since the plan.
        let hash = context::hash(dir, dockerfile)?;
        let spec = BuildSpec {
            tag: name,
            context: dir,
            dockerfile,
            build_args: string_map(b, "build_args")?,
            labels: labels(b, name, &hash)?,
            target: opt_str(b, "target").unwrap_or_default().to_owned(),
        };
        let id = build(&self.shared, spec).await?;
        Ok(with(
            planned,
            [
                ("id", Value::string(id)),
                ("context_hash", Value::string(hash)),
            ],
        ))
    }

    /// The image tagged `name`, when it is the build create would have made:
    /// it carries the labels that build sets, its context hash among them
    /// (hashed from the files now, as create hashes what it sends). The tag
    /// still on an older build (what this one replaces) is `None`, and the
    /// image is built again; a build is repeatable, a wrong image recorded
    /// is not. Without a `build` block the image was pulled by name, and
    /// whatever is there under that name is what a pull left.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let docker = self.shared.docker().await?;
        let Some(b) = blocks(planned, "build").first() else {
            return Ok(image_id(docker, name).await?.map(|id| {
                with(
                    planned,
                    [("id", Value::string(id)), ("context_hash", Value::Null)],
                )
            }));
        };
        let image = match docker.inspect_image(name).await {
            Ok(image) => image,
            Err(e) => {
                let e = DockerError::api(format!("inspecting image {name}"), e);
                return if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e.into())
                };
            }
        };
        let dir = Path::new(req_str(b, "context")?);
        let hash = context::hash(dir, opt_str(b, "dockerfile").unwrap_or(DEFAULT_DOCKERFILE))?;
        let has = image.config.and_then(|c| c.labels).unwrap_or_default();
        let ours = labels(b, name, &hash)?
            .iter()
            .all(|(k, v)| has.get(k) == Some(v));
        match image.id {
            Some(id) if ours => Ok(Some(with(
                planned,
                [
                    ("id", Value::string(id)),
                    ("context_hash", Value::string(hash)),
                ],
            ))),
            _ => Ok(None),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Only keep_locally changes in place; the image stays what it was.
        Ok(with(
            planned,
            [
                ("id", prior.get("id").cloned().unwrap_or_default()),
                (
                    "context_hash",
                    prior.get("context_hash").cloned().unwrap_or_default(),
                ),
            ],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        if bool_or(prior, "keep_locally", false) {
            return Ok(());
        }
        let (Some(name), Some(id)) = (opt_str(prior, "name"), opt_str(prior, "id")) else {
            return Ok(());
        };
        let docker = self.shared.docker().await?;
        // Remove by tag while the tag is still ours (it untags when other
        // references remain); by ID when the tag has moved on.
        let target = match image_id(docker, name).await? {
            Some(current) if current == id => name,
            _ => id,
        };
        let remove = |force| {
            docker.remove_image(
                target,
                Some(RemoveImageOptions {
                    force,
                    ..Default::default()
                }),
                None,
            )
        };
        match remove(false).await {
            Ok(_) => Ok(()),
            Err(e) => match crate::error::status_of(&e) {
                Some(404) => Ok(()),
                Some(409) if target == name => {
                    // A running container still uses it (a replacement that
                    // has not replaced its containers yet): untag it and leave
                    // the image to the container, whose removal cleans it up.
                    dumcel_engine::progress::report(&format!(
                        "{name} is still used by a container; untagged, removed with it"
                    ));
                    match remove(true).await {
                        Ok(_) => Ok(()),
                        Err(e) if crate::error::status_of(&e) == Some(404) => Ok(()),
                        Err(e) => Err(DockerError::api(format!("untagging {name}"), e).into()),
                    }
                }
                Some(409) => {
                    dumcel_engine::progress::report(&format!(
                        "{id} is still used by a container; left for it"
                    ));
                    Ok(())
                }
                _ => Err(DockerError::api(format!("removing image {name}"), e).into()),
            },
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let docker = self.shared.docker().await?;
        let Some(image) = image_id(docker, id).await? else {
            return Err(DockerError::Invalid(format!("no image {id:?} exists")).into());
        };
        let mut out = dumcel_planner::Map::new();
        out.insert("id".into(), Value::string(image));
        out.insert("name".into(), Value::string(id));
        out.insert("context_hash".into(), Value::Null);
        out.insert("keep_locally".into(), Value::Null);
        out.insert("triggers".into(), Value::Null);
        out.insert("build".into(), Value::List(Vec::new()));
        Ok(Value::Map(out))
    }
}
