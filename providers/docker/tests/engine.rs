//! Networks and volumes through the provider's own interface against a real
//! Docker engine (started by dev/services/docker.sh; these tests fail, not
//! skip, without one), and `find` for every type, the registry at
//! 127.0.0.1:5000 included. Results are checked with the docker CLI.

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
            .collect(),
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

/// A build context of busybox alone (nothing can be pulled), whose container
/// sleeps.
fn busybox_context(dir: &std::path::Path) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("busybox-static (dev/services/docker.sh installs it)");
    std::fs::copy(busybox, dir.join("busybox")).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"sleep\", \"600\"]\n",
    )
    .unwrap();
}

/// `planned` without what was unknown before the create (absent, not null),
/// as the engine hands it to `find`.
async fn find(rt: &dyn ResourceType, planned: &Value) -> Option<Value> {
    let mut known = planned.as_map().cloned().unwrap_or_default();
    known.retain(|_, v| !v.is_null() && !v.is_unknown());
    rt.find(&Value::Map(known)).await.expect("find answers")
}

fn id_of(v: &Value) -> &str {
    v.get("id").and_then(Value::as_str).expect("an id")
}

#[tokio::test]
async fn find_answers_what_create_made_by_name() {
    require_docker();
    let p = provider().await;
    let base = unique("find");

    // Network and volume: by name.
    let network = resource(&p, "docker_network");
    let net_cfg = obj(&[("name", Value::string(format!("{base}-net")))]);
    assert_eq!(find(network.as_ref(), &net_cfg).await, None);
    let net = network.create(&net_cfg).await.expect("network");
    assert_eq!(find(network.as_ref(), &net_cfg).await, Some(net.clone()));
    network.delete(&net).await.unwrap();
    assert_eq!(find(network.as_ref(), &net_cfg).await, None);

    let volume = resource(&p, "docker_volume");
    let vol_cfg = obj(&[("name", Value::string(format!("{base}-vol")))]);
    assert_eq!(find(volume.as_ref(), &vol_cfg).await, None);
    let vol = volume.create(&vol_cfg).await.expect("volume");
    assert_eq!(find(volume.as_ref(), &vol_cfg).await, Some(vol.clone()));
    volume.delete(&vol).await.unwrap();
    assert_eq!(find(volume.as_ref(), &vol_cfg).await, None);
    // Without a name Docker picks one: that cannot be looked up.
    assert!(volume.find(&obj(&[])).await.is_err());

    // An image: the build tagged with the name, from the planned context.
    let dir = tempfile::tempdir().unwrap();
    busybox_context(dir.path());
    let image = resource(&p, "docker_image");
    let context = dir.path().to_string_lossy().into_owned();
    let image_cfg = || {
        image
            .plan(
                None,
                obj(&[
                    ("name", Value::string(format!("{base}-img:1"))),
                    (
                        "build",
                        Value::List(vec![obj(&[("context", Value::string(&context))])]),
                    ),
                ]),
            )
            .unwrap()
    };
    assert_eq!(find(image.as_ref(), &image_cfg()).await, None);
    let img = image.create(&image_cfg()).await.expect("image");
    let got = find(image.as_ref(), &image_cfg()).await.expect("found");
    assert_eq!(id_of(&got), id_of(&img));
    assert_eq!(got.get("context_hash"), img.get("context_hash"));
    // A changed context was never built: the tag names the older build.
    std::fs::write(dir.path().join("page.html"), "new").unwrap();
    assert_eq!(find(image.as_ref(), &image_cfg()).await, None);
    std::fs::remove_file(dir.path().join("page.html")).unwrap();

    // A container: by name, from the planned image.
    let container = resource(&p, "docker_container");
    let c_cfg = |image: &str| {
        container
            .plan(
                None,
                obj(&[
                    ("name", Value::string(format!("{base}-c"))),
                    ("image", Value::string(image)),
                ]),
            )
            .unwrap()
    };
    assert_eq!(find(container.as_ref(), &c_cfg(id_of(&img))).await, None);
    let c = container
        .create(&c_cfg(id_of(&img)))
        .await
        .expect("container");
    let got = find(container.as_ref(), &c_cfg(id_of(&img)))
        .await
        .expect("found");
    assert_eq!(id_of(&got), id_of(&c));
    assert_eq!(got.get("running"), Some(&Value::Bool(true)));
    // The name taken by a container of another image: not ours to record.
    let e = container
        .find(&c_cfg("another:1"))
        .await
        .expect_err("someone else's container");
    assert!(e.message.contains("another:1"), "{}", e.message);
    container.delete(&c).await.unwrap();
    assert_eq!(find(container.as_ref(), &c_cfg(id_of(&img))).await, None);

    // A registry image: the manifest under the name, pushed from the image.
    let registry_image = resource(&p, "docker_registry_image");
    let r_cfg = obj(&[
        (
            "name",
            Value::string(format!("127.0.0.1:5000/{base}-img:1")),
        ),
        ("source_image", Value::string(id_of(&img))),
    ]);
    assert_eq!(find(registry_image.as_ref(), &r_cfg).await, None);
    let pushed = registry_image.create(&r_cfg).await.expect("push");
    let got = find(registry_image.as_ref(), &r_cfg).await.expect("found");
    assert_eq!(id_of(&got), id_of(&pushed));
    assert_eq!(got.get("sha256_digest"), pushed.get("sha256_digest"));
    registry_image.delete(&pushed).await.unwrap();
    assert_eq!(find(registry_image.as_ref(), &r_cfg).await, None);

    image.delete(&img).await.unwrap();
    assert_eq!(find(image.as_ref(), &image_cfg()).await, None);
}
