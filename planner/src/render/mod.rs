// TEMPORARY local stub until the render branch merges; never committed.
use crate::{Plan, Summary, Value};
pub struct RenderOptions {
    pub color: bool,
}
pub fn human_plan(plan: &Plan, _o: &RenderOptions) -> String {
    let mut s = String::new();
    for c in &plan.changes {
        if c.action != crate::Action::NoOp {
            s.push_str(&format!("  # {} {:?}\n", c.address, c.action));
        }
    }
    if !plan.has_changes() {
        s.push_str("No changes. Your infrastructure matches the configuration.\n");
    } else {
        s.push_str(&format!("\n{}\n", summary_line(&plan.summary())));
    }
    s
}
pub fn human_drift(plan: &Plan, _o: &RenderOptions) -> String {
    plan.drift
        .iter()
        .map(|d| format!("  # {} has changed\n", d.address))
        .collect()
}
pub fn summary_line(s: &Summary) -> String {
    format!(
        "Plan: {} to add, {} to change, {} to destroy.",
        s.add, s.change, s.destroy
    )
}
pub fn json_plan(plan: &Plan) -> serde_json::Value {
    serde_json::json!({"format_version": "1.0", "resource_changes": plan.changes.iter().map(|c| serde_json::json!({"address": c.address, "change": {"actions": c.action.json_actions()}})).collect::<Vec<_>>()})
}
pub fn human_resource(address: &str, t: &str, v: &Value, _o: &RenderOptions) -> String {
    format!("# {address}:\nresource \"{t}\" {v}\n")
}
pub fn human_value(v: &Value, _i: usize) -> String {
    v.to_string()
}
