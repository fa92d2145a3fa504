//! What a docker_image build passes to the builder, checked on the image
//! Docker made; and an image pulled by name from the local registry.

mod common;
mod docker_support;

use common::TestStack;
use docker_support::{
    Cleanup, REGISTRY, app_context, context_with, docker, exists, inspect, require_docker,
    require_registry, unique,
};

#[test]
fn build_args_labels_dockerfile_and_target_reach_the_builder() {
    require_docker();
    let prefix = unique("args");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&format!(
        r#"
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context    = "app"
    dockerfile = "build/Multi.dockerfile"
    target     = "web"
    build_args = {{ GREETING = "hello from a build arg" }}
    labels     = {{ team = "platform" }}
  }}
}}
"#
    ));
    context_with(&s.file("app"), "unused\n");
    std::fs::create_dir(s.file("app/build")).unwrap();
    std::fs::write(
        s.file("app/build/Multi.dockerfile"),
        r#"FROM scratch AS base
COPY busybox /bin/busybox
ENV STAGE=base

FROM base AS web
ARG GREETING
ENV GREETING=$GREETING STAGE=web

FROM base AS never
ENV STAGE=never
"#,
    )
    .unwrap();
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    let image = format!("{prefix}-app:latest");
    let env = inspect("image", &image, "{{json .Config.Env}}").expect("the image exists");
    assert!(env.contains("GREETING=hello from a build arg"), "{env}");
    assert!(
        env.contains("STAGE=web"),
        "the target stage was built: {env}"
    );
    let labels = inspect("image", &image, "{{json .Config.Labels}}").unwrap_or_default();
    assert!(labels.contains("\"team\":\"platform\""), "{labels}");
    assert_eq!(
        Some(
            s.attr("docker_image.app", "id")
                .as_str()
                .unwrap_or_default()
                .to_owned()
        ),
        inspect("image", &image, "{{.Id}}"),
        "the recorded id is the image's"
    );
    s.ok(&["destroy", "-auto-approve"]);
    assert!(!exists("image", &image), "destroy removed the image");
}

#[test]
fn an_image_without_build_is_pulled_from_the_local_registry() {
    require_docker();
    require_registry(REGISTRY);
    let prefix = unique("pull");
    let _cleanup = Cleanup(prefix.clone());
    let remote = format!("{REGISTRY}/{prefix}/app:v1");
    let pusher = TestStack::new(&format!(
        r#"
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context = "app"
  }}
}}
resource "docker_registry_image" "app" {{
  name         = "{remote}"
  source_image = docker_image.app.id
}}
"#
    ));
    app_context(&pusher.file("app"));
    pusher.ok(&["apply", "-auto-approve"]);
    // Only the registry has it under that name now.
    docker(&["rmi", &remote]).expect("untag the local copy");
    assert!(!exists("image", &remote));

    let puller = TestStack::new(&format!(
        r#"
resource "docker_image" "pulled" {{
  name = "{remote}"
}}
"#
    ));
    let r = puller.ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        r.stdout.contains("docker_image.pulled:") && r.stdout.contains("Digest: sha256:"),
        "pull progress is streamed:\n{}",
        r.stdout
    );
    assert_eq!(
        inspect("image", &remote, "{{.Id}}"),
        inspect("image", &format!("{prefix}-app:latest"), "{{.Id}}"),
        "the pulled image is the pushed one"
    );
    puller.ok(&["destroy", "-auto-approve"]);
    pusher.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn keep_locally_leaves_the_image_on_destroy() {
    require_docker();
    let prefix = unique("keep");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&format!(
        r#"
resource "docker_image" "app" {{
  name         = "{prefix}-app:latest"
  keep_locally = true
  build {{
    context = "app"
  }}
}}
"#
    ));
    app_context(&s.file("app"));
    s.ok(&["apply", "-auto-approve"]);
    s.ok(&["destroy", "-auto-approve"]);
    assert!(s.state_addresses().is_empty());
    assert!(
        exists("image", &format!("{prefix}-app:latest")),
        "keep_locally leaves the image in place"
    );
}

#[test]
fn files_left_out_by_dockerignore_neither_reach_the_image_nor_rebuild_it() {
    require_docker();
    let prefix = unique("ignore");
    let _cleanup = Cleanup(prefix.clone());
    let s = TestStack::new(&format!(
        r#"
resource "docker_image" "app" {{
  name = "{prefix}-app:latest"
  build {{
    context = "app"
  }}
}}
"#
    ));
    context_with(
        &s.file("app"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY . /ctx\nENTRYPOINT [\"/bin/busybox\"]\n",
    );
    std::fs::write(s.file("app/.dockerignore"), "# local only\nnotes.txt\n").unwrap();
    std::fs::write(s.file("app/notes.txt"), "scratch notes").unwrap();
    s.ok(&["apply", "-auto-approve"]);
    let image = format!("{prefix}-app:latest");
    let listing = docker(&["run", "--rm", &image, "ls", "/ctx"]).expect("list the context");
    assert!(listing.contains("www"), "{listing}");
    assert!(
        !listing.contains("notes.txt"),
        "ignored files are not sent: {listing}"
    );

    std::fs::write(s.file("app/notes.txt"), "more scratch notes").unwrap();
    let plan = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        0,
        "an ignored file changes nothing:\n{}",
        plan.all()
    );
    std::fs::write(s.file("app/www/index.html"), "changed").unwrap();
    let plan = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "a sent file rebuilds:\n{}", plan.all());
    s.ok(&["destroy", "-auto-approve"]);
}
