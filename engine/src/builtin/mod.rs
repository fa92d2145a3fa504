//! Resource types with no cloud behind them, so stacks, tests and benchmarks
//! run anywhere.

mod local_file;
mod null_resource;
mod time_sleep;

use std::sync::Arc;

use crate::provider::Registry;

pub use local_file::LocalFile;
pub use null_resource::NullResource;
pub use time_sleep::TimeSleep;

/// The provider name built-in types are recorded under.
pub const PROVIDER: &str = "builtin";

pub fn register(registry: &mut Registry) {
    registry.register(PROVIDER, "null_resource", Arc::new(NullResource::new()));
    registry.register(PROVIDER, "local_file", Arc::new(LocalFile::new()));
    registry.register(PROVIDER, "time_sleep", Arc::new(TimeSleep::new()));
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
