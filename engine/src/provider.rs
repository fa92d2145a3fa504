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

    /// Plan-time hook: given the proposed new value (configuration, plus
    /// computed values carried from the prior object or unknown), fill in what
    /// can be known before apply — e.g. the hash of a build context, so a
    /// changed context shows as a change (a `force_new` one replaces). Runs
    /// during plan and again at apply; keep it cheap and side-effect free.
    /// An `Err` is shown to the user as a configuration error.
    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(proposed)
    }

    /// The object as it exists now; `None` when it is gone.
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>>;
    async fn create(&self, planned: &Value) -> ProviderResult<Value>;
    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value>;
    async fn delete(&self, prior: &Value) -> ProviderResult<()>;

    /// Finds the object a create with these planned attributes made, when no
    /// id was recorded: a crash (or a lost response) cut the create off after
    /// the intent was journaled. `planned` holds every attribute known before
    /// the call (unknown ones, such as `id`, are absent). Search by what the
    /// configuration names: a bucket, a name, a family, a cluster and service
    /// name. `Ok(None)` means no such object exists, so the create never
    /// happened; an `Err` keeps the operation pending until it can be told.
    /// The default cannot tell, and says so.
    async fn find(&self, _planned: &Value) -> ProviderResult<Option<Value>> {
        Err(ProviderError::new(
            "this resource type cannot look an object up without its id; check whether it exists, then `dumcel import` it or run `dumcel state rm` on the address",
        ))
    }
    async fn import(&self, id: &str) -> ProviderResult<Value> {
        Err(ProviderError::new(format!(
            "this resource type cannot import existing objects (asked for id {id:?})"
        )))
    }
}

/// A data source: reads something that exists, by its arguments.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn schema(&self) -> &Schema;
    /// The object the arguments select; an error when there is none.
    async fn read(&self, config: &Value) -> ProviderResult<Value>;
}

/// A provider: a named set of resource types and data sources that share one
/// configured client (a Docker connection, AWS credentials and region).
#[async_trait]
pub trait Provider: Send + Sync {
    /// The name used in `provider "NAME" { ... }` blocks and recorded in state.
    fn name(&self) -> &'static str;

    /// The arguments its `provider` block takes.
    fn config_schema(&self) -> Schema {
        Schema::new()
    }

    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)>;

    fn data_sources(&self) -> Vec<(&'static str, Arc<dyn DataSource>)> {
        Vec::new()
    }

    /// Called once before any of its types is used, with the evaluated
    /// `provider` block (an empty object when the stack has none). It should
    /// not contact the service: a stack that never touches it must not fail
    /// because it is unreachable.
    async fn configure(&self, _config: &Value) -> ProviderResult<()> {
        Ok(())
    }
}

/// Every provider the engine knows, and its resource types and data sources by name.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    types: BTreeMap<String, (String, Arc<dyn ResourceType>)>,
    data_sources: BTreeMap<String, (String, Arc<dyn DataSource>)>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn add(&mut self, provider: Arc<dyn Provider>) {
        let name = provider.name().to_owned();
        for (type_name, rt) in provider.resource_types() {
            self.types.insert(type_name.to_owned(), (name.clone(), rt));
        }
        for (type_name, ds) in provider.data_sources() {
            self.data_sources
                .insert(type_name.to_owned(), (name.clone(), ds));
        }
        self.providers.insert(name, provider);
    }

    pub fn get(&self, type_name: &str) -> Option<&Arc<dyn ResourceType>> {
        self.types.get(type_name).map(|(_, rt)| rt)
    }

    pub fn data_source(&self, type_name: &str) -> Option<&Arc<dyn DataSource>> {
        self.data_sources.get(type_name).map(|(_, ds)| ds)
    }

    pub fn provider(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }

    /// The provider a resource type or data source belongs to.
    pub fn provider_of(&self, type_name: &str) -> Option<&str> {
        self.types
            .get(type_name)
            .map(|(p, _)| p.as_str())
            .or_else(|| self.data_sources.get(type_name).map(|(p, _)| p.as_str()))
    }

    pub fn type_names(&self) -> Vec<&str> {
        self.types.keys().map(String::as_str).collect()
    }

    pub fn data_source_names(&self) -> Vec<&str> {
        self.data_sources.keys().map(String::as_str).collect()
    }

    pub fn providers(&self) -> Vec<&str> {
        self.providers.keys().map(String::as_str).collect()
    }
}
