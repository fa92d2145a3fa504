//! Replacement order: delete-then-create by default, create-then-delete with
//! create_before_destroy. A recording in-memory resource type shows the order.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use dumcel_engine::apply::{ApplyOptions, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::{PlanOptions, Planned, Refreshed, plan};
use dumcel_engine::provider::{Provider, ProviderResult, Registry, ResourceType};
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_planner::{Attribute, Schema, Value};
use dumcel_state::State;

type Log = Arc<Mutex<Vec<String>>>;

struct Recorded {
    schema: Schema,
    log: Log,
}

#[async_trait]
impl ResourceType for Recorded {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(Some(prior.clone()))
    }
    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = planned
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        self.log.lock().unwrap().push(format!("create {name}"));
        let mut m = planned.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::string(name));
        Ok(Value::Map(m))
    }
    async fn update(&self, _: &Value, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }
    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let name = prior
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        self.log.lock().unwrap().push(format!("delete {name}"));
        Ok(())
    }
}

struct Rec(Log);

#[async_trait]
impl Provider for Rec {
    fn name(&self) -> &'static str {
        "rec"
    }
    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new());
        vec![(
            "rec_thing",
            Arc::new(Recorded {
                schema,
                log: self.0.clone(),
            }),
        )]
    }
}

async fn run(dir: &std::path::Path, hcl: &str, state: State, log: &Log) -> State {
    std::fs::write(dir.join("main.hcl"), hcl).unwrap();
    let mut sources = SourceMap::default();
    let module = load_module(dir, &mut sources).unwrap();
    let vars = resolve(&module, &mut sources, &[], &[], None).unwrap();
    let mut registry = Registry::new();
    registry.add(Arc::new(Rec(log.clone())));
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
    let (state, report) = apply(
        stack,
        planned,
        state,
        None,
        Arc::new(Silent),
        &ApplyOptions::default(),
    )
    .await;
    assert!(report.failed.is_empty(), "{report:?}");
    state
}

#[tokio::test]
async fn create_before_destroy_creates_the_replacement_first() {
    for (cbd, expected) in [
        (false, ["delete a", "create b"]),
        (true, ["create b", "delete a"]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log: Log = Arc::default();
        let hcl = |name: &str| {
            format!(
                "resource \"rec_thing\" \"x\" {{\n  name = \"{name}\"\n  lifecycle {{\n    create_before_destroy = {cbd}\n  }}\n}}\n"
            )
        };
        let state = run(dir.path(), &hcl("a"), State::new(), &log).await;
        log.lock().unwrap().clear();
        let state = run(dir.path(), &hcl("b"), state, &log).await;
        assert_eq!(
            *log.lock().unwrap(),
            expected,
            "create_before_destroy = {cbd}"
        );
        assert_eq!(state.resources["rec_thing.x"].attributes["id"], "b");
    }
}
