//! `time_sleep`: waits on create and/or destroy, to give something time to settle.

use std::time::Duration;

use async_trait::async_trait;

use dumcel_planner::{Attribute, Schema, Value};

use super::{id_of, with_attr};
use crate::provider::{ProviderError, ProviderResult, ResourceType};

pub struct TimeSleep {
    schema: Schema,
}

impl TimeSleep {
    pub fn new() -> TimeSleep {
        TimeSleep {
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr(
                    "create_duration",
                    Attribute::optional()
                        .describe("How long create waits, like \"30s\" or \"2m\"."),
                )
                .attr(
                    "destroy_duration",
                    Attribute::optional().describe("How long destroy waits."),
                )
                .attr("triggers", Attribute::optional().force_new()),
        }
    }
}

impl Default for TimeSleep {
    fn default() -> Self {
        Self::new()
    }
}

fn duration(value: &Value, attr: &str) -> Result<Option<Duration>, String> {
    match value.get(attr) {
        None | Some(Value::Null) | Some(Value::Unknown) => Ok(None),
        Some(v) => {
            let text = v.as_str().ok_or_else(|| {
                format!(
                    "must be a duration string like \"30s\", got {}",
                    v.type_name()
                )
            })?;
            humantime::parse_duration(text).map(Some).map_err(|e| {
                format!(
                    "{text:?} is not a duration ({e}); use forms like \"500ms\", \"30s\", \"2m\""
                )
            })
        }
    }
}

#[async_trait]
impl ResourceType for TimeSleep {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        ["create_duration", "destroy_duration"]
            .iter()
            .filter_map(|a| duration(config, a).err().map(|e| (a.to_string(), e)))
            .collect()
    }

    fn makes_outside_objects(&self) -> bool {
        false
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(id_of(prior).map(|_| prior.clone()))
    }

    async fn find(&self, _planned: &Value) -> ProviderResult<Option<Value>> {
        // Nothing exists outside the state: a create cut off made nothing.
        Ok(None)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        if let Some(d) = duration(planned, "create_duration").map_err(ProviderError::new)? {
            tokio::time::sleep(d).await;
        }
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        Ok(with_attr(planned, "id", Value::string(now)))
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        if let Some(d) = duration(prior, "destroy_duration").map_err(ProviderError::new)? {
            tokio::time::sleep(d).await;
        }
        Ok(())
    }
}
