//! Dumcel's engine: HCL configuration, evaluation, the provider protocol, and
//! the plan / apply / destroy walks.

pub mod apply;
pub mod body;
pub mod builtin;
pub mod checks;
pub mod config;
pub mod configure;
pub mod eval;
pub mod format;
pub mod functions;
pub mod hooks;
pub mod lifecycle;
pub mod moves;
pub mod plan;
pub mod plan_json;
pub mod progress;
pub mod provider;
pub mod recover;
pub mod scopes;
pub mod stack;
pub mod variables;
