//! DOCKER_HOST is honoured when the provider block sets no `host` (its own
//! test binary: it changes the process environment).

use dumcel_engine::provider::Provider;
use dumcel_planner::Value;
use dumcel_provider_docker::Docker;

#[tokio::test]
async fn docker_host_is_used_when_the_provider_sets_no_host() {
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("unix://{}/from-env.sock", dir.path().display());
    // SAFETY: this test binary has no other test and sets it before any
    // thread reads the environment.
    unsafe { std::env::set_var("DOCKER_HOST", &socket) };
    let p = Docker::new();
    p.configure(&Value::Map(dumcel_planner::Map::new()))
        .await
        .unwrap();
    let (_, volume) = p
        .resource_types()
        .into_iter()
        .find(|(n, _)| *n == "docker_volume")
        .unwrap();
    let prior = Value::Map(dumcel_planner::Map::from([(
        "name".to_owned(),
        Value::string("v"),
    )]));
    let err = volume
        .read(&prior)
        .await
        .expect_err("nothing listens there");
    assert!(err.message.contains(&socket), "{}", err.message);
}
