//! `docker_container`: a container created from an image and kept running.
//! Removed outside dumcel, it is gone (and recreated); stopped outside dumcel,
//! `running` drifts to false and the next apply starts it again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bollard::models::{ContainerUpdateBody, RestartPolicyNameEnum};
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, RemoveImageOptions,
};

use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{bool_or, opt_num, opt_str, req_str, with};
use crate::client::Shared;
use crate::container_spec::{create_body, restart_policy, validate};
use crate::container_wait::{WaitFor, started};
use crate::error::{DockerError, status_of};
use crate::image::BUILT_BY_LABEL;

const DEFAULT_WAIT_TIMEOUT: f64 = 60.0;

pub struct DockerContainer {
    shared: Arc<Shared>,
    schema: Schema,
}

fn block(schema: Schema, max_items: Option<usize>) -> NestedBlock {
    NestedBlock {
        schema,
        min_items: 0,
        max_items,
        force_new: true,
    }
}

impl DockerContainer {
    pub fn new(shared: Arc<Shared>) -> DockerContainer {
        let ports = Schema::new()
            .attr("internal", Attribute::required())
            .attr(
                "external",
                Attribute::optional().describe("Host port; Docker picks one when left out."),
            )
            .attr(
                "ip",
                Attribute::optional().describe("Host address to publish on (all when left out)."),
            )
            .attr("protocol", Attribute::optional());
        let networks = Schema::new()
            .attr("name", Attribute::required())
            .attr("aliases", Attribute::optional());
        let volumes = Schema::new()
            .attr("container_path", Attribute::required())
            .attr("volume_name", Attribute::optional())
            .attr("host_path", Attribute::optional())
            .attr("read_only", Attribute::optional());
        let mounts = Schema::new()
            .attr("target", Attribute::required())
            .attr("type", Attribute::required())
            .attr("source", Attribute::optional())
            .attr("read_only", Attribute::optional());
        let healthcheck = Schema::new()
            .attr("test", Attribute::required())
            .attr("interval", Attribute::optional())
            .attr("timeout", Attribute::optional())
            .attr("start_period", Attribute::optional())
            .attr("retries", Attribute::optional());
        let replace = || Attribute::optional().force_new();
        DockerContainer {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("name", Attribute::required().force_new())
                .attr(
                    "image",
                    Attribute::required()
                        .force_new()
                        .describe("Image ID or name; use docker_image.X.id to follow rebuilds."),
                )
                .attr("command", replace())
                .attr("entrypoint", replace())
                .attr("env", replace().describe("NAME=VALUE strings."))
                .attr("working_dir", replace())
                .attr("user", replace())
                .attr("hostname", replace())
                .attr("labels", replace())
                .attr("network_mode", replace())
                .attr(
                    "restart",
                    Attribute::optional().describe("no, on-failure, always or unless-stopped."),
                )
                .attr("max_retry_count", Attribute::optional())
                .attr(
                    "must_run",
                    Attribute::optional().describe("A stopped container is drift (default true)."),
                )
                .attr(
                    "running",
                    Attribute::computed().describe("Whether the container is running."),
                )
                .attr(
                    "wait",
                    Attribute::optional().describe(
                        "Wait until the healthcheck passes; a container that does not is removed.",
                    ),
                )
                .attr(
                    "wait_timeout",
                    Attribute::optional().describe("Seconds to wait (default 60)."),
                )
                .block("ports", block(ports, None))
                .block("networks_advanced", block(networks, None))
                .block("volumes", block(volumes, None))
                .block("mounts", block(mounts, None))
                .block("healthcheck", block(healthcheck, Some(1))),
        }
    }

    fn wait_for(planned: &Value) -> WaitFor {
        WaitFor {
            healthy: bool_or(planned, "wait", false),
            timeout: Duration::from_secs_f64(
                opt_num(planned, "wait_timeout").unwrap_or(DEFAULT_WAIT_TIMEOUT),
            ),
        }
    }

    /// Starts the container and checks it keeps running (and becomes healthy
    /// with `wait`).
    async fn start(&self, name: &str, planned: &Value) -> Result<(), DockerError> {
        let docker = self.shared.docker().await?;
        docker
            .start_container(name, None)
            .await
            .map_err(|e| DockerError::api(format!("starting container {name}"), e))?;
        if bool_or(planned, "must_run", true) || bool_or(planned, "wait", false) {
            started(docker, name, Self::wait_for(planned)).await?;
        }
        Ok(())
    }

