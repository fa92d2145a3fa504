//! The provider protocol: in-process and async, modelled on Terraform's plugin
//! protocol. A provider is a set of resource types; the engine finds each type
//! by name in a [`Registry`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::HashMap;

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

    /// Whether this type's objects exist outside the state (a container, a
    /// bucket, a file). Apply then waits until the journal holds its intent
    /// durably before each provider call, so a crash cannot leave an object
    /// nobody recorded. A type whose objects live only in the state
    /// (`null_resource`, `random_id`) answers false: nothing of it can be
    /// orphaned, so its intents are queued like outcomes, made durable by the
    /// journal's next group fsync while apply goes on without waiting.
    fn makes_outside_objects(&self) -> bool {
        true
    }

    /// The object as it exists now; `None` when it is gone.
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>>;

    /// How many recorded objects one [`read_many`](Self::read_many) call
    /// takes at refresh; 1 reads them one by one. The default is 1 for a type
    /// with objects outside the state, and 256 for one without: its read
    /// copies the prior, so a task per object would be all overhead.
    fn read_batch_size(&self) -> usize {
        if self.makes_outside_objects() { 1 } else { 256 }
    }

    /// Reads several recorded objects at once, one result per prior, in
    /// order. A type whose API describes many objects in one call (EC2's
    /// Describe* calls filter by a list of ids) overrides this and
    /// [`read_batch_size`](Self::read_batch_size); the default reads each.
    async fn read_many(&self, priors: &[Value]) -> Vec<ProviderResult<Option<Value>>> {
        let mut out = Vec::with_capacity(priors.len());
        for prior in priors {
            out.push(self.read(prior).await);
        }
        out
    }
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

    /// Where the provider comes from, as Terraform names it in state:
    /// `registry.terraform.io/hashicorp/aws`.
    fn source(&self) -> String {
        source_of(self.name())
    }

    /// A fresh, unconfigured instance of this provider, with its own types
    /// and client, for another configuration of it
    /// (`provider "aws" { alias = "use1" ... }`). `None`: the provider has
    /// one configuration only, and an `alias` block for it is an error.
    fn instance(&self) -> Option<Arc<dyn Provider>> {
        None
    }
}

/// Which configuration of a provider a block uses: `aws` (the default one)
/// or `aws.use1` (`provider "aws" { alias = "use1" }`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
}

impl ProviderRef {
    pub fn new(name: impl Into<String>, alias: Option<String>) -> ProviderRef {
        ProviderRef {
            name: name.into(),
            alias,
        }
    }

    /// The default configuration of `name`.
    pub fn default_of(name: impl Into<String>) -> ProviderRef {
        ProviderRef::new(name, None)
    }

    /// Reads what state, a journal or a plan records: Terraform's form
    /// (`provider["registry.terraform.io/hashicorp/aws"]`, with `.use1`
    /// after it for an alias), or the bare name (`aws`) that earlier dumcel
    /// versions recorded, or `aws.use1`.
    pub fn parse_recorded(recorded: &str) -> Option<ProviderRef> {
        let s = recorded.trim();
        if let Some(rest) = s.strip_prefix("provider[\"") {
            let (source, after) = rest.split_once("\"]")?;
            let name = source.rsplit('/').next().filter(|n| !n.is_empty())?;
            let alias = match after {
                "" => None,
                a => Some(a.strip_prefix('.').filter(|a| !a.is_empty())?.to_owned()),
            };
            return Some(ProviderRef::new(name, alias));
        }
        if s.is_empty() || s.contains(['[', ']', '"']) {
            return None;
        }
        Some(match s.split_once('.') {
            Some((name, alias)) if !name.is_empty() && !alias.is_empty() => {
                ProviderRef::new(name, Some(alias.to_owned()))
            }
            Some(_) => return None,
            None => ProviderRef::default_of(s),
        })
    }
}

/// As written in configuration: `aws` or `aws.use1`.
impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(a) => write!(f, "{}.{a}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One more configuration of a provider (an alias), with its own types.
#[derive(Clone)]
struct Aliased {
    provider: Arc<dyn Provider>,
    types: HashMap<String, Arc<dyn ResourceType>>,
    data_sources: HashMap<String, Arc<dyn DataSource>>,
}

/// Every provider the engine knows, and its resource types and data sources by name.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    /// Hashed: the plan and the apply look a type up several times per
    /// resource, and a search of the ordered map compared each type name
    /// with a dozen of the 200 that mostly start with `aws_`.
    types: HashMap<String, (String, Arc<dyn ResourceType>)>,
    data_sources: HashMap<String, (String, Arc<dyn DataSource>)>,
    /// `(name, alias)`: the instance of each `alias` configuration.
    aliased: BTreeMap<(String, String), Aliased>,
    /// By provider name, what state records for its default configuration,
    /// written once here: the plan asks for it for every resource.
    recorded: BTreeMap<String, String>,
}

/// Where a provider named `name` comes from, as Terraform names it in state.
pub fn source_of(name: &str) -> String {
    format!("registry.terraform.io/hashicorp/{name}")
}

/// What state records for the default configuration of the provider from
/// `source`: `provider["registry.terraform.io/hashicorp/aws"]`.
fn recorded_default(source: &str) -> String {
    format!("provider[\"{source}\"]")
}

