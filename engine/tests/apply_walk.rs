//! The apply walk through the library: dependency order, the parallelism bound,
//! "still creating" progress, and the journal recording every completed change.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dumcel_engine::apply::{ApplyOptions, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::hooks::Hooks;
use dumcel_engine::plan::{PlanOptions, Refreshed, plan};
use dumcel_engine::provider::Registry;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_planner::Action;
use dumcel_state::{LocalBackend, State};

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(Instant, String, &'static str)>>,
}

impl Recorder {
    fn push(&self, address: &str, what: &'static str) {
        self.events
            .lock()
            .unwrap()
            .push((Instant::now(), address.to_owned(), what));
    }
    fn at(&self, address: &str, what: &str) -> Instant {
        self.events
            .lock()
            .unwrap()
            .iter()
            .find(|(_, a, w)| a == address && *w == what)
            .map(|(t, _, _)| *t)
            .unwrap_or_else(|| panic!("no {what} event for {address}"))
    }
    fn count(&self, what: &str) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, w)| *w == what)
            .count()
    }
}

impl Hooks for Recorder {
    fn applying(&self, address: &str, _: Action) {
        self.push(address, "start");
    }
    fn still_applying(&self, address: &str, _: Action, _: Duration) {
        self.push(address, "still");
    }
    fn applied(&self, address: &str, _: Action, _: Duration, _: Option<&str>) {
        self.push(address, "done");
    }
}

fn stack(dir: &std::path::Path, hcl: &str) -> Arc<Stack> {
    std::fs::write(dir.join("main.hcl"), hcl).unwrap();
    let mut sources = SourceMap::default();
    let module = load_module(dir, &mut sources).expect("loads");
    let vars = resolve(&module, &mut sources, &[], &[], None).expect("vars");
    let mut registry = Registry::new();
    dumcel_engine::builtin::register(&mut registry);
    Arc::new(Stack::new(module, sources, registry, vars, "default").expect("graph"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walks_in_dependency_order_within_the_parallelism_bound() {
    let dir = tempfile::tempdir().unwrap();
    let s = stack(
        dir.path(),
        r#"
resource "time_sleep" "first" {
  create_duration = "300ms"
}
resource "time_sleep" "second" {
  create_duration = "100ms"
  depends_on      = [time_sleep.first]
}
resource "time_sleep" "a" {
  create_duration = "200ms"
}
resource "time_sleep" "b" {
  create_duration = "200ms"
}
"#,
    );
    let (p, values) = plan(
        &s,
        &State::new(),
        &Refreshed::default(),
        &PlanOptions::default(),
    )
    .await
    .unwrap();
    let backend = LocalBackend::new(dir.path().join("dumcel.tfstate"));
    let lock = backend.lock("apply", Duration::ZERO).unwrap();
    let journal = backend.open_journal(&lock, &State::new(), "apply").unwrap();
    let hooks = Arc::new(Recorder::default());
    let opts = ApplyOptions {
        parallelism: 2,
        progress_interval: Duration::from_millis(100),
        ..ApplyOptions::default()
    };
    let planned = dumcel_engine::plan::Planned {
        plan: p,
        values,
        refreshed: Refreshed::default(),
    };
    let (state, report) = apply(
        s.clone(),
        planned,
        State::new(),
        Some(journal.clone()),
        hooks.clone(),
        &opts,
    )
    .await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.added, 4);
    assert_eq!(state.resources.len(), 4);
    assert!(
        hooks.at("time_sleep.second", "start") >= hooks.at("time_sleep.first", "done"),
        "dependency order"
    );
    assert!(
        hooks.count("still") >= 1,
        "a 300ms create reports progress every 100ms"
    );

    // Never more than two in flight at once.
    let events = hooks.events.lock().unwrap().clone();
    let mut running = 0i32;
    let mut peak = 0;
    let mut sorted = events.clone();
    sorted.sort_by_key(|(t, _, _)| *t);
    for (_, _, what) in &sorted {
        match *what {
            "start" => running += 1,
            "done" => running -= 1,
            _ => {}
        }
        peak = peak.max(running);
    }
    assert!(peak <= 2, "parallelism 2 was exceeded: {peak}");

    // The journal recorded an intent and an outcome for each: dropping it
    // without a snapshot (a crash) loses nothing.
    drop(journal);
    drop(lock);
    let lock = backend.lock("plan", Duration::ZERO).unwrap();
    let loaded = backend.load(&lock).unwrap();
    assert!(loaded.in_flight.is_empty());
    assert_eq!(loaded.state.unwrap().resources.len(), 4);
}
