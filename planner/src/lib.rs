//! Pure planning for Dumcel: values, schemas, addresses, the dependency graph,
//! the per-attribute diff, the Plan and its rendering. No IO, no async.

pub mod address;
pub mod diff;
pub mod graph;
pub mod map;
pub mod plan;
pub mod render;
pub mod schema;
pub mod value;
pub mod value_codec;

pub use address::{InstanceAddr, InstanceKey, Mode, ModuleStep, ResourceAddr};
pub use diff::{Planned, diff_resource, diff_resource_with};
pub use graph::{CycleError, DependencyGraph};
pub use map::SortedMap;
pub use plan::{Action, Moved, OutputChange, Plan, PlanFileError, ResourceChange, Summary};
pub use schema::{Attribute, NestedBlock, Schema};
pub use value::{Map, Value};
