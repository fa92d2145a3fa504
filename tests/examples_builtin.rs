//! examples/builtin run exactly as the README's quick tour shows it: a copy of
//! the directory as it is in the repository, nothing prepared, and in it
//! `init`, `plan -out=tfplan`, `apply tfplan`, `output -json`,
//! `plan -detailed-exitcode`, `destroy -auto-approve`, checked by what each
//! leaves on disk and prints.

mod common;

use std::path::Path;

use common::TestStack;

use common::{ok_in as ok, run_in as dumcel};

#[test]
fn builtin_example_runs_as_the_quick_tour_shows() {
    let root = TestStack::empty();
    let dir = root.file("builtin");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/builtin");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(&source).expect("examples/builtin") {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }

    ok(&dir, &["init", "-no-color"]);
    let plan = ok(&dir, &["plan", "-out=tfplan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("Plan: 6 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
    assert!(dir.join("tfplan").is_file(), "the plan is saved");
    assert!(
        !plan.all().contains("not-a-real-token"),
        "the sensitive token is never shown:\n{}",
        plan.all()
    );
    assert!(!dir.join("out").exists(), "plan changes nothing");

    let applied = ok(&dir, &["apply", "tfplan", "-no-color"]);
    assert!(
        !applied.all().contains("not-a-real-token"),
        "{}",
        applied.all()
    );
    let read = |name: &str| std::fs::read_to_string(dir.join("out").join(name)).unwrap_or_default();
    assert_eq!(read("demo-index.txt"), "web=8080\nworker=9090\n");
    assert!(
        read("demo-web.conf").contains("port    = 8080"),
        "{}",
        read("demo-web.conf")
    );
    assert_eq!(read("demo-token"), "not-a-real-token");

    let out = ok(&dir, &["output", "-json"]);
    let outputs: serde_json::Value = serde_json::from_str(&out.stdout).expect("outputs are JSON");
    let files: Vec<&str> = outputs["config_files"]["value"]
        .as_array()
        .expect("config_files is a list")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert_eq!(files, ["./out/demo-web.conf", "./out/demo-worker.conf"]);
    let release = outputs["release_id"]["value"].as_str().unwrap_or_default();
    assert!(
        !release.is_empty() && read("demo-web.conf").contains(release),
        "the release id reaches the files: {release}"
    );

    let again = dumcel(&dir, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "nothing to do:\n{}", again.all());

    ok(&dir, &["destroy", "-auto-approve", "-no-color"]);
    for name in [
        "demo-web.conf",
        "demo-worker.conf",
        "demo-index.txt",
        "demo-token",
    ] {
        assert!(
            !dir.join("out").join(name).exists(),
            "destroy removes {name}"
        );
    }
}
