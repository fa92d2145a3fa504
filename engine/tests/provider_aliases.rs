//! Provider aliases, as Terraform has them: `provider "fake" { alias = "use1" }`
//! beside the default configuration, `provider = fake.use1` on a resource or
//! data block, and `providers = { fake = fake.use1 }` on a module call. An
//! in-memory provider whose every instance is configured with a region and
//! stamps it on what it makes and reads, so each test sees which
//! configuration served which block.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;

use dumcel_engine::apply::{ApplyOptions, ApplyReport, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::configure::configure_providers;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::{PlanOptions, Planned, Refreshed, plan, refresh};
use dumcel_engine::provider::{
    DataSource, Provider, ProviderRef, ProviderResult, Registry, ResourceType,
};
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_planner::{Action, Attribute, Schema, Value};
use dumcel_state::State;

/// (region of the instance that made the call, operation, name).
type Calls = Arc<Mutex<Vec<(String, &'static str, String)>>>;

/// One configuration of the fake provider.
struct Fake {
    region: Arc<OnceLock<String>>,
    calls: Calls,
}

impl Fake {
    fn new(calls: Calls) -> Fake {
        Fake {
            region: Arc::default(),
            calls,
        }
    }
}

struct Thing {
    schema: Schema,
    region: Arc<OnceLock<String>>,
    calls: Calls,
}

impl Thing {
    fn region(&self) -> String {
        self.region
            .get()
            .cloned()
            .unwrap_or_else(|| "unconfigured".into())
    }
    fn log(&self, op: &'static str, v: &Value) {
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        self.calls.lock().unwrap().push((self.region(), op, name));
    }
    fn stamped(&self, v: &Value) -> Value {
        let mut map = v.as_map().cloned().unwrap_or_default();
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        map.insert(
            "id".into(),
            Value::string(format!("{}/{name}", self.region())),
        );
        map.insert("region".into(), Value::string(self.region()));
        Value::Map(map)
    }
}

#[async_trait]
impl ResourceType for Thing {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        self.log("read", prior);
        // An object lives in the region that made it: another region's
        // instance does not find it.
        let made_in = prior.get("region").and_then(Value::as_str).unwrap_or("");
        Ok((made_in == self.region()).then(|| prior.clone()))
    }
    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        self.log("create", planned);
        Ok(self.stamped(planned))
    }
    async fn update(&self, _: &Value, planned: &Value) -> ProviderResult<Value> {
        self.log("update", planned);
        Ok(self.stamped(planned))
    }
    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        self.log("delete", prior);
        Ok(())
    }
}

struct Where {
    schema: Schema,
    region: Arc<OnceLock<String>>,
}

#[async_trait]
impl DataSource for Where {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, _: &Value) -> ProviderResult<Value> {
        let region = self.region.get().cloned().unwrap_or_default();
        Ok(Value::Map(
            [("name".to_owned(), Value::string(region))]
                .into_iter()
                .collect(),
        ))
    }
}

#[async_trait]
impl Provider for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn config_schema(&self) -> Schema {
        Schema::new().attr("region", Attribute::required())
    }
    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let schema = Schema::new()
            .attr("name", Attribute::required())
            .attr("id", Attribute::computed())
            .attr("region", Attribute::computed());
        vec![(
            "fake_thing",
            Arc::new(Thing {
                schema,
                region: self.region.clone(),
                calls: self.calls.clone(),
            }),
        )]
    }
    fn data_sources(&self) -> Vec<(&'static str, Arc<dyn DataSource>)> {
        vec![(
            "fake_region",
            Arc::new(Where {
                schema: Schema::new().attr("name", Attribute::computed()),
                region: self.region.clone(),
            }),
        )]
    }
    async fn configure(&self, config: &Value) -> ProviderResult<()> {
        let region = config
            .get("region")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_owned();
        let _ = self.region.set(region);
        Ok(())
    }
    fn instance(&self) -> Option<Arc<dyn Provider>> {
        Some(Arc::new(Fake::new(self.calls.clone())))
    }
}

