//! `null_resource`: does nothing but exist; `triggers` replace it.

use async_trait::async_trait;

use dumcel_planner::{Attribute, Schema, Value};

use super::{id_of, with_attr};
use crate::provider::{ProviderResult, ResourceType};

pub struct NullResource {
    schema: Schema,
}

impl NullResource {
    pub fn new() -> NullResource {
        NullResource {
            schema: Schema::new().attr("id", Attribute::computed()).attr(
                "triggers",
                Attribute::optional()
                    .force_new()
                    .describe("A map of values; any change replaces the resource."),
            ),
        }
    }
}

impl Default for NullResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl ResourceType for NullResource {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        match config.get("triggers") {
            Some(t) if !t.is_null() && !t.is_unknown() && t.as_map().is_none() => {
                vec![("triggers".into(), "must be a map of strings".into())]
            }
            _ => Vec::new(),
        }
    }

    fn makes_outside_objects(&self) -> bool {
        false
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        // Nothing exists outside the state: what has an id exists.
        Ok(id_of(prior).map(|_| prior.clone()))
    }

    async fn find(&self, _planned: &Value) -> ProviderResult<Option<Value>> {
        // Nothing exists outside the state: a create cut off made nothing.
        Ok(None)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        // A random positive i64, as Terraform's null provider makes it; from
        // the thread's generator, not a system call per resource.
        let id = rand::random::<u64>() >> 1;
        Ok(with_attr(planned, "id", Value::string(id.to_string())))
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }

    async fn delete(&self, _prior: &Value) -> ProviderResult<()> {
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        Ok(Value::Map(
            [
                ("id".to_string(), Value::string(id)),
                ("triggers".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
        ))
    }
}
