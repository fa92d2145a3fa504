//! Networks and volumes through the provider's own interface against a real
//! Docker engine (started by dev/services/docker.sh; these tests fail, not
//! skip, without one). Results are checked with the docker CLI.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use dumcel_engine::provider::{Provider, ResourceType};
use dumcel_planner::Value;
use dumcel_provider_docker::Docker;

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

async fn provider() -> Docker {
    let p = Docker::new();
    p.configure(&obj(&[])).await.unwrap();
    p
}

fn resource(p: &Docker, name: &str) -> Arc<dyn ResourceType> {
    p.resource_types()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, rt)| rt)
        .expect("the type is offered")
}

/// `docker KIND inspect NAME` succeeds.
fn docker_has(kind: &str, name: &str) -> bool {
    Command::new("docker")
        .args([kind, "inspect", name])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn require_docker() {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "these tests need a running Docker engine: start one with dev/services/docker.sh"
    );
}

fn unique(what: &str) -> String {
    format!("dumcel-p{}-{what}", std::process::id())
}

#[tokio::test]
async fn a_network_is_created_read_found_gone_and_deleted() {
    require_docker();
    let p = provider().await;
    let network = resource(&p, "docker_network");
    let name = unique("net");
    let made = network
        .create(&obj(&[
            ("name", Value::string(&name)),
            ("labels", obj(&[("purpose", "test".into())])),
        ]))
        .await
        .expect("created");
    assert!(docker_has("network", &name));
    assert_eq!(made.get("driver"), Some(&Value::string("bridge")));
    assert_eq!(network.read(&made).await.unwrap(), Some(made.clone()));

    // Removed behind the provider's back: read says it is gone.
    let out = Command::new("docker")
        .args(["network", "rm", &name])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(network.read(&made).await.unwrap(), None);
    network
        .delete(&made)
        .await
        .expect("deleting what is gone is fine");
}

#[tokio::test]
async fn a_volume_is_created_read_and_deleted() {
    require_docker();
    let p = provider().await;
    let volume = resource(&p, "docker_volume");
    let name = unique("vol");
    let made = volume
        .create(&obj(&[("name", Value::string(&name))]))
        .await
        .expect("created");
    assert!(docker_has("volume", &name));
    assert!(
        made.get("mountpoint")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(volume.read(&made).await.unwrap(), Some(made.clone()));
    volume.delete(&made).await.unwrap();
    assert!(!docker_has("volume", &name));
    assert_eq!(volume.read(&made).await.unwrap(), None);
}