/// A stack directory with `main.hcl` and, optionally, `mod/main.hcl`.
fn write(dir: &Path, main: &str, module: Option<&str>) {
    std::fs::write(dir.join("main.hcl"), main).unwrap();
    if let Some(m) = module {
        std::fs::create_dir_all(dir.join("mod")).unwrap();
        std::fs::write(dir.join("mod/main.hcl"), m).unwrap();
    }
}

/// Loads the stack, with a fresh fake provider logging to `calls`.
fn load(dir: &Path, calls: &Calls) -> Result<Arc<Stack>, String> {
    let mut sources = SourceMap::default();
    let module = load_module(dir, &mut sources).map_err(|d| d.render_plain(&sources))?;
    let vars =
        resolve(&module, &mut sources, &[], &[], None).map_err(|d| d.render_plain(&sources))?;
    let mut registry = Registry::new();
    registry.add(Arc::new(Fake::new(calls.clone())));
    Stack::new(module, sources.clone(), registry, vars, "default")
        .map(Arc::new)
        .map_err(|d| d.render_plain(&sources))
}

/// Configures, refreshes and plans as the CLI does.
async fn plan_of(stack: &Arc<Stack>, state: &State, opts: &PlanOptions) -> Result<Planned, String> {
    let render = |d: dumcel_engine::config::Diagnostics| d.render_plain(&stack.sources);
    configure_providers(stack, state).await.map_err(render)?;
    let refreshed = if opts.refresh {
        refresh(&stack.registry, state, 10, &Silent)
            .await
            .map_err(render)?
    } else {
        Refreshed::default()
    };
    let (plan, values) = plan(stack, state, &refreshed, opts).await.map_err(render)?;
    Ok(Planned {
        plan,
        values,
        refreshed,
    })
}

/// Loads, plans and applies the stack in `dir` against `state`.
async fn apply_dir(dir: &Path, calls: &Calls, state: State) -> (State, ApplyReport) {
    let stack = load(dir, calls).unwrap_or_else(|e| panic!("{e}"));
    let planned = plan_of(&stack, &state, &PlanOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (state, report) = apply(
        stack,
        planned,
        state,
        None,
        Arc::new(Silent),
        &ApplyOptions::default(),
    )
    .await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    (state, report)
}

fn attr(state: &State, address: &str, name: &str) -> String {
    let inst = state
        .resources
        .get(address)
        .unwrap_or_else(|| panic!("{address} not in state: {:?}", state.resources.keys()));
    inst.attributes[name]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const TWO_CONFIGS: &str = r#"
provider "fake" {
  region = "eu-west-1"
}
provider "fake" {
  alias  = "use1"
  region = "us-east-1"
}
resource "fake_thing" "home" {
  name = "home"
}
resource "fake_thing" "away" {
  provider = fake.use1
  name     = "away"
}
data "fake_region" "here" {}
data "fake_region" "there" {
  provider = fake.use1
}
resource "fake_thing" "named" {
  name = "from-${data.fake_region.there.name}"
}
"#;

#[tokio::test]
async fn two_configurations_of_one_provider_each_get_their_own_resources() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), TWO_CONFIGS, None);
    let calls = Calls::default();
    let (state, report) = apply_dir(dir.path(), &calls, State::new()).await;
    assert_eq!(report.added, 3);

    assert_eq!(attr(&state, "fake_thing.home", "region"), "eu-west-1");
    assert_eq!(attr(&state, "fake_thing.away", "region"), "us-east-1");
    // The data source read through the alias saw the alias's region.
    assert_eq!(attr(&state, "fake_thing.named", "name"), "from-us-east-1");
    let created: Vec<(String, String)> = calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, op, _)| *op == "create")
        .map(|(r, _, n)| (n.clone(), r.clone()))
        .collect();
    assert!(
        created.contains(&("away".into(), "us-east-1".into())),
        "{created:?}"
    );
    assert!(
        created.contains(&("home".into(), "eu-west-1".into())),
        "{created:?}"
    );

    // State records the configuration as Terraform does.
    assert_eq!(
        state.resources["fake_thing.away"].provider,
        r#"provider["registry.terraform.io/hashicorp/fake"].use1"#
    );
    assert_eq!(
        state.resources["fake_thing.home"].provider,
        r#"provider["registry.terraform.io/hashicorp/fake"]"#
    );

    // A second plan reads each object through its own configuration (the
    // fake finds an object only in its own region) and has nothing to do.
    calls.lock().unwrap().clear();
    let stack = load(dir.path(), &calls).unwrap();
    let planned = plan_of(&stack, &state, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!planned.plan.has_changes(), "{:?}", planned.plan.changes);
    let reads = calls.lock().unwrap().clone();
    assert!(
        reads.contains(&("us-east-1".into(), "read", "away".into())),
        "{reads:?}"
    );
    assert!(
        reads.contains(&("eu-west-1".into(), "read", "home".into())),
        "{reads:?}"
    );
}

