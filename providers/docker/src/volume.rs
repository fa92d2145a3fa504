//! `docker_volume`: a named volume that outlives the containers mounting it.

use std::sync::Arc;

use async_trait::async_trait;
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::RemoveVolumeOptions;

use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{check_string, check_string_map, opt_str, string_map, string_map_value, with};
use crate::client::Shared;
use crate::error::DockerError;

pub struct DockerVolume {
    shared: Arc<Shared>,
    schema: Schema,
}

impl DockerVolume {
    pub fn new(shared: Arc<Shared>) -> DockerVolume {
        DockerVolume {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed().describe("The volume's name."))
                .attr(
                    "name",
                    Attribute::optional_computed()
                        .force_new()
                        .describe("Docker picks one when left out."),
                )
                .attr(
                    "driver",
                    Attribute::optional_computed()
                        .force_new()
                        .describe("Volume driver (default local)."),
                )
                .attr("driver_opts", Attribute::optional().force_new())
                .attr("labels", Attribute::optional().force_new())
                .attr(
                    "mountpoint",
                    Attribute::computed().describe("Where the volume lives on the host."),
                ),
        }
    }
}

/// The object create returns for volume `v`: what `planned` asked for, with
/// the name, driver and mountpoint Docker settled on.
fn made(planned: &Value, v: bollard::models::Volume) -> Value {
    with(
        planned,
        [
            ("id", Value::string(&v.name)),
            ("name", Value::string(v.name)),
            ("driver", Value::string(v.driver)),
            ("mountpoint", Value::string(v.mountpoint)),
        ],
    )
}

fn not_found_is_none<T>(
    r: Result<T, bollard::errors::Error>,
    what: &str,
) -> ProviderResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if crate::error::status_of(&e) == Some(404) => Ok(None),
        Err(e) => Err(DockerError::api(what, e).into()),
    }
}

#[async_trait]
impl ResourceType for DockerVolume {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        check_string(config, "name", &mut errors);
        check_string(config, "driver", &mut errors);
        check_string_map(config, "driver_opts", &mut errors);
        check_string_map(config, "labels", &mut errors);
        errors
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let Some(name) = opt_str(prior, "name") else {
            return Ok(None);
        };
        let docker = self.shared.docker().await?;
        let found = not_found_is_none(
            docker.inspect_volume(name).await,
            &format!("inspecting volume {name}"),
        )?;
        Ok(found.map(|v| {
            with(
                prior,
                [
                    ("driver", Value::string(v.driver)),
                    ("mountpoint", Value::string(v.mountpoint)),
                ],
            )
        }))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let request = VolumeCreateRequest {
            name: opt_str(planned, "name").map(str::to_owned),
            driver: opt_str(planned, "driver").map(str::to_owned),
            driver_opts: Some(string_map(planned, "driver_opts")?),
            labels: Some(string_map(planned, "labels")?),
            ..Default::default()
        };
        let what = opt_str(planned, "name").unwrap_or("(unnamed)");
        let docker = self.shared.docker().await?;
        let v = docker
            .create_volume(request)
            .await
            .map_err(|e| DockerError::api(format!("creating volume {what}"), e))?;
        Ok(made(planned, v))
    }

    /// By name. Without one Docker picked a random name, which nothing
    /// recorded: that cannot be looked up, and the default error says so.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let Some(name) = opt_str(planned, "name") else {
            return Err(ProviderError::new(
                "a volume without a configured name cannot be found again: Docker chose its \
                 name. Look for it with `docker volume ls`, then `dumcel import` it or run \
                 `dumcel state rm` on the address",
            ));
        };
        let docker = self.shared.docker().await?;
        let found = not_found_is_none(
            docker.inspect_volume(name).await,
            &format!("inspecting volume {name}"),
        )?;
        Ok(found.map(|v| made(planned, v)))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Every argument replaces the volume; nothing changes in place.
        Ok(with(
            planned,
            [
                ("id", prior.get("id").cloned().unwrap_or_default()),
                (
                    "mountpoint",
                    prior.get("mountpoint").cloned().unwrap_or_default(),
                ),
            ],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let Some(name) = opt_str(prior, "name") else {
            return Ok(());
        };
        let docker = self.shared.docker().await?;
        let removed = docker
            .remove_volume(name, None::<RemoveVolumeOptions>)
            .await;
        not_found_is_none(removed, &format!("removing volume {name}")).map(|_| ())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let docker = self.shared.docker().await?;
        let v = docker
            .inspect_volume(id)
            .await
            .map_err(|e| DockerError::api(format!("inspecting volume {id}"), e))?;
        let mut out = dumcel_planner::Map::new();
        out.insert("id".into(), Value::string(&v.name));
        out.insert("name".into(), Value::string(v.name));
        out.insert("driver".into(), Value::string(v.driver));
        // Empty maps read as unset, as a configuration leaves them.
        let map = |m: &std::collections::HashMap<String, String>| {
            if m.is_empty() {
                Value::Null
            } else {
                string_map_value(m)
            }
        };
        out.insert("driver_opts".into(), map(&v.options));
        out.insert("labels".into(), map(&v.labels));
        out.insert("mountpoint".into(), Value::string(v.mountpoint));
        Ok(Value::Map(out))
    }
}
