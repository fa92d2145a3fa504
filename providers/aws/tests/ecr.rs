//! aws_ecr_repository against moto, checked with the SDK.

mod common;

use std::collections::BTreeMap;

use common::walk::{apply_plan, attr, changes, plan_apply, plan_of, want};
use common::*;
use dumcel_planner::{Action, Value};
use dumcel_state::State;

#[tokio::test]
async fn create_update_read_import_delete() {
    let env = Env::new().await;
    let rt = env.resource("aws_ecr_repository");
    let name = unique("repo");
    let config = planned(
        rt.as_ref(),
        obj(&[
            ("name", Value::string(&name)),
            ("scan_on_push", Value::Bool(true)),
            ("tags", obj(&[("team", Value::string("web"))])),
        ]),
    );
    let made = rt.create(&config).await.expect("create");
    assert!(s(&made, "repository_url").ends_with(&name), "{made}");
    assert_eq!(s(&made, "image_tag_mutability"), "MUTABLE");

    let repo = env
        .ecr()
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await
        .expect("describe");
    let repo = &repo.repositories()[0];
    assert!(repo.image_scanning_configuration().unwrap().scan_on_push());

    // In place: mutability.
    let mut changed = made.clone();
    if let Value::Map(m) = &mut changed {
        m.insert("image_tag_mutability".into(), Value::string("IMMUTABLE"));
    }
    let updated = rt.update(&made, &changed).await.expect("update");
    assert_eq!(s(&updated, "image_tag_mutability"), "IMMUTABLE");

    let read = rt.read(&updated).await.expect("read").expect("exists");
    assert_eq!(read, updated);

    let imported = rt.import(&name).await.expect("import");
    assert_eq!(s(&imported, "arn"), s(&made, "arn"));

    rt.delete(&updated).await.expect("delete");
    assert!(rt.read(&updated).await.expect("read").is_none());
    // Deleting what is gone is not an error.
    rt.delete(&updated).await.expect("delete again");
}

#[tokio::test]
async fn aws_errors_carry_code_and_message() {
    let env = Env::new().await;
    let rt = env.resource("aws_ecr_repository");
    let name = unique("missing");
    let e = rt.import(&name).await.unwrap_err();
    assert!(
        e.message.contains("RepositoryNotFoundException"),
        "{}",
        e.message
    );

    let config = planned(rt.as_ref(), obj(&[("name", Value::string(unique("dup")))]));
    let made = rt.create(&config).await.expect("create");
    let e = rt.create(&config).await.unwrap_err();
    assert!(
        e.message.contains("RepositoryAlreadyExistsException"),
        "{}",
        e.message
    );
    rt.delete(&made).await.expect("delete");
}

#[tokio::test]
async fn find_repository_by_name() {
    let env = Env::new().await;
    let rt = env.resource("aws_ecr_repository");
    let cfg = planned(rt.as_ref(), obj(&[("name", Value::string(unique("find")))]));
    found_nothing(rt.as_ref(), &cfg).await;
    let made = rt.create(&cfg).await.expect("create");
    let got = found(rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "arn"), s(&made, "arn"));
    assert_eq!(s(&got, "repository_url"), s(&made, "repository_url"));
    rt.delete(&made).await.expect("delete");
    found_nothing(rt.as_ref(), &cfg).await;
}

/// The repository's tags as ECR holds them.
async fn repo_tags(env: &Env, arn: &str) -> BTreeMap<String, String> {
    let out = env
        .ecr()
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags");
    out.tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn tag_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ecr_tag(k: &str, v: &str) -> aws_sdk_ecr::types::Tag {
    aws_sdk_ecr::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .expect("tag")
}

#[tokio::test]
async fn tags_changed_behind_dumcels_back_are_planned_in_place_and_repaired() {
    let env = Env::new().await;
    let name = unique("tagged");
    let dir = tempfile::tempdir().unwrap();
    let hcl = r#"
provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    ecr = "@ENDPOINT@"
  }
  default_tags {
    tags = { owner = "dumcel" }
  }
}

resource "aws_ecr_repository" "r" {
  name         = "@NAME@"
  force_delete = true
  tags         = { team = "web", env = "dev" }
}
"#
    .replace("@ENDPOINT@", &env.endpoint)
    .replace("@NAME@", &name);
    std::fs::write(dir.path().join("main.hcl"), hcl).unwrap();
    let addr = "aws_ecr_repository.r";
    let all = tag_map(&[("team", "web"), ("env", "dev"), ("owner", "dumcel")]);

    let (state, _) = plan_apply(dir.path(), State::new(), false).await;
    let arn = attr(&state, addr, "arn");
    assert_eq!(repo_tags(&env, &arn).await, all);
    // tags: what the configuration says; tags_all: over the default tags.
    let recorded = &state.resources[addr].attributes;
    assert_eq!(
        recorded["tags"],
        serde_json::json!({"team": "web", "env": "dev"})
    );
    assert_eq!(
        recorded["tags_all"],
        serde_json::json!({"team": "web", "env": "dev", "owner": "dumcel"})
    );

    // Someone retags it: a value changed, one key added, one removed.
    env.ecr()
        .tag_resource()
        .resource_arn(&arn)
        .tags(ecr_tag("team", "ops"))
        .tags(ecr_tag("rogue", "x"))
        .send()
        .await
        .expect("tag behind dumcel's back");
    env.ecr()
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .expect("untag behind dumcel's back");

    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Update)]));
    assert!(
        p.plan.drift.iter().any(|d| d.address == addr),
        "refresh shows the drift: {:?}",
        p.plan.drift
    );
    let (state, report) = apply_plan(stack, p, state, false).await;
    assert_eq!((report.added, report.changed, report.destroyed), (0, 1, 0));
    assert_eq!(repo_tags(&env, &arn).await, all);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    // Import reads the tags back, less the default ones (the SDK-level
    // provider here has no default_tags, so all three are its own).
    let imported = env
        .resource("aws_ecr_repository")
        .import(&name)
        .await
        .expect("import");
    assert_eq!(
        imported
            .get("tags")
            .and_then(Value::as_map)
            .map(|m| m.len()),
        Some(3),
        "{imported}"
    );

    plan_apply(dir.path(), state, true).await;
    let gone = env
        .ecr()
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await;
    assert!(gone.is_err(), "repository still there: {gone:?}");
}
