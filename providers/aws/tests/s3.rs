//! aws_s3_bucket and aws_s3_object against moto, checked with the SDK.

mod common;

use std::collections::BTreeMap;

use common::walk::{apply_plan, attr, changes, plan_apply, plan_of, want};
use common::*;
use dumcel_planner::{Action, Value};
use dumcel_state::State;

#[tokio::test]
async fn bucket_with_versioning_and_website_then_object_drift() {
    let env = Env::new().await;
    let bucket_rt = env.resource("aws_s3_bucket");
    let object_rt = env.resource("aws_s3_object");
    let bucket = unique("bucket");

    let cfg = planned(
        bucket_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("force_destroy", Value::Bool(true)),
            (
                "versioning",
                Value::List(vec![obj(&[("enabled", Value::Bool(true))])]),
            ),
            (
                "website",
                Value::List(vec![obj(&[(
                    "index_document",
                    Value::string("index.html"),
                )])]),
            ),
        ]),
    );
    let made = bucket_rt.create(&cfg).await.expect("create bucket");
    // moto's answer has a root element the SDK refuses; read the status raw.
    let enabled = match env
        .s3()
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
    {
        Ok(v) => v.status().map(|s| s.as_str()) == Some("Enabled"),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => e
            .raw()
            .body()
            .bytes()
            .is_some_and(|b| String::from_utf8_lossy(b).contains("<Status>Enabled</Status>")),
        Err(e) => panic!("versioning: {e:?}"),
    };
    assert!(enabled);
    let w = env
        .s3()
        .get_bucket_website()
        .bucket(&bucket)
        .send()
        .await
        .expect("website");
    assert_eq!(w.index_document().unwrap().suffix(), "index.html");
    // A read right after create matches what was recorded: no drift.
    assert_eq!(bucket_rt.read(&made).await.unwrap().unwrap(), made);

    let ocfg = planned(
        object_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("key", Value::string("index.html")),
            ("content", Value::string("<h1>hello</h1>")),
            ("content_type", Value::string("text/html")),
        ]),
    );
    let planned_etag = s(&ocfg, "etag");
    let o = object_rt.create(&ocfg).await.expect("create object");
    assert_eq!(s(&o, "etag"), planned_etag);
    // Overwritten outside dumcel: the etag read back differs (drift).
    env.s3()
        .put_object()
        .bucket(&bucket)
        .key("index.html")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"changed"))
        .send()
        .await
        .unwrap();
    let drifted = object_rt.read(&o).await.unwrap().unwrap();
    assert_ne!(s(&drifted, "etag"), planned_etag);
    let repaired = object_rt.update(&drifted, &ocfg).await.expect("re-upload");
    assert_eq!(s(&repaired, "etag"), planned_etag);

    // Deleted outside dumcel: read says gone.
    bucket_rt
        .delete(&made)
        .await
        .expect("delete (force_destroy empties it)");
    assert!(bucket_rt.read(&made).await.unwrap().is_none());
}

#[tokio::test]
async fn non_empty_bucket_without_force_destroy_reports_aws_error() {
    let env = Env::new().await;
    let rt = env.resource("aws_s3_bucket");
    let bucket = unique("full");
    let made = rt
        .create(&planned(
            rt.as_ref(),
            obj(&[("bucket", Value::string(&bucket))]),
        ))
        .await
        .expect("create");
    env.s3()
        .put_object()
        .bucket(&bucket)
        .key("k")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let e = rt.delete(&made).await.unwrap_err();
    assert!(e.message.contains("BucketNotEmpty"), "{}", e.message);
    env.s3()
        .delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    rt.delete(&made).await.expect("delete");
}

