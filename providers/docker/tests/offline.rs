//! What the provider does without touching a Docker engine: configuring does
//! not connect, an unreachable engine is a clear error at first use, and the
//! plan hook hashes a build context.

use std::sync::Arc;

use dumcel_engine::provider::{Provider, ResourceType};
use dumcel_planner::Value;
use dumcel_provider_docker::Docker;

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn resource(p: &Docker, name: &str) -> Arc<dyn ResourceType> {
    p.resource_types()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, rt)| rt)
        .expect("the type is offered")
}

#[tokio::test]
async fn configure_does_not_connect_and_first_use_names_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("unix://{}/missing.sock", dir.path().display());
    let p = Docker::new();
    p.configure(&obj(&[("host", Value::string(&socket))]))
        .await
        .expect("configuring never contacts the engine");
    let network = resource(&p, "docker_network");
    let err = network
        .read(&obj(&[("id", "abc".into()), ("name", "n".into())]))
        .await
        .expect_err("no engine answers there");
    assert!(
        err.message.contains("cannot reach the Docker engine") && err.message.contains(&socket),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn registry_passwords_never_show_in_errors() {
    let p = Docker::new();
    let auth = obj(&[
        ("address", "127.0.0.1:5001".into()),
        ("username", "u".into()),
        ("password", "hunter2-very-secret".into()),
    ]);
    p.configure(&obj(&[
        ("host", "unix:///nonexistent/docker.sock".into()),
        ("registry_auth", Value::List(vec![auth])),
    ]))
    .await
    .unwrap();
    let image = resource(&p, "docker_registry_image");
    let err = image
        .create(&obj(&[("name", "127.0.0.1:5001/x:1".into())]))
        .await
        .expect_err("no engine");
    assert!(!err.message.contains("hunter2"), "{}", err.message);
    let schema = p.config_schema();
    let auth_schema = &schema.blocks["registry_auth"].schema;
    assert!(auth_schema.is_sensitive("password"));
}

#[test]
fn the_plan_hook_hashes_the_build_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    let context = dir.path().display().to_string();
    let p = Docker::new();
    let image = resource(&p, "docker_image");
    let config = obj(&[
        ("name", "web:1".into()),
        ("context_hash", Value::Unknown),
        (
            "build",
            Value::List(vec![obj(&[("context", Value::string(&context))])]),
        ),
    ]);
    let planned = image.plan(None, config.clone()).expect("hashable");
    let first = planned
        .get("context_hash")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    assert_eq!(first.len(), 64);

    std::fs::write(dir.path().join("page.html"), "new").unwrap();
    let replanned = image.plan(None, config.clone()).unwrap();
    assert_ne!(
        replanned.get("context_hash").and_then(Value::as_str),
        Some(first.as_str())
    );

    let unknown = obj(&[
        ("name", "web:1".into()),
        (
            "build",
            Value::List(vec![obj(&[("context", Value::Unknown)])]),
        ),
    ]);
    assert_eq!(
        image.plan(None, unknown).unwrap().get("context_hash"),
        Some(&Value::Unknown),
        "a context known only at apply leaves the hash unknown"
    );

    let missing = obj(&[
        ("name", "web:1".into()),
        (
            "build",
            Value::List(vec![obj(&[("context", "no/such/app".into())])]),
        ),
    ]);
    let err = image.plan(None, missing).expect_err("no such directory");
    assert!(err.contains("no/such/app"), "{err}");
}
