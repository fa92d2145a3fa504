//! Dumcel's engine: HCL configuration, evaluation, the provider protocol, and
//! the plan / apply / destroy walks.

pub mod apply;
pub mod builtin;
pub mod config;
pub mod eval;
pub mod format;
pub mod functions;
pub mod hooks;
pub mod plan;
pub mod provider;
pub mod recover;
pub mod stack;
pub mod variables;