#[tokio::test]
async fn find_bucket_and_object_by_name() {
    let env = Env::new().await;
    let bucket_rt = env.resource("aws_s3_bucket");
    let object_rt = env.resource("aws_s3_object");
    let bucket = unique("find");
    let cfg = planned(
        bucket_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("force_destroy", Value::Bool(true)),
        ]),
    );
    found_nothing(bucket_rt.as_ref(), &cfg).await;
    let made = bucket_rt.create(&cfg).await.expect("create bucket");
    let got = found(bucket_rt.as_ref(), &cfg).await;
    assert_eq!(s(&got, "id"), s(&made, "id"));
    assert_eq!(s(&got, "arn"), s(&made, "arn"));

    let ocfg = planned(
        object_rt.as_ref(),
        obj(&[
            ("bucket", Value::string(&bucket)),
            ("key", Value::string("a/b.txt")),
            ("content", Value::string("hello")),
        ]),
    );
    found_nothing(object_rt.as_ref(), &ocfg).await;
    let o = object_rt.create(&ocfg).await.expect("create object");
    let got = found(object_rt.as_ref(), &ocfg).await;
    assert_eq!(s(&got, "id"), s(&o, "id"));
    assert_eq!(s(&got, "etag"), s(&o, "etag"));
    let other = set(&ocfg, "key", Value::string("a/missing.txt"));
    found_nothing(object_rt.as_ref(), &other).await;

    bucket_rt.delete(&made).await.expect("delete bucket");
    found_nothing(bucket_rt.as_ref(), &cfg).await;
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

/// The bucket's tags as S3 holds them (none: NoSuchTagSet).
async fn bucket_tags(env: &Env, bucket: &str) -> BTreeMap<String, String> {
    match env.s3().get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        Err(e) => {
            let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e).unwrap_or_default();
            assert_eq!(code, "NoSuchTagSet", "{e:?}");
            BTreeMap::new()
        }
    }
}

#[tokio::test]
async fn tags_changed_behind_dumcels_back_are_planned_in_place_and_repaired() {
    let env = Env::new().await;
    let bucket = unique("tagged");
    let dir = tempfile::tempdir().unwrap();
    write_tagged(
        dir.path(),
        &env.endpoint,
        "s3",
        &format!(
            "resource \"aws_s3_bucket\" \"b\" {{\n  bucket        = \"{bucket}\"\n  force_destroy = true\n  tags          = {{ team = \"web\", env = \"dev\" }}\n}}\n"
        ),
    );
    let addr = "aws_s3_bucket.b";
    let all = tag_map(&[("team", "web"), ("env", "dev"), ("owner", "dumcel")]);

    let (state, _) = plan_apply(dir.path(), State::new(), false).await;
    assert_eq!(attr(&state, addr, "id"), bucket);
    assert_eq!(bucket_tags(&env, &bucket).await, all);
    let recorded = &state.resources[addr].attributes;
    assert_eq!(
        recorded["tags"],
        serde_json::json!({"team": "web", "env": "dev"})
    );
    assert_eq!(
        recorded["tags_all"],
        serde_json::json!({"team": "web", "env": "dev", "owner": "dumcel"})
    );

    // Someone replaces the tag set: a value changed, a key added, one gone.
    let tag = |k: &str, v: &str| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .expect("tag")
    };
    env.s3()
        .put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag("team", "ops"))
                .tag_set(tag("owner", "dumcel"))
                .tag_set(tag("rogue", "x"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("retag behind dumcel's back");

    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Update)]));
    let (state, report) = apply_plan(stack, p, state, false).await;
    assert_eq!((report.added, report.changed, report.destroyed), (0, 1, 0));
    assert_eq!(bucket_tags(&env, &bucket).await, all);
    let (_, again) = plan_of(dir.path(), &state, false).await;
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    // Every tag removed behind dumcel's back is drift too.
    env.s3()
        .delete_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .expect("untag behind dumcel's back");
    let (stack, p) = plan_of(dir.path(), &state, false).await;
    assert_eq!(changes(&p), want(&[(addr, Action::Update)]));
    let (state, _) = apply_plan(stack, p, state, false).await;
    assert_eq!(bucket_tags(&env, &bucket).await, all);

    plan_apply(dir.path(), state, true).await;
    assert!(env.s3().head_bucket().bucket(&bucket).send().await.is_err());
}
