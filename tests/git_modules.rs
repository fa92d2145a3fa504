//! Modules from git repositories, fetched by `dumcel init` into
//! .dumcel/modules as `terraform init` fetches into .terraform/modules.
//! The repositories are bare ones in a temp dir, reached by file:// URLs:
//! nothing goes to the network.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestStack;

/// Runs git in `dir` with a fixed identity and no user configuration.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository at `<root>/<name>.git`, and a work clone beside it
/// that commits and pushes.
struct Repo {
    work: std::path::PathBuf,
    url: String,
}

impl Repo {
    fn new(root: &Path, name: &str) -> Repo {
        let bare = root.join(format!("{name}.git"));
        let work = root.join(format!("{name}-work"));
        std::fs::create_dir_all(&bare).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        git(&bare, &["init", "--quiet", "--bare"]);
        git(&work, &["init", "--quiet"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        Repo {
            work,
            url: format!("file://{}", bare.display()),
        }
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.work.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Commits everything, tags it, and pushes both.
    fn release(&self, tag: &str) {
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "--quiet", "-m", tag]);
        git(&self.work, &["tag", tag]);
        git(
            &self.work,
            &["push", "--quiet", "origin", "HEAD:refs/heads/main", tag],
        );
    }
}

/// The module repository: modules/x calls a local sibling and a module of
/// a second repository; v2 changes x's output.
struct Fixture {
    _repos: tempfile::TempDir,
    app: Repo,
    lib_url: String,
}

fn module_x(version: &str, lib_url: &str) -> String {
    format!(
        r#"
resource "null_resource" "marker" {{
  triggers = {{ version = "{version}" }}
}}
module "helper" {{
  source = "../helper"
}}
module "leaf" {{
  source = "git::{lib_url}//leaf?ref=v1"
}}
output "version" {{
  value = "{version}"
}}
output "helper" {{
  value = module.helper.name
}}
output "leaf" {{
  value = module.leaf.name
}}
"#
    )
}

fn fixture() -> Fixture {
    let repos = tempfile::tempdir().unwrap();
    let lib = Repo::new(repos.path(), "lib");
    lib.write(
        "leaf/main.tf",
        "output \"name\" {\n  value = \"leaf-1\"\n}\n",
    );
    lib.release("v1");
    let app = Repo::new(repos.path(), "app");
    app.write("modules/x/main.tf", &module_x("v1", &lib.url));
    app.write(
        "modules/helper/main.tf",
        "output \"name\" {\n  value = \"helper\"\n}\n",
    );
    app.release("v1");
    app.write("modules/x/main.tf", &module_x("v2", &lib.url));
    app.release("v2");
    Fixture {
        _repos: repos,
        app,
        lib_url: lib.url,
    }
}

fn stack_calling(source: &str) -> TestStack {
    TestStack::new(&format!(
        r#"
module "x" {{
  source = "{source}"
}}
output "x_version" {{
  value = module.x.version
}}
output "x_nested" {{
  value = "${{module.x.helper}}/${{module.x.leaf}}"
}}
"#
    ))
}

#[test]
fn init_fetches_a_tag_and_fetches_again_when_the_ref_changes() {
    let f = fixture();
    let v1 = format!("git::{}//modules/x?ref=v1", f.app.url);
    let s = stack_calling(&v1);

    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("Module not installed"), "{}", r.all());
    assert!(r.stderr.contains("module.x"), "{}", r.all());
    assert!(r.stderr.contains("dumcel init"), "{}", r.all());