    async fn is_running(&self, id: &str) -> Result<bool, DockerError> {
        let docker = self.shared.docker().await?;
        let c = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| DockerError::api(format!("inspecting container {id}"), e))?;
        let state = c.state.unwrap_or_default();
        Ok(state.running == Some(true) && state.paused != Some(true))
    }

    /// After the container is gone: its image, when it is one this provider
    /// built and nothing names any more (left untagged by a rebuild while the
    /// container still ran), is garbage; remove it unless another container
    /// uses it.
    async fn remove_leftover_image(&self, image_id: &str) {
        let Ok(docker) = self.shared.docker().await else {
            return;
        };
        let Ok(image) = docker.inspect_image(image_id).await else {
            return;
        };
        let untagged = image.repo_tags.as_ref().is_none_or(Vec::is_empty);
        let ours = image
            .config
            .and_then(|c| c.labels)
            .is_some_and(|l| l.contains_key(BUILT_BY_LABEL));
        if untagged && ours {
            match docker
                .remove_image(image_id, None::<RemoveImageOptions>, None)
                .await
            {
                Ok(_) => tracing::debug!(image_id, "removed the untagged image a container left"),
                Err(e) => tracing::debug!(image_id, error = %e, "kept the untagged image"),
            }
        }
    }
}

/// The restart policy as read back, as configuration spells it; `None` for
/// Docker's default, so that an unset `restart` reads back unchanged.
pub(crate) fn observed_restart(
    policy: Option<&bollard::models::RestartPolicy>,
) -> (Option<&'static str>, i64) {
    let Some(p) = policy else {
        return (None, 0);
    };
    let name = match p.name {
        Some(RestartPolicyNameEnum::ALWAYS) => Some("always"),
        Some(RestartPolicyNameEnum::UNLESS_STOPPED) => Some("unless-stopped"),
        Some(RestartPolicyNameEnum::ON_FAILURE) => Some("on-failure"),
        _ => None,
    };
    (name, p.maximum_retry_count.unwrap_or(0))
}

