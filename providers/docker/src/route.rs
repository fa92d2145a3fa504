//! docker_route: requests for a host name go to a container's published
//! port, through the router (see [`crate::router`]). Its id is the host.
//! Pointing a route at a new container is one atomic change on the router; the update then waits
//! `drain_timeout` seconds so that requests already sent to the old container
//! finish before anything removes it (a create_before_destroy container is
//! removed only after the routes depending on it were applied).
//!
//! ```hcl
//! resource "docker_route" "web" {
//!   host          = "shop.localhost"
//!   container     = docker_container.web.name
//!   port          = 8080      # the container's port; it must be published
//!   drain_timeout = 5         # seconds, after a switch
//! }
//! ```

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dumcel_engine::provider::{ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{opt_num, opt_str, req_str, with};
use crate::client::Shared;
use crate::error::{DockerError, status_of};
use crate::router::{Route, route_id};

const DEFAULT_DRAIN: f64 = 5.0;

pub struct DockerRoute {
    shared: Arc<Shared>,
    schema: Schema,
}

impl DockerRoute {
    pub fn new(shared: Arc<Shared>) -> DockerRoute {
        DockerRoute {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr(
                    "host",
                    Attribute::required()
                        .force_new()
                        .describe("The host name requests are routed by."),
                )
                .attr(
                    "container",
                    Attribute::required().describe("The container's name or ID."),
                )
                .attr(
                    "port",
                    Attribute::required()
                        .describe("The container's port; it must be published on the host."),
                )
                .attr(
                    "drain_timeout",
                    Attribute::optional().describe(
                        "Seconds a switch waits for requests sent to the old container (default 5).",
                    ),
                )
                .attr(
                    "upstream",
                    Attribute::computed().describe("The address the router dials."),
                ),
        }
    }

    /// The address the router dials for `port` of `container`: its host
    /// binding, on loopback when published on every address.
    async fn upstream(&self, planned: &Value) -> Result<String, DockerError> {
        let container = req_str(planned, "container")?;
        let port = port(planned)?;
        let docker = self.shared.docker().await?;
        let c = docker
            .inspect_container(container, None)
            .await
            .map_err(|e| match status_of(&e) {
                Some(404) => DockerError::Invalid(format!(
                    "the route's container {container} does not exist"
                )),
                _ => DockerError::api(format!("inspecting container {container}"), e),
            })?;
        let bindings = c
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|mut ports| ports.remove(&format!("{port}/tcp")))
            .flatten()
            .unwrap_or_default();
        let binding = bindings
            .iter()
            .find_map(|b| Some((b.host_ip.clone().unwrap_or_default(), b.host_port.clone()?)))
            .ok_or_else(|| {
                DockerError::Invalid(format!(
                    "container {container} does not publish port {port} on the host; add ports {{ internal = {port}, ip = \"127.0.0.1\" }} to it"
                ))
            })?;
        let ip = match binding.0.as_str() {
            "" | "0.0.0.0" => "127.0.0.1".to_owned(),
            "::" => "[::1]".to_owned(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_owned(),
        };
        Ok(format!("{ip}:{}", binding.1))
    }

    async fn drain(&self, planned: &Value) {
        let seconds = opt_num(planned, "drain_timeout").unwrap_or(DEFAULT_DRAIN);
        if seconds > 0.0 {
            dumcel_engine::progress::report(&format!(
                "switched; draining the old upstream for {seconds}s"
            ));
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        }
    }
}

fn port(v: &Value) -> Result<u16, DockerError> {
    opt_num(v, "port")
        .filter(|p| p.fract() == 0.0 && (1.0..=65535.0).contains(p))
        .map(|p| p as u16)
        .ok_or_else(|| DockerError::Invalid("port must be a port number (1 to 65535)".into()))
}

/// A host name as the router matches it: lowercase labels of letters,
/// digits and `-`.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[async_trait]
impl ResourceType for DockerRoute {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Some(host) = opt_str(config, "host")
            && !valid_host(host)
        {
            errors.push((
                "host".into(),
                format!("{host:?} is not a host name: use lowercase letters, digits, '-' and '.'"),
            ));
        }
        if matches!(config.get("port"), Some(Value::Number(_))) && port(config).is_err() {
            errors.push(("port".into(), "must be a port number (1 to 65535)".into()));
        }
        if opt_num(config, "drain_timeout").is_some_and(|s| !(0.0..=3600.0).contains(&s)) {
            errors.push((
                "drain_timeout".into(),
                "must be between 0 and 3600 seconds".into(),
            ));
        }
        errors
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        // Another container or port: the address the router dials is known
        // only once the container is there.
        let moved = prior.is_some_and(|p| {
            p.get("container") != proposed.get("container") || p.get("port") != proposed.get("port")
        });
        if moved {
            Ok(with(&proposed, [("upstream", Value::Unknown)]))
        } else {
            Ok(proposed)
        }
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let host = req_str(prior, "host")?;
        Ok(self.shared.router().get(host).await?.map(|r| {
            with(
                prior,
                [
                    ("host", Value::string(&r.host)),
                    ("upstream", Value::string(&r.upstream)),
                ],
            )
        }))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let host = req_str(planned, "host")?;
        let router = self.shared.router();
        if router.get(host).await?.is_some() {
            return Err(DockerError::Invalid(format!(
                "the router already has a route for {host}; another stack serves it (remove that route, or pick another host)"
            ))
            .into());
        }
        let upstream = self.upstream(planned).await?;
        router
            .create(&Route {
                host: host.to_owned(),
                upstream: upstream.clone(),
            })
            .await?;
        Ok(with(
            planned,
            [
                ("id", Value::string(route_id(host))),
                ("upstream", Value::string(upstream)),
            ],
        ))
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let host = req_str(planned, "host")?;
        Ok(self.shared.router().get(host).await?.map(|r| {
            with(
                planned,
                [
                    ("id", Value::string(route_id(host))),
                    ("upstream", Value::string(r.upstream)),
                ],
            )
        }))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let host = req_str(planned, "host")?;
        let upstream = self.upstream(planned).await?;
        let route = Route {
            host: host.to_owned(),
            upstream: upstream.clone(),
        };
        let router = self.shared.router();
        if router.get(host).await?.is_some() {
            router.replace(&route).await?;
        } else {
            router.create(&route).await?;
        }
        if opt_str(prior, "upstream") != Some(upstream.as_str()) {
            self.drain(planned).await;
        }
        Ok(with(
            planned,
            [
                ("id", Value::string(route_id(host))),
                ("upstream", Value::string(upstream)),
            ],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let host = req_str(prior, "host")?;
        self.shared.router().delete(host).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_checked() {
        for ok in ["shop.localhost", "fix-login--shop.apps.example.com", "a"] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "Shop.localhost",
            "-a.b",
            "a..b",
            "a b",
            "a/b",
            &"x".repeat(64),
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
