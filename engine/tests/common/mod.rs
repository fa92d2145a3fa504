//! What the engine's walk tests share: the stack in a directory planned
//! against `state` and applied, with one in-memory provider.

use std::path::Path;
use std::sync::Arc;

use dumcel_engine::apply::{ApplyOptions, ApplyReport, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::{PlanOptions, Planned, Refreshed, plan};
use dumcel_engine::provider::{Provider, Registry};
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_state::{Journal, State};

/// Plans the stack in `dir` against `state` and applies it.
pub async fn plan_and_apply(
    dir: &Path,
    provider: Arc<dyn Provider>,
    state: State,
    journal: Option<Journal>,
    opts: &ApplyOptions,
) -> (State, ApplyReport) {
    let mut sources = SourceMap::default();
    let module = load_module(dir, &mut sources).unwrap();
    let vars = resolve(&module, &mut sources, &[], &[], None).unwrap();
    let mut registry = Registry::new();
    registry.add(provider);
    let stack = Arc::new(Stack::new(module, sources, registry, vars, "default").unwrap());
    let (p, values) = plan(
        &stack,
        &state,
        &Refreshed::default(),
        &PlanOptions::default(),
    )
    .await
    .unwrap();
    let planned = Planned {
        plan: p,
        values,
        refreshed: Refreshed::default(),
    };
    apply(stack, planned, state, journal, Arc::new(Silent), opts).await
}