#[async_trait]
impl ResourceType for DockerContainer {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        validate(config)
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        // A container that must run is planned running: if it was found
        // stopped, that difference is the update that starts it.
        if bool_or(&proposed, "must_run", true) {
            Ok(with(&proposed, [("running", Value::Bool(true))]))
        } else {
            Ok(proposed)
        }
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let Some(id) = opt_str(prior, "id") else {
            return Ok(None);
        };
        let docker = self.shared.docker().await?;
        let c = match docker.inspect_container(id, None).await {
            Ok(c) => c,
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(DockerError::api(format!("inspecting container {id}"), e).into()),
        };
        let state = c.state.unwrap_or_default();
        let running = state.running == Some(true) && state.paused != Some(true);
        let (restart, retries) = observed_restart(
            c.host_config
                .as_ref()
                .and_then(|h| h.restart_policy.as_ref()),
        );
        let restart = match (restart, prior.get("restart")) {
            (None, Some(Value::String(p))) if p == "no" => Value::string("no"),
            (None, _) => Value::Null,
            (Some(r), _) => Value::string(r),
        };
        let retries = match (retries, prior.get("max_retry_count")) {
            (0, None | Some(Value::Null)) => Value::Null,
            (n, _) => Value::Number(n as f64),
        };
        Ok(Some(with(
            prior,
            [
                ("running", Value::Bool(running)),
                ("restart", restart),
                ("max_retry_count", retries),
            ],
        )))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let (body, extra_networks) = create_body(planned)?;
        let docker = self.shared.docker().await?;
        let options = CreateContainerOptions {
            name: Some(name.to_owned()),
            ..Default::default()
        };
        let created = match docker
            .create_container(Some(options.clone()), body.clone())
            .await
        {
            Ok(c) => c,
            // A container of this name from the planned image is a leftover
            // of this very object: a create cut off by a crash, found and
            // recorded (tainted) by the recovery, and now being replaced. It
            // never took traffic (what depends on it was not updated), so it
            // is removed and made again; with another image it is someone
            // else's, and find says so.
            Err(e) if status_of(&e) == Some(409) => match self.find(planned).await? {
                Some(leftover) => {
                    let id = req_str(&leftover, "id")?;
                    tracing::warn!(
                        container = name,
                        "removing the leftover of an earlier cut-off create"
                    );
                    let force = RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    };
                    docker
                        .remove_container(id, Some(force))
                        .await
                        .map_err(|e| {
                            DockerError::api(format!("removing the leftover container {name}"), e)
                        })?;
                    docker
                        .create_container(Some(options), body)
                        .await
                        .map_err(|e| DockerError::api(format!("creating container {name}"), e))?
                }
                None => {
                    return Err(DockerError::Invalid(format!(
                        "a container named {name} already exists; remove it (docker rm -f {name}) or choose another name: {e}"
                    ))
                    .into());
                }
            },
            Err(e) => return Err(DockerError::api(format!("creating container {name}"), e).into()),
        };
        let made = |running: bool| {
            with(
                planned,
                [
                    ("id", Value::string(&created.id)),
                    ("running", Value::Bool(running)),
                ],
            )
        };
        // From here on the container exists: a failure reports it as made so
        // that it is recorded (tainted) and replaced, never orphaned.
        let partial = |e: DockerError| ProviderError {
            message: e.to_string(),
            partial: Some(made(false)),
        };
        for (network, settings) in extra_networks {
            let request = bollard::models::NetworkConnectRequest {
                container: created.id.clone(),
                endpoint_config: Some(settings),
            };
            docker
                .connect_network(&network, request)
                .await
                .map_err(|e| {
                    partial(DockerError::api(
                        format!("connecting {name} to network {network}"),
                        e,
                    ))
                })?;
        }
        match self.start(name, planned).await {
            Ok(()) => {}
            // With `wait`, a container that never became healthy is a
            // rollout that did not happen: it is removed (its logs are in
            // the error), so a create_before_destroy replacement leaves the
            // old container in place, still serving.
            Err(e @ DockerError::Container { .. }) if bool_or(planned, "wait", false) => {
                let options = RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                };
                if let Err(remove) = docker.remove_container(&created.id, Some(options)).await {
                    return Err(partial(DockerError::Invalid(format!(
                        "{e}\n(removing it failed too: {remove})"
                    ))));
                }
                return Err(e.into());
            }
            Err(e) => return Err(partial(e)),
        }
        let running = self.is_running(&created.id).await.unwrap_or(true);
        Ok(made(running))
    }

    /// A container name is unique on a host. Found with the planned image,
    /// it is the one create made (started or not: a container a cut-off
    /// create never started reads as not running, and the next plan starts
    /// it). Found with another image, it is someone else's: recording it
    /// would let a destroy remove it, so that is an error for a person to
    /// settle.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let image = req_str(planned, "image")?;
        let docker = self.shared.docker().await?;
        let c = match docker.inspect_container(name, None).await {
            Ok(c) => c,
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => {
                return Err(DockerError::api(format!("inspecting container {name}"), e).into());
            }
        };
        // Docker also takes an ID prefix here: only the exact name counts.
        if c.name.as_deref().map(|n| n.trim_start_matches('/')) != Some(name) {
            return Ok(None);
        }
        let id =
            c.id.ok_or_else(|| DockerError::Invalid(format!("container {name} has no ID")))?;
        // Config.Image is the reference create was given; the top-level
        // Image is the ID it resolved to (when the plan named an ID).
        let created_from = c.config.and_then(|cfg| cfg.image);
        if created_from.as_deref() != Some(image) && c.image.as_deref() != Some(image) {
            return Err(DockerError::Invalid(format!(
                "a container named {name} exists but was created from {}, not {image}; \
                 remove it (docker rm -f {name}) or import it",
                created_from.as_deref().unwrap_or("an unknown image")
            ))
            .into());
        }
        let state = c.state.unwrap_or_default();
        let running = state.running == Some(true) && state.paused != Some(true);
        Ok(Some(with(
            planned,
            [("id", Value::string(id)), ("running", Value::Bool(running))],
        )))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let docker = self.shared.docker().await?;
        let policy_changed = prior.get("restart") != planned.get("restart")
            || prior.get("max_retry_count") != planned.get("max_retry_count");
        if policy_changed {
            let update = ContainerUpdateBody {
                restart_policy: Some(restart_policy(planned)),
                ..Default::default()
            };
            docker
                .update_container(id, update)
                .await
                .map_err(|e| DockerError::api(format!("updating the restart policy of {id}"), e))?;
        }
        if planned.get("running") == Some(&Value::Bool(true)) && !self.is_running(id).await? {
            self.start(id, planned).await?;
        }
        let running = self.is_running(id).await?;
        Ok(with(
            planned,
            [("id", Value::string(id)), ("running", Value::Bool(running))],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let Some(id) = opt_str(prior, "id") else {
            return Ok(());
        };
        let docker = self.shared.docker().await?;
        let image = match docker.inspect_container(id, None).await {
            Ok(c) => c.image,
            Err(e) if status_of(&e) == Some(404) => return Ok(()),
            Err(e) => return Err(DockerError::api(format!("inspecting container {id}"), e).into()),
        };
        let options = RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        match docker.remove_container(id, Some(options)).await {
            Ok(()) => {}
            Err(e) if status_of(&e) == Some(404) => {}
            Err(e) => {
                let name = opt_str(prior, "name").unwrap_or(id);
                return Err(DockerError::api(format!("removing container {name}"), e).into());
            }
        }
        if let Some(image) = image {
            self.remove_leftover_image(&image).await;
        }
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let docker = self.shared.docker().await?;
        let c = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| DockerError::api(format!("inspecting container {id}"), e))?;
        // What the image sets is not the container's own configuration.
        let image = match c.image.as_deref() {
            Some(image) => docker
                .inspect_image(image)
                .await
                .ok()
                .and_then(|i| i.config),
            None => None,
        };
        Ok(crate::container_import::to_value(c, image)?)
    }
}
