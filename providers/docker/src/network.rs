//! `docker_network`: a user-defined network that containers join by name and
//! reach each other on by container name.

use std::sync::Arc;

use async_trait::async_trait;
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};

use dumcel_engine::provider::{ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    blocks, bool_or, check_bool, check_string, check_string_map, opt_str, req_str, string_map,
    string_map_value, with,
};
use crate::client::Shared;
use crate::error::DockerError;

pub struct DockerNetwork {
    shared: Arc<Shared>,
    schema: Schema,
}

impl DockerNetwork {
    pub fn new(shared: Arc<Shared>) -> DockerNetwork {
        let ipam = Schema::new()
            .attr("subnet", Attribute::optional())
            .attr("gateway", Attribute::optional())
            .attr("ip_range", Attribute::optional());
        DockerNetwork {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("name", Attribute::required().force_new())
                .attr(
                    "driver",
                    Attribute::optional_computed()
                        .force_new()
                        .describe("Network driver (default bridge)."),
                )
                .attr(
                    "internal",
                    Attribute::optional()
                        .force_new()
                        .describe("No route to outside the network."),
                )
                .attr("attachable", Attribute::optional().force_new())
                .attr("options", Attribute::optional().force_new())
                .attr("labels", Attribute::optional().force_new())
                .block(
                    "ipam_config",
                    NestedBlock {
                        schema: ipam,
                        min_items: 0,
                        max_items: None,
                        force_new: true,
                    },
                ),
        }
    }
}

#[async_trait]
impl ResourceType for DockerNetwork {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        check_string(config, "driver", &mut errors);
        check_bool(config, "internal", &mut errors);
        check_bool(config, "attachable", &mut errors);
        check_string_map(config, "options", &mut errors);
        check_string_map(config, "labels", &mut errors);
        for b in blocks(config, "ipam_config") {
            for attr in ["subnet", "gateway", "ip_range"] {
                check_string(b, attr, &mut errors);
            }
        }
        errors
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let Some(id) = opt_str(prior, "id") else {
            return Ok(None);
        };
        let docker = self.shared.docker().await?;
        match docker.inspect_network(id, None).await {
            Ok(n) => Ok(Some(with(
                prior,
                [
                    ("name", n.name.map(Value::string).unwrap_or_default()),
                    ("driver", n.driver.map(Value::string).unwrap_or_default()),
                ],
            ))),
            Err(e) => {
                let e = DockerError::api(format!("inspecting network {id}"), e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let driver = opt_str(planned, "driver").unwrap_or("bridge").to_owned();
        let ipam_config: Vec<IpamConfig> = blocks(planned, "ipam_config")
            .iter()
            .map(|b| IpamConfig {
                subnet: opt_str(b, "subnet").map(str::to_owned),
                gateway: opt_str(b, "gateway").map(str::to_owned),
                ip_range: opt_str(b, "ip_range").map(str::to_owned),
                ..Default::default()
            })
            .collect();
        let request = NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some(driver.clone()),
            internal: Some(bool_or(planned, "internal", false)),
            attachable: Some(bool_or(planned, "attachable", false)),
            options: Some(string_map(planned, "options")?),
            labels: Some(string_map(planned, "labels")?),
            ipam: (!ipam_config.is_empty()).then(|| Ipam {
                config: Some(ipam_config),
                ..Default::default()
            }),
            ..Default::default()
        };
        let docker = self.shared.docker().await?;
        let created = docker
            .create_network(request)
            .await
            .map_err(|e| DockerError::api(format!("creating network {name}"), e))?;
        Ok(with(
            planned,
            [
                ("id", Value::string(created.id)),
                ("driver", Value::string(driver)),
            ],
        ))
    }

    /// By name. Engines before API 1.44 let two networks share a name; then
    /// inspecting by name answers an error, which is passed on rather than
    /// guessing. The driver is reported as Docker has it.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let docker = self.shared.docker().await?;
        let n = match docker.inspect_network(name, None).await {
            Ok(n) => n,
            Err(e) if crate::error::status_of(&e) == Some(404) => return Ok(None),
            Err(e) => {
                return Err(DockerError::api(format!("inspecting network {name}"), e).into());
            }
        };
        // Docker also takes an ID prefix here: only the exact name counts.
        if n.name.as_deref() != Some(name) {
            return Ok(None);
        }
        let id =
            n.id.ok_or_else(|| DockerError::Invalid(format!("network {name} has no ID")))?;
        let driver = n.driver.unwrap_or_else(|| "bridge".to_owned());
        Ok(Some(with(
            planned,
            [("id", Value::string(id)), ("driver", Value::string(driver))],
        )))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Every argument replaces the network; nothing changes in place.
        Ok(with(
            planned,
            [("id", prior.get("id").cloned().unwrap_or_default())],
        ))
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let Some(id) = opt_str(prior, "id") else {
            return Ok(());
        };
        let docker = self.shared.docker().await?;
        match docker.remove_network(id).await {
            Ok(()) => Ok(()),
            Err(e) if crate::error::status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(DockerError::api(
                format!("removing network {}", opt_str(prior, "name").unwrap_or(id)),
                e,
            )
            .into()),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let docker = self.shared.docker().await?;
        let n = docker
            .inspect_network(id, None)
            .await
            .map_err(|e| DockerError::api(format!("inspecting network {id}"), e))?;
        let labels = n.labels.unwrap_or_default();
        let options = n.options.unwrap_or_default();
        let mut out = dumcel_planner::Map::new();
        out.insert("id".into(), n.id.map(Value::string).unwrap_or_default());
        out.insert("name".into(), n.name.map(Value::string).unwrap_or_default());
        out.insert(
            "driver".into(),
            n.driver.map(Value::string).unwrap_or_default(),
        );
        // Docker's defaults read as unset, as a configuration leaves them.
        let flag = |b: Option<bool>| {
            if b == Some(true) {
                Value::Bool(true)
            } else {
                Value::Null
            }
        };
        let map = |m: &std::collections::HashMap<String, String>| {
            if m.is_empty() {
                Value::Null
            } else {
                string_map_value(m)
            }
        };
        out.insert("internal".into(), flag(n.internal));
        out.insert("attachable".into(), flag(n.attachable));
        out.insert("options".into(), map(&options));
        out.insert("labels".into(), map(&labels));
        out.insert("ipam_config".into(), Value::List(Vec::new()));
        Ok(Value::Map(out))
    }
}
