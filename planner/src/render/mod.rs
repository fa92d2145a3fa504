//! Rendering plans and values for people and for machines.
//!
//! The human plan mirrors Terraform 1.x (with "Dumcel" in place of
//! "Terraform"): a header per change, a `resource "TYPE" "NAME" { ... }` block
//! with per-attribute markers, aligned names, hidden unchanged attributes,
//! heredoc line diffs and `jsonencode(...)` diffs of JSON strings. The JSON
//! plan follows Terraform's `show -json` shape; the README's "Plan JSON" section documents it.
//!
//! A sensitive value's content never reaches any output of this module: every
//! renderer checks the mark before it looks inside a value.

mod diff;
mod human;
mod json;
mod module_tree;
mod plain;
mod state_json;
mod style;

#[cfg(test)]
mod tests;

use crate::plan::{Plan, Summary};
use crate::value::Value;

/// How human output is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Emit ANSI colours and bold. Without it the output holds no escape bytes.
    pub color: bool,
}

/// The human plan, as Terraform prints it: the drift section (if any), then
/// either "No changes." or the legend, the actions, the summary line and the
/// changes to outputs. Ends with a newline.
pub fn human_plan(plan: &Plan, opts: &RenderOptions) -> String {
    human::plan(plan, opts)
}

/// Only the drift section ("Objects have changed outside of Dumcel"), or an
/// empty string when refresh found nothing. Ends with the horizontal rule and
/// a newline.
pub fn human_drift(plan: &Plan, opts: &RenderOptions) -> String {
    human::drift(plan, opts)
}

/// `Plan: 1 to add, 2 to change, 0 to destroy.`
pub fn summary_line(summary: &Summary) -> String {
    let import = if summary.import > 0 {
        format!("{} to import, ", summary.import)
    } else {
        String::new()
    };
    format!(
        "Plan: {import}{} to add, {} to change, {} to destroy.",
        summary.add, summary.change, summary.destroy
    )
}

/// The machine-readable plan (`plan -json`, `show -json PLANFILE`); see
/// the README's "Plan JSON" section for the field names.
pub fn json_plan(plan: &Plan) -> serde_json::Value {
    json::plan(plan)
}

/// The state as `show -json` prints it, in Terraform's shape:
/// `{format_version, terraform_version, dumcel_version, serial, lineage,
/// values: {outputs, root_module: {resources, child_modules}}}`, sensitive
/// values `null` and marked in `sensitive_values`. A plan's `prior_state` is
/// the same document.
pub fn json_state(state: &dumcel_state::State) -> serde_json::Value {
    state_json::document(state)
}

/// A resource instance's attributes for `dumcel show` / `state show`:
///
/// ```text
/// # null_resource.a:
/// resource "null_resource" "a" {
///     id       = "123"
///     triggers = {
///         "x" = "1"
///     }
/// }
/// ```
///
/// Null attributes (and empty nested-block lists) are left out; sensitive
/// values print as `(sensitive value)`. Data sources print as `data "T" "N"`.
/// Ends with a newline.
pub fn human_resource(
    address: &str,
    resource_type: &str,
    value: &Value,
    opts: &RenderOptions,
) -> String {
    plain::resource(address, resource_type, value, opts)
}

/// A value in HCL-ish syntax, as `output` and `console` print it: strings
/// quoted, maps as `{ "k" = v }` and lists as `[ v, ]` over several lines,
/// multi-line strings as `<<-EOT` heredocs. `indent` is the column of the line
/// the value starts on: nested lines are indented two more per level, and the
/// closing bracket sits at `indent`. No trailing newline.
pub fn human_value(value: &Value, indent: usize) -> String {
    plain::value(value, indent)
}
