//! Plan and apply walks as the CLI runs them, for the provider's stack
//! tests (networking, IAM, S3's split types): a stack directory loaded with a
//! fresh AWS provider, refreshed, planned and applied through the engine.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use dumcel_engine::apply::{ApplyOptions, ApplyReport, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::configure::configure_providers;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::{PlanOptions, Planned, plan, refresh};
use dumcel_engine::provider::Registry;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_planner::Action;
use dumcel_provider_aws::Aws;
use dumcel_state::State;

/// A stack directory, loaded with a fresh AWS provider configured from its
/// `provider "aws"` block, as each CLI run does.
pub async fn load(dir: &Path, state: &State) -> Arc<Stack> {
    let mut sources = SourceMap::default();
    let module = load_module(dir, &mut sources).unwrap_or_else(|d| panic!("{d}"));
    let vars = resolve(&module, &mut sources, &[], &[], None).unwrap_or_else(|d| panic!("{d}"));
    let mut registry = Registry::new();
    registry.add(Arc::new(Aws::new()));
    let stack =
        Stack::new(module, sources, registry, vars, "default").unwrap_or_else(|d| panic!("{d}"));
    configure_providers(&stack, state)
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    Arc::new(stack)
}

/// Refreshes and plans, as `dumcel plan` does.
pub async fn plan_of(dir: &Path, state: &State, destroy: bool) -> (Arc<Stack>, Planned) {
    let stack = load(dir, state).await;
    let refreshed = refresh(&stack.registry, state, 10, &Silent)
        .await
        .unwrap_or_else(|d| panic!("refresh: {d}"));
    let opts = PlanOptions {
        destroy,
        ..PlanOptions::default()
    };
    let (p, values) = plan(&stack, state, &refreshed, &opts)
        .await
        .unwrap_or_else(|d| panic!("plan: {d}"));
    (
        stack,
        Planned {
            plan: p,
            values,
            refreshed,
        },
    )
}

/// Every change that is not a no-op, by address.
pub fn changes(p: &Planned) -> BTreeMap<String, Action> {
    p.plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

pub fn want(pairs: &[(&str, Action)]) -> BTreeMap<String, Action> {
    pairs.iter().map(|(a, x)| (a.to_string(), *x)).collect()
}

pub async fn apply_plan(
    stack: Arc<Stack>,
    p: Planned,
    state: State,
    destroy: bool,
) -> (State, ApplyReport) {
    let opts = ApplyOptions {
        destroy,
        ..ApplyOptions::default()
    };
    let (state, report) = apply(stack, p, state, None, Arc::new(Silent), &opts).await;
    assert!(
        report.failed.is_empty() && report.skipped.is_empty(),
        "apply failed: {:?}, skipped {:?}",
        report.failed,
        report.skipped
    );
    (state, report)
}

/// Plans and applies; the plan must not be empty.
pub async fn plan_apply(dir: &Path, state: State, destroy: bool) -> (State, ApplyReport) {
    let (stack, p) = plan_of(dir, &state, destroy).await;
    apply_plan(stack, p, state, destroy).await
}

/// A recorded attribute as text.
pub fn attr(state: &State, address: &str, key: &str) -> String {
    state
        .resources
        .get(address)
        .unwrap_or_else(|| panic!("{address} is not in state"))
        .attributes
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{address}.{key} is not recorded"))
        .to_owned()
}
