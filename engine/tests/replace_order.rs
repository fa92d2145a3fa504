//! Replacement order: delete-then-create by default, create-then-delete with
//! create_before_destroy, where the old object goes only after what depends
//! on it moved to the new one (and stays when that fails, or when the new one
//! could not be made). Recording in-memory resource types show the order.

mod common;

use common::plan_and_apply;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use dumcel_engine::apply::{ApplyOptions, ApplyReport};
use dumcel_engine::provider::{Provider, ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};
use dumcel_state::State;

type Log = Arc<Mutex<Vec<String>>>;

struct Recorded {
    schema: Schema,
    log: Log,
    fail_updates: bool,
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
        if name == "broken" {
            return Err(ProviderError::new("it would not start"));
        }
        self.log.lock().unwrap().push(format!("create {name}"));
        let mut m = planned.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::string(name));
        Ok(Value::Map(m))
    }
    async fn update(&self, _: &Value, planned: &Value) -> ProviderResult<Value> {
        let target = planned
            .get("target")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if self.fail_updates {
            return Err(ProviderError::new("the switch failed"));
        }
        self.log.lock().unwrap().push(format!("point at {target}"));
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

/// The log, and whether `rec_link` updates fail.
struct Rec(Log, bool);

#[async_trait]
impl Provider for Rec {
    fn name(&self) -> &'static str {
        "rec"
    }
    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new());
        let link = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("target", Attribute::required());
        vec![
            (
                "rec_thing",
                Arc::new(Recorded {
                    schema,
                    log: self.0.clone(),
                    fail_updates: false,
                }),
            ),
            (
                "rec_link",
                Arc::new(Recorded {
                    schema: link,
                    log: self.0.clone(),
                    fail_updates: self.1,
                }),
            ),
        ]
    }
}

async fn run(dir: &std::path::Path, hcl: &str, state: State, log: &Log) -> State {
    let (state, report) = run_with(dir, hcl, state, log, false).await;
    assert!(report.failed.is_empty(), "{report:?}");
    state
}

async fn run_with(
    dir: &std::path::Path,
    hcl: &str,
    state: State,
    log: &Log,
    fail_updates: bool,
) -> (State, ApplyReport) {
    std::fs::write(dir.join("main.hcl"), hcl).unwrap();
    plan_and_apply(
        dir,
        Arc::new(Rec(log.clone(), fail_updates)),
        state,
        None,
        &ApplyOptions::default(),
    )
    .await
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

/// A thing replaced before it is destroyed, and a link that points at it.
fn linked(name: &str) -> String {
    format!(
        r#"resource "rec_thing" "x" {{
  name = "{name}"
  lifecycle {{
    create_before_destroy = true
  }}
}}
resource "rec_link" "l" {{
  name   = "link"
  target = rec_thing.x.id
}}
"#
    )
}

#[tokio::test]
async fn the_old_object_goes_only_after_its_dependents_moved_to_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::default();
    let state = run(dir.path(), &linked("a"), State::new(), &log).await;
    log.lock().unwrap().clear();
    let state = run(dir.path(), &linked("b"), state, &log).await;
    assert_eq!(*log.lock().unwrap(), ["create b", "point at b", "delete a"]);
    assert_eq!(state.resources["rec_link.l"].attributes["target"], "b");
    assert!(!state.resources.contains_key("rec_thing.x (deposed)"));
}

#[tokio::test]
async fn when_a_dependent_fails_the_old_object_stays_deposed_and_the_next_apply_deletes_it() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::default();
    let state = run(dir.path(), &linked("a"), State::new(), &log).await;
    log.lock().unwrap().clear();
    let (state, report) = run_with(dir.path(), &linked("b"), state, &log, true).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, "rec_link.l");
    assert_eq!(*log.lock().unwrap(), ["create b"], "a is not deleted");
    assert_eq!(
        state.resources["rec_thing.x (deposed)"].attributes["name"],
        "a"
    );
    assert_eq!(state.resources["rec_link.l"].attributes["target"], "a");

    log.lock().unwrap().clear();
    let state = run(dir.path(), &linked("b"), state, &log).await;
    assert_eq!(*log.lock().unwrap(), ["point at b", "delete a"]);
    assert!(!state.resources.contains_key("rec_thing.x (deposed)"));
}

#[tokio::test]
async fn a_replacement_that_could_not_be_made_leaves_the_old_object_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::default();
    let state = run(dir.path(), &linked("a"), State::new(), &log).await;
    log.lock().unwrap().clear();
    let (state, report) = run_with(dir.path(), &linked("broken"), state, &log, false).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.skipped, ["rec_link.l"]);
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
    assert_eq!(state.resources["rec_thing.x"].attributes["name"], "a");
    assert!(!state.resources.contains_key("rec_thing.x (deposed)"));
}

#[tokio::test]
async fn replacing_again_while_an_old_object_is_still_deposed_deletes_that_one_first() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::default();
    let state = run(dir.path(), &linked("a"), State::new(), &log).await;
    let (state, _) = run_with(dir.path(), &linked("b"), state, &log, true).await;
    assert!(state.resources.contains_key("rec_thing.x (deposed)"));
    log.lock().unwrap().clear();

    let state = run(dir.path(), &linked("c"), state, &log).await;
    assert_eq!(
        *log.lock().unwrap(),
        ["delete a", "create c", "point at c", "delete b"]
    );
    assert!(!state.resources.contains_key("rec_thing.x (deposed)"));
    assert_eq!(state.resources["rec_link.l"].attributes["target"], "c");
}
