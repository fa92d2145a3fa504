//! Nested and dynamic blocks, evaluated against a schema. An in-memory fake
//! resource type stands in for a cloud one (no service is claimed here).

use std::sync::Arc;

use async_trait::async_trait;

use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::plan::{PlanOptions, Refreshed, plan};
use dumcel_engine::provider::{Provider, ProviderResult, Registry, ResourceType};
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};
use dumcel_state::State;

struct FakeGroup(Schema);

#[async_trait]
impl ResourceType for FakeGroup {
    fn schema(&self) -> &Schema {
        &self.0
    }
    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(Some(prior.clone()))
    }
    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }
    async fn update(&self, _: &Value, planned: &Value) -> ProviderResult<Value> {
        Ok(planned.clone())
    }
    async fn delete(&self, _: &Value) -> ProviderResult<()> {
        Ok(())
    }
}

struct Fake;

#[async_trait]
impl Provider for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn resource_types(&self) -> Vec<(&'static str, Arc<dyn ResourceType>)> {
        let rule = Schema::new()
            .attr("port", Attribute::required())
            .attr("protocol", Attribute::optional());
        let check = Schema::new().attr("path", Attribute::required());
        let schema = Schema::new()
            .attr("name", Attribute::required())
            .block(
                "rule",
                NestedBlock {
                    schema: rule,
                    ..NestedBlock::default()
                },
            )
            .block(
                "health_check",
                NestedBlock {
                    schema: check,
                    max_items: Some(1),
                    ..NestedBlock::default()
                },
            );
        vec![("fake_group", Arc::new(FakeGroup(schema)))]
    }
}

async fn planned_config(hcl: &str) -> Result<Value, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();
    let mut sources = SourceMap::default();
    let module = load_module(dir.path(), &mut sources).map_err(|d| d.render_plain(&sources))?;
    let vars =
        resolve(&module, &mut sources, &[], &[], None).map_err(|d| d.render_plain(&sources))?;
    let mut registry = Registry::new();
    registry.add(Arc::new(Fake));
    let stack = Stack::new(module, sources.clone(), registry, vars, "default")
        .map_err(|d| d.render_plain(&sources))?;
    let (p, _) = plan(
        &stack,
        &State::new(),
        &Refreshed::default(),
        &PlanOptions::default(),
    )
    .await
    .map_err(|d| d.render_plain(&sources))?;
    Ok(p.changes[0].after.clone().unwrap())
}

#[tokio::test]
async fn dynamic_blocks_expand_for_each_element() {
    let after = planned_config(
        r#"
variable "ports" {
  default = { http = 80, https = 443 }
}
resource "fake_group" "g" {
  name = "web"
  rule {
    port = 22
  }
  dynamic "rule" {
    for_each = var.ports
    iterator = p
    content {
      port     = p.value
      protocol = p.key
    }
  }
  health_check {
    path = "/"
  }
}
"#,
    )
    .await
    .unwrap();
    let rules = after.get("rule").and_then(Value::as_list).unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].get("port"), Some(&Value::Number(22.0)));
    assert_eq!(rules[1].get("protocol"), Some(&Value::string("http")));
    assert_eq!(rules[2].get("port"), Some(&Value::Number(443.0)));
    assert_eq!(
        after
            .get("health_check")
            .and_then(Value::as_list)
            .map(<[Value]>::len),
        Some(1)
    );
}

#[tokio::test]
async fn block_mistakes_are_named() {
    let too_many = planned_config(
        "resource \"fake_group\" \"g\" {\n  name = \"x\"\n  health_check {\n    path = \"/\"\n  }\n  health_check {\n    path = \"/b\"\n  }\n}\n",
    )
    .await
    .unwrap_err();
    assert!(
        too_many.contains("Too many \"health_check\" blocks"),
        "{too_many}"
    );
    let missing = planned_config("resource \"fake_group\" \"g\" {\n  name = \"x\"\n  rule {\n    protocol = \"tcp\"\n  }\n}\n")
        .await
        .unwrap_err();
    assert!(
        missing.contains("Missing required argument \"port\""),
        "{missing}"
    );
    let as_attr =
        planned_config("resource \"fake_group\" \"g\" {\n  name = \"x\"\n  rule = []\n}\n")
            .await
            .unwrap_err();
    assert!(as_attr.contains("is a block"), "{as_attr}");
}
