//! The provider protocol: in-process and async, modelled on Terraform's plugin
//! protocol. A provider is a set of resource types; the engine finds each type
//! by name in a [`Registry`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use dumcel_planner::{Schema, Value};

/// A provider call that failed, with the cloud's own message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub message: String,
    /// What a create made before it failed, so it is recorded (tainted) and
    /// never orphaned.
    pub partial: Option<Value>,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> ProviderError {
        ProviderError {
            message: message.into(),
            partial: None,
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// One resource type. Values passed in and out are objects keyed by attribute
/// name, without sensitive marks (the engine re-applies them from the schema).
#[async_trait]
pub trait ResourceType: Send + Sync {
    fn schema(&self) -> &Schema;

    /// Checks an evaluated configuration beyond what the schema says (types,
    /// allowed values). Returns (attribute, message) pairs; empty when valid.
    fn validate(&self, _config: &Value) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The object as it exists now; `None` when it is gone.
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>>;
    async fn create(&self, planned: &Value) -> ProviderResult<Value>;
    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value>;
    async fn delete(&self, prior: &Value) -> ProviderResult<()>;
    async fn import(&self, id: &str) -> ProviderResult<Value> {
        Err(ProviderError::new(format!(
            "this resource type cannot import existing objects (asked for id {id:?})"
        )))
    }
}

/// Every resource type the engine knows, with the provider each belongs to.
#[derive(Clone, Default)]
pub struct Registry {
    types: BTreeMap<String, (String, Arc<dyn ResourceType>)>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn register(&mut self, provider: &str, type_name: &str, rt: Arc<dyn ResourceType>) {
        self.types
            .insert(type_name.to_owned(), (provider.to_owned(), rt));
    }

    pub fn get(&self, type_name: &str) -> Option<&Arc<dyn ResourceType>> {
        self.types.get(type_name).map(|(_, rt)| rt)
    }

    pub fn provider_of(&self, type_name: &str) -> Option<&str> {
        self.types.get(type_name).map(|(p, _)| p.as_str())
    }

    pub fn type_names(&self) -> Vec<&str> {
        self.types.keys().map(String::as_str).collect()
    }

    pub fn providers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.types.values().map(|(p, _)| p.as_str()).collect();
        names.dedup();
        names
    }
}
