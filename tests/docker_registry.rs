//! Pushing a built image to a registry on 127.0.0.1 and reading the manifest
//! back from the registry itself; credentials for a registry that asks for
//! them, which never appear in output or state.

mod common;
mod docker_support;

use common::TestStack;
use docker_support::{
    AUTH_PASSWORD, AUTH_REGISTRY, AUTH_USER, Cleanup, REGISTRY, app_context, basic_auth, http_get,
    require_docker, require_registry, unique,
};

const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

fn stack(prefix: &str, registry: &str, provider: &str) -> String {
    format!(
        r#"
{provider}
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context = "app"
  }}
}}
resource "docker_registry_image" "app" {{
  name         = "{registry}/{prefix}/app:v1"
  source_image = docker_image.app.id
}}
output "digest" {{
  value = docker_registry_image.app.sha256_digest
}}
"#
    )
}

/// GET a manifest from the registry's own HTTP API.
fn manifest(
    registry: &str,
    repo: &str,
    reference: &str,
    auth: Option<&str>,
) -> docker_support::Response {
    let mut headers = vec![("Accept", MANIFEST_TYPES)];
    let auth = auth.map(str::to_owned);
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    http_get(
        &format!("http://{registry}/v2/{repo}/manifests/{reference}"),
        &headers,
    )
    .expect("the registry answers")
}

#[test]
fn push_to_the_local_registry_reads_back_and_is_deleted_on_destroy() {
    require_docker();
    require_registry(REGISTRY);
    let prefix = unique("push");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&stack(&prefix, REGISTRY, ""));
    app_context(&s.file("app"));
    let applied = s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        applied
            .stdout
            .contains("docker_registry_image.app: v1: digest: sha256:"),
        "push progress is streamed:\n{}",
        applied.stdout
    );
    let digest = s.ok(&["output", "-raw", "digest"]).stdout;
    assert!(digest.starts_with("sha256:"), "{digest}");

    let repo = format!("{prefix}/app");
    let m = manifest(REGISTRY, &repo, "v1", None);
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.header("Docker-Content-Digest"), Some(digest.as_str()));
    let body: serde_json::Value = serde_json::from_str(&m.body).expect("manifest JSON");
    assert!(
        body["layers"].as_array().is_some_and(|l| !l.is_empty()),
        "the manifest lists the image's layers: {body}"
    );

    let same = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(same.code, 0, "{}", same.all());

    s.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(
        manifest(REGISTRY, &repo, &digest, None).status,
        404,
        "destroy deleted the pushed manifest"
    );
}

#[test]
fn a_registry_that_asks_for_a_password_gets_it_and_it_is_never_shown() {
    require_docker();
    require_registry(AUTH_REGISTRY);
    let prefix = unique("auth");
    let _cleanup = Cleanup(prefix.clone());
    let repo = format!("{prefix}/app");

    // Without credentials the registry refuses the push.
    let s = TestStack::new(&stack(&prefix, AUTH_REGISTRY, ""));
    app_context(&s.file("app"));
    let refused = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains("docker_registry_image.app")
            && refused.stderr.contains(AUTH_REGISTRY),
        "the failed push names the registry:\n{}",
        refused.stderr
    );
    assert!(
        !docker_support::exists("image", &format!("{AUTH_REGISTRY}/{repo}:v1")),
        "a failed push takes back the local tag it made"
    );

    let provider = format!(
        r#"
variable "registry_password" {{
  type      = string
  sensitive = true
}}
provider "docker" {{
  registry_auth {{
    address  = "{AUTH_REGISTRY}"
    username = "{AUTH_USER}"
    password = var.registry_password
  }}
}}
"#
    );
    s.write("main.hcl", &stack(&prefix, AUTH_REGISTRY, &provider));
    let pw = format!("registry_password={AUTH_PASSWORD}");
    let plan = s.ok(&["plan", "-no-color", "-var", &pw]);
    let applied = s.ok(&["apply", "-auto-approve", "-no-color", "-var", &pw]);
    let digest = s.ok(&["output", "-raw", "digest"]).stdout;

    let m = manifest(
        AUTH_REGISTRY,
        &repo,
        "v1",
        Some(&basic_auth(AUTH_USER, AUTH_PASSWORD)),
    );
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.header("Docker-Content-Digest"), Some(digest.as_str()));
    assert_eq!(
        manifest(AUTH_REGISTRY, &repo, "v1", None).status,
        401,
        "the registry really asks for the password"
    );

    let destroyed = s.ok(&["destroy", "-auto-approve", "-no-color", "-var", &pw]);
    assert_eq!(
        manifest(
            AUTH_REGISTRY,
            &repo,
            &digest,
            Some(&basic_auth(AUTH_USER, AUTH_PASSWORD))
        )
        .status,
        404,
        "destroy deleted the manifest, with the credentials"
    );
    for (what, text) in [
        ("plan", plan.all()),
        ("apply", applied.all()),
        ("destroy", destroyed.all()),
        ("state", s.read("dumcel.tfstate")),
    ] {
        assert!(
            !text.contains(AUTH_PASSWORD),
            "the password shows in the {what}:\n{text}"
        );
    }
}
