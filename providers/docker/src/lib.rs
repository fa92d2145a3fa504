//! The Docker provider: images built from a context and pushed to registries,
//! containers, networks and volumes, through the Docker Engine API (bollard);
//! and routes from host names to containers on the router (HAProxy's runtime API).
//!
//! ```hcl
//! provider "docker" {
//!   host   = "unix:///var/run/docker.sock"   # default: DOCKER_HOST, then this socket
//!   router = "127.0.0.1:8481"                # default: DUMCEL_ROUTER, then this
//!   registry_auth {
//!     address  = "127.0.0.1:5000"
//!     username = "ci"
//!     password = var.registry_password      # sensitive
//!   }
//! }
//! ```

mod attrs;
mod build;
mod client;
mod container;
mod container_import;
mod container_spec;
mod container_wait;
mod context;
mod dockerignore;
mod error;
mod image;
mod images;
mod network;
mod push;
mod reference;
mod registry_api;
mod registry_image;
mod route;
mod router;
mod volume;

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{Provider, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

pub use client::{DEFAULT_HOST, RegistryAuth, http_client};
pub use context::hash as context_hash;
pub use error::DockerError;
pub use images::Images;
pub use reference::Reference;

/// The provider's name in `provider "docker" { ... }` and in state.
pub const NAME: &str = "docker";

pub struct Docker {
    shared: Arc<client::Shared>,
}

impl Docker {
    pub fn new() -> Docker {
        Docker {
            shared: Arc::new(client::Shared::default()),
        }
    }
}

impl Default for Docker {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for Docker {
    fn name(&self) -> &'static str {
        NAME
    }

    fn config_schema(&self) -> Schema {
        let auth = Schema::new()
            .attr(
                "address",
                Attribute::required().describe("Registry host[:port]."),
            )
            .attr("username", Attribute::required())
            .attr("password", Attribute::required().sensitive());
        Schema::new()
            .attr(
                "host",
                Attribute::optional().describe(
                    "Docker engine address (unix:///..., tcp://host:port); default DOCKER_HOST.",
                ),
            )
            .attr(
                "router",
                Attribute::optional().describe(
                    "The router's runtime API for docker_route, host:port (default DUMCEL_ROUTER, else 127.0.0.1:8481).",
                ),
            )
            .block(
                "registry_auth",
                NestedBlock {
                    schema: auth,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
    }

    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let s = &self.shared;
        vec![
            ("docker_image", Arc::new(image::DockerImage::new(s.clone()))),
            (
                "docker_registry_image",
                Arc::new(registry_image::DockerRegistryImage::new(s.clone())),
            ),
            (
                "docker_container",
                Arc::new(container::DockerContainer::new(s.clone())),
            ),
            (
                "docker_network",
                Arc::new(network::DockerNetwork::new(s.clone())),
            ),
            (
                "docker_volume",
                Arc::new(volume::DockerVolume::new(s.clone())),
            ),
            ("docker_route", Arc::new(route::DockerRoute::new(s.clone()))),
        ]
    }

    fn source(&self) -> String {
        "registry.terraform.io/kreuzwerker/docker".to_owned()
    }

    /// Another daemon or registry set (`provider "docker" { alias = ... }`):
    /// a client of its own.
    fn instance(&self) -> Option<Arc<dyn Provider>> {
        Some(Arc::new(Docker::new()))
    }

    async fn configure(&self, config: &Value) -> ProviderResult<()> {
        // Only read the settings: the daemon is contacted on first use.
        let settings = client::Settings::from_config(config)?;
        self.shared.configure(settings);
        Ok(())
    }
}
