//! Pure planning for Dumcel: values, schemas, addresses, the dependency graph,
//! the per-attribute diff, the Plan and its rendering. No IO, no async.

pub mod value;

pub use value::{Map, Value};
