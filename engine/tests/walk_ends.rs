//! How the apply walk ends when a provider panics, the apply is interrupted
//! or the state journal cannot be written: every node is accounted for, none
//! silently dropped, no provider call made that is not journaled first. An
//! in-memory resource type stands in for a provider (this tests the walk,
//! not a service).

mod common;

use common::plan_and_apply;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use dumcel_engine::apply::{ApplyOptions, ApplyReport};
use dumcel_engine::provider::{Provider, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};
use dumcel_state::{Journal, LocalBackend, State};

/// Creates objects, and panics on one named "boom"; counts its calls.
struct Fragile(Schema, Arc<AtomicUsize>);

#[async_trait]
impl ResourceType for Fragile {
    fn schema(&self) -> &Schema {
        &self.0
    }
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(Some(prior.clone()))
    }
    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        self.1.fetch_add(1, Ordering::SeqCst);
        let name = planned.get("name").and_then(Value::as_str).unwrap_or("");
        assert_ne!(name, "boom", "a provider bug");
        let mut m = planned.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::string(name));
        Ok(Value::Map(m))
    }
    async fn update(&self, _: &Value, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }
    async fn delete(&self, _: &Value) -> ProviderResult<()> {
        Ok(())
    }
}

struct FragileProvider(Arc<AtomicUsize>);

#[async_trait]
impl Provider for FragileProvider {
    fn name(&self) -> &'static str {
        "fragile"
    }
    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new());
        vec![("fragile_thing", Arc::new(Fragile(schema, self.0.clone())))]
    }
}

const STACK: &str = r#"
resource "fragile_thing" "ok" {
  name = "ok"
}
resource "fragile_thing" "boom" {
  name = "boom"
}
resource "fragile_thing" "after_boom" {
  name = "after-${fragile_thing.boom.id}"
}
resource "fragile_thing" "after_that" {
  name = "then-${fragile_thing.after_boom.id}"
}
"#;

async fn run(opts: &ApplyOptions) -> (State, ApplyReport) {
    run_journaled(opts, None, Arc::default()).await
}

async fn run_journaled(
    opts: &ApplyOptions,
    journal: Option<Journal>,
    calls: Arc<AtomicUsize>,
) -> (State, ApplyReport) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), STACK).unwrap();
    plan_and_apply(
        dir.path(),
        Arc::new(FragileProvider(calls)),
        State::new(),
        journal,
        opts,
    )
    .await
}

#[tokio::test]
async fn a_panicking_provider_fails_its_node_and_its_dependents_are_reported() {
    let (state, report) = run(&ApplyOptions::default()).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, "fragile_thing.boom");
    assert!(
        report.failed[0].1.contains("stopped unexpectedly"),
        "{report:?}"
    );
    assert_eq!(
        report.skipped,
        ["fragile_thing.after_boom", "fragile_thing.after_that"],
        "dependents are reported as not attempted"
    );
    assert_eq!(report.added, 1);
    assert!(state.resources.contains_key("fragile_thing.ok"));
}

#[tokio::test]
async fn an_interrupted_walk_starts_nothing_new_and_lists_it() {
    let opts = ApplyOptions::default();
    opts.stop.store(true, Ordering::Release);
    let (state, report) = run(&opts).await;
    assert!(state.resources.is_empty(), "nothing started");
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(
        report.interrupted,
        [
            "fragile_thing.after_boom",
            "fragile_thing.after_that",
            "fragile_thing.boom",
            "fragile_thing.ok"
        ]
    );
}

#[tokio::test]
async fn a_journal_that_cannot_be_written_stops_the_walk_before_any_provider_call() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path().join("dumcel.tfstate"));
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    // The remote copy takes the header (batch 0) and fails every commit after.
    let ship: dumcel_state::Ship = Box::new(|batch, _| match batch {
        0 => Ok(()),
        _ => Err(std::io::Error::other("the network is gone")),
    });
    let journal = backend
        .open_journal_shipping(&lock, &State::new(), "apply", "test".into(), Some(ship))
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let (state, report) =
        run_journaled(&ApplyOptions::default(), Some(journal), calls.clone()).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no provider call without a durable intent"
    );
    assert!(state.resources.is_empty());
    assert_eq!(report.added, 0);
    assert!(!report.failed.is_empty(), "{report:?}");
    for (address, error) in &report.failed {
        assert!(
            error.contains("state journal") && error.contains("the network is gone"),
            "{address}: {error}"
        );
    }
}
