//! aws_dynamodb_table against moto, checked with the SDK.

mod common;

use std::collections::BTreeMap;

use common::walk::{apply_plan, attr, changes, plan_apply, plan_of, want};
use common::*;
use dumcel_planner::{Action, Value};
use dumcel_state::State;

#[tokio::test]
async fn table_with_range_key_and_ttl() {
    let env = Env::new().await;
    let rt = env.resource("aws_dynamodb_table");
    let name = unique("table");
    let attr = |n: &str, t: &str| obj(&[("name", Value::string(n)), ("type", Value::string(t))]);
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(&name)),
            ("billing_mode", Value::string("PAY_PER_REQUEST")),
            ("hash_key", Value::string("pk")),
            ("range_key", Value::string("sk")),
            (
                "attribute",
                Value::List(vec![attr("pk", "S"), attr("sk", "N")]),
            ),
            (
                "ttl",
                Value::List(vec![obj(&[
                    ("attribute_name", Value::string("expires")),
                    ("enabled", Value::Bool(true)),
                ])]),
            ),
        ]),
    );
    let made = rt.create(&cfg).await.expect("create");
    let t = env
        .dynamodb()
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    assert_eq!(t.key_schema().len(), 2);
    let ttl = env
        .dynamodb()
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expires")
    );
    assert_eq!(rt.read(&made).await.unwrap().unwrap(), made);

    // In place: switch to provisioned capacity.
    let mut changed = made.clone();
    if let Value::Map(m) = &mut changed {
        m.insert("billing_mode".into(), Value::string("PROVISIONED"));
        m.insert("read_capacity".into(), Value::Number(2.0));
        m.insert("write_capacity".into(), Value::Number(3.0));
    }
    let updated = rt.update(&made, &changed).await.expect("update");
    assert_eq!(s(&updated, "billing_mode"), "PROVISIONED");

    rt.delete(&updated).await.expect("delete");
    assert!(rt.read(&updated).await.unwrap().is_none());
}

#[tokio::test]
async fn find_table_by_name() {
    let env = Env::new().await;
    let rt = env.resource("aws_dynamodb_table");
    let cfg = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(unique("find"))),
            ("billing_mode", Value::string("PAY_PER_REQUEST")),
            ("hash_key", Value::string("pk")),
            (
                "attribute",
                Value::List(vec![obj(&[
                    ("name", Value::string("pk")),
                    ("type", Value::string("S")),
                ])]),
            ),
        ]),
    );
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    let got = found(rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "id"), s(&made, "id"));
    assert_eq!(s(&got, "arn"), s(&made, "arn"));
    rt.delete(&made).await.expect("delete");
    found_nothing(rt.as_ref(), &cfg).await;
}

fn tag_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A stack of one resource with its own tags over the provider's default_tags.
fn write_tagged(dir: &std::path::Path, endpoint: &str, service: &str, resource: &str) {
    let hcl = r#"
provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    @SERVICE@ = "@ENDPOINT@"
  }
  default_tags {
    tags = { owner = "dumcel" }
  }
}
"#
    .replace("@ENDPOINT@", endpoint)
    .replace("@SERVICE@", service);
    std::fs::write(dir.join("main.hcl"), format!("{hcl}\n{resource}")).unwrap();
}

/// The table's tags as DynamoDB holds them.
async fn table_tags(env: &Env, arn: &str) -> BTreeMap<String, String> {
    env.dynamodb()
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags")
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

#[tokio::test]
async fn tags_changed_behind_dumcels_back_are_planned_in_place_and_repaired() {
    let env = Env::new().await;
    let name = unique("tagged");
    let dir = tempfile::tempdir().unwrap();
    write_tagged(
        dir.path(),
        &env.endpoint,
        "dynamodb",
        &format!(
            r#"resource "aws_dynamodb_table" "t" {{
  name         = "{name}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  attribute {{
    name = "pk"
    type = "S"
  }}
  tags = {{ team = "web", env = "dev" }}
}}
"#
        ),
    );
    let addr = "aws_dynamodb_table.t";
    let all = tag_map(&[("team", "web"), ("env", "dev"), ("owner", "dumcel")]);

    let (state, _) = plan_apply(dir.path(), State::new(), false).await;
    let arn = attr(&state, addr, "arn");
    assert_eq!(table_tags(&env, &arn).await, all);
    let recorded = &state.resources[addr].attributes;
    assert_eq!(
        recorded["tags"],
        serde_json::json!({"team": "web", "env": "dev"})
    );

    let tag = |k: &str, v: &str| {
        aws_sdk_dynamodb::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .expect("tag")
    };
    env.dynamodb()
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "ops"))
        .tags(tag("rogue", "x"))
        .send()
        .await
        .expect("tag behind dumcel's back");
    env.dynamodb()
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .expect("untag behind dumcel's back");

    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Update)]));
    let (state, report) = apply_plan(stack, p, state, false).await;
    assert_eq!((report.added, report.changed, report.destroyed), (0, 1, 0));
    assert_eq!(table_tags(&env, &arn).await, all);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    plan_apply(dir.path(), state, true).await;
    let gone = env
        .dynamodb()
        .describe_table()
        .table_name(&name)
        .send()
        .await;
    assert!(gone.is_err(), "table still there: {gone:?}");
}
