//! A sandboxed headless run, as the pipeline gives a branch's stack: what the
//! sandbox refuses is refused with its file and line before any state is
//! written, and an ordinary stack still applies.

use std::path::PathBuf;
use std::time::Duration;

use dumcel_session::{Applied, Operation, Request, RunError, Sandbox, backend_of, run};
use tempfile::TempDir;

/// A checkout holding `stack/main.hcl`, a state directory beside it (not
/// created: a refused run must leave it so), and a secret outside both.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(main: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("checkout/stack");
        std::fs::create_dir_all(&stack).unwrap();
        std::fs::write(stack.join("main.hcl"), main).unwrap();
        std::fs::write(stack.join("config.txt"), "port=8080\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "TOKEN=hunter2\n").unwrap();
        Fixture { dir }
    }

    fn checkout(&self) -> PathBuf {
        self.dir.path().join("checkout")
    }

    fn stack(&self) -> PathBuf {
        self.checkout().join("stack")
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    async fn apply(&self, backend: Option<String>) -> Result<Applied, RunError> {
        let (stack, checkout, state_dir) = (self.stack(), self.checkout(), self.state_dir());
        run(Request {
            root: &stack,
            state_dir: &state_dir,
            workspace: "default",
            variables: Vec::new(),
            operation: Operation::Apply,
            lock_timeout: Duration::from_secs(5),
            parallelism: 4,
            sandbox: Some(Sandbox {
                root: &checkout,
                backend,
            }),
            aws_role: None,
        })
        .await
    }

    /// Applies with no backend expected and returns the refusal's message,
    /// checking that nothing reached the state directory.
    async fn refused(&self) -> String {
        let message = match self.apply(None).await {
            Ok(_) => panic!("the sandboxed apply ran"),
            Err(e) => e.to_string(),
        };
        assert!(
            !self.state_dir().exists(),
            "a refused run wrote to the state directory: {message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
        message
    }
}

fn main_hcl(f: &Fixture) -> String {
    f.stack().join("main.hcl").display().to_string()
}

#[tokio::test]
async fn reading_the_workers_environment_is_refused() {
    let f = Fixture::new(
        r#"resource "null_resource" "leak" {
  triggers = {
    env = file("/proc/self/environ")
  }
}
"#,
    );
    let message = f.refused().await;
    assert!(
        message.contains(&format!("{}:3:11", main_hcl(&f))),
        "{message}"
    );
    assert!(
        message.contains("\"/proc/self/environ\" is outside the checkout"),
        "{message}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_committed_symlink_out_is_refused() {
    let f = Fixture::new(
        r#"resource "null_resource" "leak" {
  triggers = { secret = filebase64("leak") }
}
"#,
    );
    std::os::unix::fs::symlink(f.dir.path().join("secret.txt"), f.stack().join("leak")).unwrap();
    let message = f.refused().await;
    assert!(
        message.contains(&format!("{}:2:25", main_hcl(&f))),
        "{message}"
    );
    assert!(
        message.contains("\"leak\" is outside the checkout"),
        "{message}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_configuration_file_linked_out_is_refused() {
    let f = Fixture::new("resource \"null_resource\" \"a\" {}\n");
    let other = f.dir.path().join("other.hcl");
    std::fs::write(&other, "locals { token = \"hunter2\" }\n").unwrap();
    std::os::unix::fs::symlink(&other, f.stack().join("other.hcl")).unwrap();
    let message = f.refused().await;
    assert!(
        message.contains("other.hcl is outside the checkout"),
        "{message}"
    );
}

#[tokio::test]
async fn local_file_is_refused() {
    let f = Fixture::new(
        r#"resource "null_resource" "a" {}

resource "local_file" "out" {
  filename = "/tmp/anything"
  content  = "x"
}

data "local_file" "in" {
  filename = "/etc/hostname"
}
"#,
    );
    let message = f.refused().await;
    let at = main_hcl(&f);
    assert!(
        message.contains(&format!(
            "{at}:3:1: local_file.out is not allowed in a pipeline run"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "{at}:8:1: data.local_file.in is not allowed in a pipeline run"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn an_import_block_is_refused() {
    let f = Fixture::new(
        r#"resource "null_resource" "a" {}

import {
  to = null_resource.a
  id = "123"
}
"#,
    );
    let message = f.refused().await;
    assert!(
        message.contains(&format!(
            "{}:3:1: import blocks are not allowed in a pipeline run",
            main_hcl(&f)
        )),
        "{message}"
    );
}

#[tokio::test]
async fn a_backend_of_its_own_is_refused() {
    let f = Fixture::new(
        r#"terraform {
  backend "local" {
    path = "/var/lib/elsewhere/state.json"
  }
}

resource "null_resource" "a" {}
"#,
    );
    let message = f.refused().await;
    assert!(
        message.contains(&format!("{}:2:3", main_hcl(&f))),
        "{message}"
    );
    assert!(
        message.contains("pipeline runs keep the default branch's backend"),
        "{message}"
    );

    // The default branch's backend, moved: refused too.
    let trusted = Some(r#"backend "local" { path = "dumcel.tfstate" }"#.to_owned());
    let Err(e) = f.apply(trusted).await else {
        panic!("a changed backend applied");
    };
    assert!(
        e.to_string()
            .contains("pipeline runs keep the default branch's backend"),
        "{e}"
    );
    assert!(!f.state_dir().exists());

    // The default branch has one, the branch dropped it: refused.
    let g = Fixture::new("resource \"null_resource\" \"a\" {}\n");
    let trusted = Some(r#"backend "local" { path = "dumcel.tfstate" }"#.to_owned());
    let Err(e) = g.apply(trusted).await else {
        panic!("a dropped backend applied");
    };
    assert!(e.to_string().contains("declares none (local state)"), "{e}");
    assert!(!g.state_dir().exists());
}

#[tokio::test]
async fn a_path_known_only_when_evaluated_is_refused_then() {
    let f = Fixture::new(
        r#"locals {
  where = "/proc/self"
}

resource "null_resource" "leak" {
  triggers = { env = file("${local.where}/environ") }
}
"#,
    );
    let Err(e) = f.apply(None).await else {
        panic!("the sandboxed apply ran");
    };
    let message = e.to_string();
    assert!(
        message.contains(&format!("{}:6:22", main_hcl(&f))),
        "{message}"
    );
    assert!(
        message.contains("\"/proc/self/environ\" is outside the checkout"),
        "{message}"
    );
    let state = f.state_dir().join("dumcel.tfstate");
    assert!(!state.exists(), "nothing was applied, nothing is recorded");
}

#[tokio::test]
async fn an_ordinary_stack_applies_in_the_sandbox() {
    // The second path is known only when evaluated: confined, and inside.
    let main = r#"terraform {
  backend "local" {
    path = "dumcel.tfstate"
  }
}

locals {
  name = "config"
}

resource "null_resource" "app" {
  triggers = {
    config = file("config.txt")
    sum    = filesha256("./${local.name}.txt")
  }
}
"#;
    let f = Fixture::new(main);
    // The default branch's stack: the same backend, written differently.
    let trusted = f.dir.path().join("trusted");
    std::fs::create_dir_all(&trusted).unwrap();
    std::fs::write(
        trusted.join("main.hcl"),
        "terraform {\n  backend \"local\" { path = \"dumcel.tfstate\" }\n}\n",
    )
    .unwrap();
    let backend = backend_of(&trusted).unwrap();
    assert_eq!(backend, backend_of(&f.stack()).unwrap());
    assert_eq!(
        backend.as_deref(),
        Some(r#"backend "local" { path = "dumcel.tfstate" }"#)
    );

    let applied = match f.apply(backend).await {
        Ok(a) => a,
        Err(e) => panic!("the sandboxed apply failed: {e}"),
    };
    assert_eq!(applied.added, 1);
    let app = applied
        .state
        .resources
        .values()
        .find(|r| r.resource_type == "null_resource")
        .expect("the null_resource is recorded");
    let triggers = &app.attributes["triggers"];
    assert_eq!(triggers["config"], "port=8080\n");
    assert_eq!(triggers["sum"].as_str().map(str::len), Some(64));
    assert!(f.state_dir().join("dumcel.tfstate").is_file());
}

#[test]
fn a_stack_without_backend_has_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), "locals { a = 1 }\n").unwrap();
    assert_eq!(backend_of(dir.path()).unwrap(), None);
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("main.hcl"), "terraform {\n").unwrap();
    let err = backend_of(&broken).unwrap_err().to_string();
    assert!(err.contains("main.hcl:"), "{err}");
}