const MODULE_ROOT: &str = r#"
provider "fake" {
  region = "eu-west-1"
}
provider "fake" {
  alias  = "use1"
  region = "us-east-1"
}
module "mapped" {
  source    = "./mod"
  name      = "mapped"
  providers = { fake = fake.use1, fake.dst = fake.use1 }
}
module "inherited" {
  source    = "./mod"
  name      = "inherited"
  providers = { fake.dst = fake }
}
"#;

const MODULE: &str = r#"
variable "name" {}
resource "fake_thing" "this" {
  name = var.name
}
resource "fake_thing" "copy" {
  provider = fake.dst
  name     = "${var.name}-copy"
}
"#;

#[tokio::test]
async fn a_module_call_maps_the_providers_its_resources_use() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), MODULE_ROOT, Some(MODULE));
    let calls = Calls::default();
    let (state, _) = apply_dir(dir.path(), &calls, State::new()).await;

    // providers = { fake = fake.use1 }: the module's default is the alias.
    assert_eq!(
        attr(&state, "module.mapped.fake_thing.this", "region"),
        "us-east-1"
    );
    assert_eq!(
        attr(&state, "module.mapped.fake_thing.copy", "region"),
        "us-east-1"
    );
    // Not mapped: the default is inherited; fake.dst = fake is the root default.
    assert_eq!(
        attr(&state, "module.inherited.fake_thing.this", "region"),
        "eu-west-1"
    );
    assert_eq!(
        attr(&state, "module.inherited.fake_thing.copy", "region"),
        "eu-west-1"
    );
    assert_eq!(
        state.resources["module.mapped.fake_thing.this"].provider,
        r#"provider["registry.terraform.io/hashicorp/fake"].use1"#
    );

    let stack = load(dir.path(), &calls).unwrap();
    let planned = plan_of(&stack, &state, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!planned.plan.has_changes(), "{:?}", planned.plan.changes);
}

#[tokio::test]
async fn an_alias_without_a_provider_block_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "provider \"fake\" {\n  region = \"eu-west-1\"\n}\nresource \"fake_thing\" \"a\" {\n  provider = fake.use2\n  name     = \"a\"\n}\n",
        None,
    );
    let err = load(dir.path(), &Calls::default()).err().expect("refused");
    assert!(err.contains("main.hcl:5"), "{err}");
    assert!(err.contains("Provider configuration not present"), "{err}");
    assert!(
        err.contains(r#"provider "fake" { alias = "use2" ... }"#),
        "{err}"
    );

    // A module that uses an alias its call does not pass: the fix is the map.
    write(
        dir.path(),
        "module \"m\" {\n  source = \"./mod\"\n  name   = \"m\"\n}\n",
        Some(MODULE),
    );
    let err = load(dir.path(), &Calls::default()).err().expect("refused");
    assert!(err.contains("mod/main.hcl:7"), "{err}");
    assert!(
        err.contains("providers = { fake.dst = fake.ALIAS }"),
        "{err}"
    );
}

