//! `terraform_data`: Terraform's built-in resource that holds a value.
//! Changing `input` updates it in place (`output` follows, known after
//! apply); changing `triggers_replace` replaces it. Terraform records it
//! under its own built-in provider, `terraform.io/builtin/terraform`, so
//! dumcel does too (see [`TerraformProvider`]).

use std::sync::Arc;

use async_trait::async_trait;

use dumcel_planner::diff::same;
use dumcel_planner::{Attribute, Schema, Value};

use super::{id_of, with_attr};
use crate::provider::{DataSource, Provider, ProviderResult, ResourceType};

/// The provider name Terraform records `terraform_data` under.
pub const TERRAFORM_PROVIDER: &str = "terraform";

pub struct TerraformData {
    schema: Schema,
}

impl TerraformData {
    pub fn new() -> TerraformData {
        TerraformData {
            schema: Schema::new()
                .attr("id", Attribute::computed().describe("A random UUID."))
                .attr(
                    "input",
                    Attribute::optional()
                        .describe("Any value; a change updates in place and sets `output`."),
                )
                .attr(
                    "output",
                    Attribute::computed().describe("The value of `input` after apply."),
                )
                .attr(
                    "triggers_replace",
                    Attribute::optional()
                        .force_new()
                        .describe("Any value; a change replaces the resource."),
                ),
        }
    }
}

impl Default for TerraformData {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl ResourceType for TerraformData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    /// `output` is carried from the prior object unless `input` changed; then,
    /// as in Terraform, it is known only after apply.
    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let input = proposed.get("input").cloned().unwrap_or(Value::Null);
        let prior_input = prior
            .and_then(|p| p.get("input"))
            .cloned()
            .unwrap_or(Value::Null);
        if prior.is_some() && !same(&input, &prior_input) {
            return Ok(with_attr(&proposed, "output", Value::Unknown));
        }
        Ok(proposed)
    }

    fn makes_outside_objects(&self) -> bool {
        false
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        // It lives in state only: what has an id exists.
        Ok(id_of(prior).map(|_| prior.clone()))
    }

    async fn find(&self, _planned: &Value) -> ProviderResult<Option<Value>> {
        // Nothing exists outside the state: a create cut off made nothing.
        Ok(None)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let id = uuid::Uuid::new_v4().to_string();
        let input = planned.get("input").cloned().unwrap_or(Value::Null);
        let out = with_attr(planned, "output", input);
        Ok(with_attr(&out, "id", Value::string(id)))
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let input = planned.get("input").cloned().unwrap_or(Value::Null);
        Ok(with_attr(planned, "output", input))
    }

    async fn delete(&self, _prior: &Value) -> ProviderResult<()> {
        Ok(())
    }

    /// Terraform imports it by id, with null `input` and `output`.
    async fn import(&self, id: &str) -> ProviderResult<Value> {
        Ok(Value::Map(
            [
                ("id".to_string(), Value::string(id)),
                ("input".to_string(), Value::Null),
                ("output".to_string(), Value::Null),
                ("triggers_replace".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
        ))
    }
}

/// Terraform's built-in provider: `terraform_data` only. It takes no
/// configuration.
pub struct TerraformProvider;

#[async_trait]
impl Provider for TerraformProvider {
    fn name(&self) -> &'static str {
        TERRAFORM_PROVIDER
    }

    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        vec![("terraform_data", Arc::new(TerraformData::new()))]
    }

    fn data_sources(&self) -> Vec<(&'static str, Arc<dyn DataSource>)> {
        Vec::new()
    }

    fn source(&self) -> String {
        format!("terraform.io/builtin/{TERRAFORM_PROVIDER}")
    }

    fn instance(&self) -> Option<Arc<dyn Provider>> {
        Some(Arc::new(TerraformProvider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn output_is_unknown_only_when_input_changes() {
        let td = TerraformData::new();
        let prior = obj(&[
            ("id", "x".into()),
            ("input", "a".into()),
            ("output", "a".into()),
        ]);
        let same_input = obj(&[
            ("id", "x".into()),
            ("input", "a".into()),
            ("output", "a".into()),
        ]);
        let kept = td.plan(Some(&prior), same_input).unwrap();
        assert_eq!(kept.get("output"), Some(&Value::string("a")));
        let changed = obj(&[
            ("id", "x".into()),
            ("input", "b".into()),
            ("output", "a".into()),
        ]);
        let planned = td.plan(Some(&prior), changed).unwrap();
        assert_eq!(planned.get("output"), Some(&Value::Unknown));
    }

    #[tokio::test]
    async fn create_copies_input_to_output_and_makes_a_uuid() {
        let td = TerraformData::new();
        let made = td
            .create(&obj(&[("input", Value::Number(3.0))]))
            .await
            .unwrap();
        assert_eq!(made.get("output"), Some(&Value::Number(3.0)));
        let id = made.get("id").and_then(Value::as_str).unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}
