//! The configuration language: loading `*.hcl` stacks into a [`Module`],
//! with positions kept for every diagnostic.

pub mod ast;
pub mod diagnostics;
pub(crate) mod json_syntax;
pub mod load;
pub mod lower;
pub mod model;
pub mod module_manifest;
pub mod module_source;
mod parse_in_parts;
mod repeated_keys;
pub mod requirements;
pub mod source;
mod walk;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use model::*;
pub use source::{SourceMap, Span};