#[tokio::test]
async fn state_records_the_alias_and_an_old_state_without_one_still_plans_empty() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), TWO_CONFIGS, None);
    let calls = Calls::default();
    let (state, _) = apply_dir(dir.path(), &calls, State::new()).await;

    // Round trip through the JSON format.
    let back = State::from_json(&state.to_json_pretty()).unwrap();
    assert_eq!(back, state);
    let text = String::from_utf8(state.to_json_pretty()).unwrap();
    assert!(
        text.contains(r#""provider": "provider[\"registry.terraform.io/hashicorp/fake\"].use1""#),
        "{text}"
    );
    let stack = load(dir.path(), &calls).unwrap();
    let planned = plan_of(&stack, &back, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!planned.plan.has_changes(), "{:?}", planned.plan.changes);

    // A state an earlier dumcel wrote records the bare provider name.
    write(
        dir.path(),
        "provider \"fake\" {\n  region = \"eu-west-1\"\n}\nresource \"fake_thing\" \"home\" {\n  name = \"home\"\n}\n",
        None,
    );
    let old = format!(
        r#"{{"version": 1, "serial": 3, "lineage": "{}", "dumcel_version": "0.1.0",
  "resources": {{"fake_thing.home": {{"resource_type": "fake_thing", "provider": "fake",
    "attributes": {{"name": "home", "id": "eu-west-1/home", "region": "eu-west-1"}}}}}}}}"#,
        state.lineage
    );
    let old = State::from_json(old.as_bytes()).unwrap();
    let stack = load(dir.path(), &calls).unwrap();
    let planned = plan_of(&stack, &old, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!planned.plan.has_changes(), "{:?}", planned.plan.changes);
    assert_eq!(planned.plan.changes[0].action, Action::NoOp);
}

#[tokio::test]
async fn removing_the_alias_block_of_recorded_resources_refuses_to_plan() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), TWO_CONFIGS, None);
    let calls = Calls::default();
    let (state, _) = apply_dir(dir.path(), &calls, State::new()).await;

    // Both the alias block and the resources using it are gone.
    write(
        dir.path(),
        "provider \"fake\" {\n  region = \"eu-west-1\"\n}\nresource \"fake_thing\" \"home\" {\n  name = \"home\"\n}\n",
        None,
    );
    calls.lock().unwrap().clear();
    let stack = load(dir.path(), &calls).unwrap();
    for refresh in [true, false] {
        let opts = PlanOptions {
            refresh,
            ..PlanOptions::default()
        };
        let err = plan_of(&stack, &state, &opts).await.err().expect("refused");
        assert!(err.contains("Provider configuration not present"), "{err}");
        assert!(err.contains("fake_thing.away"), "{err}");
        assert!(
            err.contains(r#"provider["registry.terraform.io/hashicorp/fake"].use1"#),
            "{err}"
        );
    }
    // Nothing was deleted through another configuration.
    assert!(
        !calls
            .lock()
            .unwrap()
            .iter()
            .any(|(_, op, _)| *op == "delete"),
        "{:?}",
        calls.lock().unwrap()
    );
}

#[test]
fn recorded_provider_forms_parse() {
    assert_eq!(
        ProviderRef::parse_recorded(r#"provider["registry.terraform.io/hashicorp/aws"].use1"#),
        Some(ProviderRef::new("aws", Some("use1".into())))
    );
    assert_eq!(
        ProviderRef::parse_recorded(r#"provider["registry.terraform.io/hashicorp/aws"]"#),
        Some(ProviderRef::default_of("aws"))
    );
    assert_eq!(
        ProviderRef::parse_recorded("aws"),
        Some(ProviderRef::default_of("aws"))
    );
    assert_eq!(ProviderRef::parse_recorded(r#"provider["x"]."#), None);
    assert_eq!(ProviderRef::parse_recorded(""), None);
}
