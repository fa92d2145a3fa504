//! Resource types with no cloud behind them, so stacks, tests and benchmarks
//! run anywhere.

mod local_file;
mod local_file_data;
mod null_resource;
mod random;
mod terraform_data;
mod time_sleep;

use std::sync::Arc;

use async_trait::async_trait;

use crate::provider::{DataSource, Provider, ResourceType};

pub use local_file::LocalFile;
pub use local_file_data::LocalFileData;
pub use null_resource::NullResource;
pub use random::{RANDOM_PROVIDER, RandomProvider};
pub use terraform_data::{TERRAFORM_PROVIDER, TerraformData, TerraformProvider};
pub use time_sleep::TimeSleep;

/// The provider name built-in types are recorded under.
pub const PROVIDER: &str = "builtin";

/// The provider of the built-in types; it needs no configuration.
pub struct Builtin;

#[async_trait]
impl Provider for Builtin {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        vec![
            ("null_resource", Arc::new(NullResource::new())),
            ("local_file", Arc::new(LocalFile::new())),
            ("time_sleep", Arc::new(TimeSleep::new())),
        ]
    }

    fn data_sources(&self) -> Vec<(&'static str, Arc<dyn DataSource>)> {
        vec![("local_file", Arc::new(LocalFileData::new()))]
    }

    fn source(&self) -> String {
        format!("terraform.io/builtin/{PROVIDER}")
    }

    /// Nothing to configure: every alias behaves the same.
    fn instance(&self) -> Option<Arc<dyn crate::provider::Provider>> {
        Some(Arc::new(Builtin))
    }
}

/// Adds the built-in providers to a registry: ours, Terraform's own
/// (`terraform_data`, recorded as Terraform records it) and `random`.
pub fn register(registry: &mut crate::provider::Registry) {
    registry.add(Arc::new(Builtin));
    registry.add(Arc::new(TerraformProvider));
    registry.add(Arc::new(RandomProvider));
}

/// Sets `attr` on an object value.
pub(crate) fn with_attr(
    value: &dumcel_planner::Value,
    attr: &str,
    v: dumcel_planner::Value,
) -> dumcel_planner::Value {
    let mut map = value.as_map().cloned().unwrap_or_default();
    map.insert(attr.to_owned(), v);
    dumcel_planner::Value::Map(map)
}

/// The object's `id`, when it has one.
pub(crate) fn id_of(value: &dumcel_planner::Value) -> Option<&str> {
    value.get("id").and_then(|v| v.as_str())
}
