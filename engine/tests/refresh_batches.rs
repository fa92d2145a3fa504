//! Refresh reads recorded instances in batches of their type's
//! `read_batch_size`: an in-memory provider whose `fake_bulk` type reads up
//! to four objects per call and whose `fake_single` type reads one, with
//! objects kept in a shared set so the test can delete one "outside".

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use dumcel_engine::apply::{ApplyOptions, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::configure::configure_providers;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::{PlanOptions, Planned, plan, refresh};
use dumcel_engine::provider::{Provider, ProviderResult, Registry, ResourceType};
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_planner::{Action, Attribute, Schema, Value};
use dumcel_state::State;

/// What exists "in the cloud", and the size of every read call made.
#[derive(Default)]
struct World {
    objects: Mutex<BTreeSet<String>>,
    reads: Mutex<Vec<(&'static str, usize)>>,
}

struct Thing {
    kind: &'static str,
    batch: usize,
    /// Answers one result too few: a provider bug the engine must report.
    short: bool,
    schema: Schema,
    world: Arc<World>,
}

impl Thing {
    fn current(&self, prior: &Value) -> Option<Value> {
        let id = prior.get("id").and_then(Value::as_str)?;
        self.world
            .objects
            .lock()
            .unwrap()
            .contains(id)
            .then(|| prior.clone())
    }
}

#[async_trait]
impl ResourceType for Thing {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn read_batch_size(&self) -> usize {
        self.batch
    }
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        self.world.reads.lock().unwrap().push((self.kind, 1));
        Ok(self.current(prior))
    }
    async fn read_many(&self, priors: &[Value]) -> Vec<ProviderResult<Option<Value>>> {
        self.world
            .reads
            .lock()
            .unwrap()
            .push((self.kind, priors.len()));
        let mut out: Vec<_> = priors.iter().map(|p| Ok(self.current(p))).collect();
        if self.short {
            out.pop();
        }
        out
    }
    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = planned.get("name").and_then(Value::as_str).unwrap_or("");
        let id = format!("{}-{name}", self.kind);
        self.world.objects.lock().unwrap().insert(id.clone());
        let mut map = planned.as_map().cloned().unwrap_or_default();
        map.insert("id".into(), Value::string(id));
        Ok(Value::Map(map))
    }
    async fn update(&self, _: &Value, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }
    async fn delete(&self, _: &Value) -> ProviderResult<()> {
        Ok(())
    }
}

struct Fake {
    world: Arc<World>,
    short: bool,
}

#[async_trait]
impl Provider for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let schema = Schema::new()
            .attr("name", Attribute::required())
            .attr("id", Attribute::computed());
        let thing = |kind, batch| -> Arc<dyn ResourceType> {
            Arc::new(Thing {
                kind,
                batch,
                short: self.short,
                schema: schema.clone(),
                world: self.world.clone(),
            })
        };
        vec![
            ("fake_bulk", thing("bulk", 4)),
            ("fake_single", thing("single", 1)),
        ]
    }
}

const STACK: &str = r#"
resource "fake_bulk" "b" {
  count = 10
  name  = "b${count.index}"
}
resource "fake_single" "s" {
  count = 3
  name  = "s${count.index}"
}
"#;

fn load(dir: &Path, world: &Arc<World>, short: bool) -> Arc<Stack> {
    let mut sources = SourceMap::default();
    let module = load_module(dir, &mut sources).unwrap();
    let vars = resolve(&module, &mut sources, &[], &[], None).unwrap();
    let mut registry = Registry::new();
    registry.add(Arc::new(Fake {
        world: world.clone(),
        short,
    }));
    Arc::new(Stack::new(module, sources, registry, vars, "default").unwrap())
}

async fn planned(stack: &Arc<Stack>, state: &State) -> Result<Planned, String> {
    let render = |d: dumcel_engine::config::Diagnostics| d.render_plain(&stack.sources);
    configure_providers(stack, state).await.map_err(render)?;
    let refreshed = refresh(&stack.registry, state, 10, &Silent)
        .await
        .map_err(render)?;
    let (plan, values) = plan(stack, state, &refreshed, &PlanOptions::default())
        .await
        .map_err(render)?;
    Ok(Planned {
        plan,
        values,
        refreshed,
    })
}

/// The stack applied on an empty state: its state, and the world.
async fn applied(dir: &Path) -> (State, Arc<World>) {
    std::fs::write(dir.join("main.hcl"), STACK).unwrap();
    let world = Arc::new(World::default());
    let stack = load(dir, &world, false);
    let p = planned(&stack, &State::new()).await.unwrap();
    let (state, report) = apply(
        stack,
        p,
        State::new(),
        None,
        Arc::new(Silent),
        &ApplyOptions::default(),
    )
    .await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    world.reads.lock().unwrap().clear();
    (state, world)
}

#[tokio::test]
async fn instances_are_read_in_batches_of_their_types_size_and_each_gets_its_own_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (state, world) = applied(dir.path()).await;
    // One bulk object deleted outside dumcel.
    world.objects.lock().unwrap().remove("bulk-b7");

    let stack = load(dir.path(), &world, false);
    let p = planned(&stack, &state).await.unwrap();

    let mut reads = world.reads.lock().unwrap().clone();
    reads.sort();
    assert_eq!(
        reads,
        [
            ("bulk", 2),
            ("bulk", 4),
            ("bulk", 4),
            ("single", 1),
            ("single", 1),
            ("single", 1)
        ]
    );
    let changed: Vec<(&str, Action)> = p
        .plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.as_str(), c.action))
        .collect();
    assert_eq!(changed, [("fake_bulk.b[7]", Action::Create)]);
    assert_eq!(p.plan.drift.len(), 1, "{:?}", p.plan.drift);
    assert_eq!(p.plan.drift[0].address, "fake_bulk.b[7]");
    assert_eq!(p.plan.drift[0].action, Action::Delete);
}

#[tokio::test]
async fn a_batch_answered_with_the_wrong_number_of_objects_fails_the_refresh_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (state, world) = applied(dir.path()).await;
    let stack = load(dir.path(), &world, true);
    let Err(err) = planned(&stack, &state).await else {
        panic!("a short batch must fail the refresh");
    };
    assert!(
        err.contains("Provider returned a wrong number of objects"),
        "{err}"
    );
    assert!(err.contains("fake_bulk.b[0]"), "{err}");
}