    let r = s.ok(&["init", "-no-color"]);
    assert!(r.stdout.contains("Initializing modules..."), "{}", r.all());
    assert!(
        r.stdout
            .contains(&format!("Downloading git::{}?ref=v1 for x...", f.app.url)),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("- x in .dumcel/modules/x/modules/x"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("- x.helper in .dumcel/modules/x/modules/helper"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("- x.leaf in .dumcel/modules/x.leaf/leaf"),
        "{}",
        r.all()
    );
    assert!(s.file(".dumcel/modules/x/modules/x/main.tf").is_file());
    let manifest: serde_json::Value =
        serde_json::from_str(&s.read(".dumcel/modules/modules.json")).expect("manifest is JSON");
    assert_eq!(
        manifest,
        serde_json::json!({"Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {"Key": "x", "Source": v1, "Dir": ".dumcel/modules/x/modules/x"},
            {"Key": "x.helper", "Source": "../helper", "Dir": ".dumcel/modules/x/modules/helper"},
            {"Key": "x.leaf", "Source": format!("git::{}//leaf?ref=v1", f.lib_url), "Dir": ".dumcel/modules/x.leaf/leaf"},
        ]})
    );

    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(s.ok(&["output", "-raw", "x_version"]).stdout, "v1");
    assert_eq!(
        s.ok(&["output", "-raw", "x_nested"]).stdout,
        "helper/leaf-1"
    );
    assert_eq!(
        s.attr("module.x.null_resource.marker", "triggers")["version"],
        "v1"
    );

    // Init again with the same source: nothing is downloaded.
    let r = s.ok(&["init", "-no-color"]);
    assert!(!r.stdout.contains("Downloading"), "{}", r.all());
    assert!(
        r.stdout.contains("- x in .dumcel/modules/x/modules/x"),
        "{}",
        r.all()
    );

    // A changed source is refused until init installs it.
    let v2 = format!("git::{}//modules/x?ref=v2", f.app.url);
    s.write("main.hcl", &s.read("main.hcl").replace(&v1, &v2));
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Module source has changed"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("dumcel init"), "{}", r.all());

    let r = s.ok(&["init", "-no-color"]);
    assert!(r.stdout.contains("?ref=v2 for x..."), "{}", r.all());
    // The nested module's source did not change: it is kept.
    assert!(!r.stdout.contains("for x.leaf..."), "{}", r.all());
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(s.ok(&["output", "-raw", "x_version"]).stdout, "v2");

    // -upgrade fetches everything again.
    let r = s.ok(&["init", "-upgrade", "-no-color"]);
    assert!(r.stdout.contains("for x..."), "{}", r.all());
    assert!(r.stdout.contains("for x.leaf..."), "{}", r.all());
}

#[test]
fn a_branch_and_a_shallow_clone_are_checked_out() {
    let f = fixture();
    // main is at v2; depth=1 clones only its last commit.
    let s = stack_calling(&format!("git::{}//modules/x?ref=main&depth=1", f.app.url));
    s.ok(&["init", "-no-color"]);
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(s.ok(&["output", "-raw", "x_version"]).stdout, "v2");
}

#[test]
fn a_bad_ref_names_the_module_the_source_and_gits_message() {
    let f = fixture();
    let s = stack_calling(&format!("git::{}//modules/x?ref=v9", f.app.url));
    let r = s.run(&["init", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    for want in [
        "Failed to download module",
        "Could not download module \"x\"",
        &format!("git::{}?ref=v9", f.app.url),
        "v9",
        "main.hcl:2",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.all());
    }
    // Nothing half-fetched is left to load.
    assert!(!s.file(".dumcel/modules/x").exists());
    let r = s.run(&["plan", "-no-color"]);
    assert!(r.stderr.contains("Module not installed"), "{}", r.all());
}

#[test]
fn a_missing_subdirectory_is_named() {
    let f = fixture();
    let s = stack_calling(&format!("git::{}//modules/nope?ref=v1", f.app.url));
    let r = s.run(&["init", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("Module \"x\""), "{}", r.all());
    assert!(
        r.stderr.contains("has no directory \"modules/nope\""),
        "{}",
        r.all()
    );
}

#[test]
fn a_malformed_source_is_named_before_anything_is_fetched() {
    let s = stack_calling("git::https://example.invalid/r.git?ref=v1&depth=none");
    let r = s.run(&["init", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Module \"x\": unsupported source"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("depth takes a number"), "{}", r.all());
    assert!(!r.stdout.contains("Downloading"), "{}", r.all());
}

#[test]
fn credentials_in_a_source_are_not_printed() {
    // Port 9 on 127.0.0.1 (discard) refuses quickly: git fails, offline.
    let s = stack_calling("git::http://alice:s3cret-token@127.0.0.1:9/r.git//m?ref=v1");
    let r = s.run(&["init", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("Downloading git::http://127.0.0.1:9/r.git?ref=v1 for x..."),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("Could not download module \"x\""),
        "{}",
        r.all()
    );
    // The source line itself is the user's own; the messages around it
    // never repeat the token.
    let messages: String = r
        .stderr
        .lines()
        .filter(|l| !l.contains("source ="))
        .collect();
    assert!(!messages.contains("s3cret"), "{}", r.all());
    assert!(!r.stdout.contains("s3cret"), "{}", r.all());
}

#[test]
fn a_fetched_module_stays_inside_its_repository_and_cannot_recurse_forever() {
    let repos = tempfile::tempdir().unwrap();
    let repo = Repo::new(repos.path(), "odd");
    // Calls itself through git: each call is a new key (x, x.x, ...).
    repo.write(
        "loop/main.tf",
        &format!(
            "module \"x\" {{\n  source = \"git::{}//loop?ref=v1\"\n}}\n",
            repo.url
        ),
    );
    // Leaves the checkout for the stack's own .dumcel directory.
    repo.write(
        "escape/main.tf",
        "module \"out\" {\n  source = \"../../../elsewhere\"\n}\n",
    );
    repo.release("v1");

    let s = stack_calling(&format!("git::{}//loop?ref=v1", repo.url));
    let r = s.run(&["init", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Modules nest more than 16 deep"),
        "{}",
        r.all()
    );

    let s = stack_calling(&format!("git::{}//escape?ref=v1", repo.url));
    let r = s.run(&["init", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Local module path escapes module package"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("module x.out"), "{}", r.all());
}
