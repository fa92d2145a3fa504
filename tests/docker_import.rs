//! Containers, networks and volumes made by hand with the docker CLI are
//! imported, and a configuration written for them plans no change.

mod common;
mod docker_support;

use std::process::Command;

use common::TestStack;
use docker_support::{Cleanup, app_context, docker, free_port, leftovers, require_docker, unique};

#[test]
fn objects_made_by_hand_import_and_match_their_configuration() {
    require_docker();
    let prefix = unique("import");
    let _cleanup = Cleanup(prefix.clone());
    let port = free_port();
    let s = TestStack::new(&format!(
        r#"
resource "docker_network" "net" {{
  name = "{prefix}-net"
}}
resource "docker_volume" "data" {{
  name = "{prefix}-data"
}}
resource "docker_container" "app" {{
  name    = "{prefix}-app"
  image   = "{prefix}-app:latest"
  env     = ["MODE=imported"]
  restart = "unless-stopped"
  labels  = {{ team = "web" }}
  networks_advanced {{
    name    = docker_network.net.name
    aliases = ["web"]
  }}
  ports {{
    internal = 8080
    external = {port}
    ip       = "127.0.0.1"
  }}
  volumes {{
    volume_name    = docker_volume.data.name
    container_path = "/data"
  }}
}}
"#
    ));
    app_context(&s.file("app"));
    let image = format!("{prefix}-app:latest");
    let built = Command::new("docker")
        .args(["build", "-q", "-t", &image])
        .arg(s.file("app"))
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("docker build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let (net, data, app) = (
        format!("{prefix}-net"),
        format!("{prefix}-data"),
        format!("{prefix}-app"),
    );
    docker(&["network", "create", &net]).expect("network");
    docker(&["volume", "create", &data]).expect("volume");
    let published = format!("127.0.0.1:{port}:8080");
    let mount = format!("{data}:/data");
    docker(&[
        "run",
        "-d",
        "--name",
        &app,
        "--network",
        &net,
        "--network-alias",
        "web",
        "-p",
        &published,
        "-e",
        "MODE=imported",
        "-v",
        &mount,
        "--restart",
        "unless-stopped",
        "--label",
        "team=web",
        &image,
    ])
    .expect("docker run");

    s.ok(&["import", "docker_network.net", &net]);
    s.ok(&["import", "docker_volume.data", &data]);
    s.ok(&["import", "docker_container.app", &app]);
    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "the imported objects match their configuration:\n{}",
        plan.all()
    );

    s.ok(&["destroy", "-auto-approve"]);
    let left: Vec<String> = leftovers(&prefix)
        .into_iter()
        .filter(|l| !l.starts_with("image"))
        .collect();
    assert_eq!(
        left,
        Vec::<String>::new(),
        "destroy removed what was imported"
    );
}
