//! The `random` provider's types, with the names and semantics of
//! hashicorp/random v3: every argument replaces the resource, values are
//! made at apply (unknown at plan), kept in state and never change on
//! refresh; `keepers` is a map whose change makes a new value.
//!
//! Each type is a [`Generator`]; [`Random`] turns one into a resource type.

mod args;
mod id;
mod integer;
mod password;
mod pet;
mod shuffle;
mod string;
mod uuid;
mod words;

use std::sync::Arc;

use async_trait::async_trait;

use dumcel_planner::{Attribute, Schema, Value};

use super::{id_of, with_attr};
use crate::provider::{DataSource, Provider, ProviderError, ProviderResult, ResourceType};

/// The provider name Terraform records these types under
/// (`registry.terraform.io/hashicorp/random`).
pub const RANDOM_PROVIDER: &str = "random";

/// What one random type does; [`Random`] adds the parts they all share.
pub(crate) trait Generator: Send + Sync + 'static {
    /// Arguments and attributes, without `keepers` (added for every type).
    fn schema(&self) -> Schema;

    /// Checks known arguments; (argument, message) pairs. Messages never
    /// repeat the value, which may come from a sensitive variable.
    fn validate(&self, config: &Value) -> Vec<(String, String)>;

    /// Arguments with a default, filled in when left null, so the plan shows
    /// them as Terraform does and state records them.
    fn defaults(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }

    /// Plan-time adjustments beyond defaults; runs before they are filled.
    fn plan(&self, proposed: Value) -> Value {
        proposed
    }

    /// Fills the computed attributes of a new object from the planned one.
    fn generate(&self, planned: &Value) -> Result<Value, String>;

    /// The object `terraform import` would make from `id`.
    fn import(&self, id: &str) -> Result<Value, String> {
        Err(format!(
            "this random type cannot be imported (asked for id {id:?}); let dumcel create it"
        ))
    }
}

/// A random type as a resource type.
pub(crate) struct Random<G> {
    schema: Schema,
    generator: G,
}

impl<G: Generator> Random<G> {
    pub(crate) fn new(generator: G) -> Random<G> {
        let schema = generator.schema().attr(
            "keepers",
            Attribute::optional()
                .force_new()
                .describe("A map of values; any change makes a new random value."),
        );
        Random { schema, generator }
    }
}

#[async_trait]
impl<G: Generator> ResourceType for Random<G> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Some(k) = config.get("keepers")
            && !k.is_null()
            && !k.is_unknown()
            && k.as_map().is_none()
        {
            errors.push((
                "keepers".to_owned(),
                format!("must be a map of strings, got {}", k.type_name()),
            ));
        }
        errors.extend(self.generator.validate(config));
        errors
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let mut out = self.generator.plan(proposed);
        for (name, default) in self.generator.defaults() {
            if out.get(name).is_none_or(Value::is_null) {
                out = with_attr(&out, name, default);
            }
        }
        Ok(out)
    }

    fn makes_outside_objects(&self) -> bool {
        false
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        // The value lives in state only and never changes on refresh.
        Ok(id_of(prior).map(|_| prior.clone()))
    }

    async fn find(&self, _planned: &Value) -> ProviderResult<Option<Value>> {
        // Nothing exists outside the state: a create cut off made nothing.
        Ok(None)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let planned = self
            .plan(None, planned.clone())
            .map_err(ProviderError::new)?;
        self.generator
            .generate(&planned)
            .map_err(ProviderError::new)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Every argument replaces; only values equal to the prior ones (a
        // default now written out) reach here. Keep what was generated.
        let mut out = planned.clone();
        if let Some(prior) = prior.as_map() {
            for (name, attr) in &self.schema.attributes {
                if attr.computed
                    && let Some(v) = prior.get(name)
                {
                    out = with_attr(&out, name, v.clone());
                }
            }
        }
        Ok(out)
    }

    async fn delete(&self, _prior: &Value) -> ProviderResult<()> {
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let imported = self.generator.import(id).map_err(ProviderError::new)?;
        Ok(with_attr(&imported, "keepers", Value::Null))
    }
}

/// The `random` provider. It takes no configuration, so an empty
/// `provider "random" {}` block (and any alias of it) is accepted.
pub struct RandomProvider;

#[async_trait]
impl Provider for RandomProvider {
    fn name(&self) -> &'static str {
        RANDOM_PROVIDER
    }

    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        vec![
            ("random_id", Arc::new(Random::new(id::RandomId))),
            (
                "random_integer",
                Arc::new(Random::new(integer::RandomInteger)),
            ),
            (
                "random_password",
                Arc::new(Random::new(password::RandomPassword)),
            ),
            ("random_pet", Arc::new(Random::new(pet::RandomPet))),
            (
                "random_shuffle",
                Arc::new(Random::new(shuffle::RandomShuffle)),
            ),
            ("random_string", Arc::new(Random::new(string::RandomString))),
            ("random_uuid", Arc::new(Random::new(uuid::RandomUuid))),
        ]
    }

    fn data_sources(&self) -> Vec<(&'static str, Arc<dyn DataSource>)> {
        Vec::new()
    }

    fn instance(&self) -> Option<Arc<dyn Provider>> {
        Some(Arc::new(RandomProvider))
    }
}