/// Terraform's words when state needs a provider configuration that is gone.
pub fn missing_configuration(address: &str, recorded: &str) -> String {
    format!(
        "To work with {address} its original provider configuration at {recorded} is required, but it has been removed. This occurs when a provider configuration is removed while objects created by that provider still exist in the state. Re-add the provider configuration to destroy {address}, after which you can remove the provider configuration again."
    )
}

fn sorted<'a>(names: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut names: Vec<&str> = names.map(String::as_str).collect();
    names.sort_unstable();
    names
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
        self.recorded
            .insert(name.clone(), recorded_default(&provider.source()));
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

    /// Sorted, as a list for a person.
    pub fn type_names(&self) -> Vec<&str> {
        sorted(self.types.keys())
    }

    pub fn data_source_names(&self) -> Vec<&str> {
        sorted(self.data_sources.keys())
    }

    pub fn providers(&self) -> Vec<&str> {
        self.providers.keys().map(String::as_str).collect()
    }

    /// Makes a fresh instance of provider `name` for its configuration
    /// `alias` (once; a second call for the same alias keeps the first).
    pub fn add_alias(&mut self, name: &str, alias: &str) -> Result<(), String> {
        let key = (name.to_owned(), alias.to_owned());
        if self.aliased.contains_key(&key) {
            return Ok(());
        }
        let Some(base) = self.providers.get(name) else {
            return Err(format!("this dumcel has no provider named \"{name}\""));
        };
        let Some(provider) = base.instance() else {
            return Err(format!(
                "provider \"{name}\" has a single configuration and takes no alias; remove `alias` and use its default configuration"
            ));
        };
        let types = provider
            .resource_types()
            .into_iter()
            .map(|(t, rt)| (t.to_owned(), rt))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|(t, ds)| (t.to_owned(), ds))
            .collect();
        self.aliased.insert(
            key,
            Aliased {
                provider,
                types,
                data_sources,
            },
        );
        Ok(())
    }

    /// The instance behind a provider configuration: the default one, or an
    /// alias made with [`Registry::add_alias`].
    pub fn instance(&self, provider: &ProviderRef) -> Option<&Arc<dyn Provider>> {
        match &provider.alias {
            None => self.providers.get(&provider.name),
            Some(alias) => self
                .aliased
                .get(&(provider.name.clone(), alias.clone()))
                .map(|a| &a.provider),
        }
    }

    /// Whether the configuration exists (an alias must have been added).
    pub fn has_configuration(&self, provider: &ProviderRef) -> bool {
        self.instance(provider).is_some()
    }

    /// Resource type `type_name` as the configuration `provider` serves it.
    pub fn resource_type(
        &self,
        provider: &ProviderRef,
        type_name: &str,
    ) -> Option<&Arc<dyn ResourceType>> {
        match &provider.alias {
            None => self
                .types
                .get(type_name)
                .filter(|(p, _)| *p == provider.name)
                .map(|(_, rt)| rt),
            Some(alias) => self
                .aliased
                .get(&(provider.name.clone(), alias.clone()))?
                .types
                .get(type_name),
        }
    }

    /// Data source `type_name` as the configuration `provider` serves it.
    pub fn data_source_of(
        &self,
        provider: &ProviderRef,
        type_name: &str,
    ) -> Option<&Arc<dyn DataSource>> {
        match &provider.alias {
            None => self
                .data_sources
                .get(type_name)
                .filter(|(p, _)| *p == provider.name)
                .map(|(_, ds)| ds),
            Some(alias) => self
                .aliased
                .get(&(provider.name.clone(), alias.clone()))?
                .data_sources
                .get(type_name),
        }
    }

    /// What state records for a configuration, as Terraform writes it:
    /// `provider["registry.terraform.io/hashicorp/aws"]`, `.use1` after it
    /// for an alias.
    pub fn recorded(&self, provider: &ProviderRef) -> String {
        let default = match self.recorded.get(&provider.name) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(recorded_default(&source_of(&provider.name))),
        };
        match &provider.alias {
            Some(alias) => format!("{default}.{alias}"),
            None => default.into_owned(),
        }
    }

    /// The resource type for an object state (or a journal, or a plan)
    /// records at `address` with provider `recorded`. A recorded provider
    /// that names no provider falls back to the one offering the type (old
    /// states). An alias with no configuration is an error in Terraform's
    /// words: `Err((summary, detail))`.
    pub fn recorded_resource_type(
        &self,
        address: &str,
        recorded: &str,
        type_name: &str,
    ) -> Result<Arc<dyn ResourceType>, (String, String)> {
        let by_type = || {
            self.get(type_name).cloned().ok_or_else(|| {
                (
                    format!("{address}: no provider for resource type \"{type_name}\""),
                    "The state records a resource of a type this dumcel does not know; it cannot be refreshed or destroyed.".to_owned(),
                )
            })
        };
        let Some(provider) = ProviderRef::parse_recorded(recorded) else {
            return by_type();
        };
        if provider.alias.is_some() && !self.has_configuration(&provider) {
            return Err((
                format!("Provider configuration not present for {address}"),
                missing_configuration(address, recorded),
            ));
        }
        match self.resource_type(&provider, type_name) {
            Some(rt) => Ok(rt.clone()),
            None => by_type(),
        }
    }
}
