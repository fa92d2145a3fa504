//! The commands around plan and apply: fmt, validate, graph, output, state, show.

mod common;

use common::TestStack;

const STACK: &str = r#"
resource "null_resource" "a" {
  triggers = { x = "1" }
}
resource "null_resource" "b" {
  count    = 2
  triggers = { a = null_resource.a.id }
}
output "b_ids" {
  value = null_resource.b[*].id
}
output "greeting" {
  value = "hello"
}
"#;

#[test]
fn fmt_check_diff_and_rewrite_keep_comments() {
    let s = TestStack::new(
        "# keep me\nresource \"null_resource\" \"a\" {\ntriggers = { x = \"1\" } # and me\n  count=1\n}\n",
    );
    let check = s.run(&["fmt", "-check"]);
    assert_eq!(check.code, 3, "{}", check.all());
    assert!(check.stdout.contains("main.hcl"), "{}", check.all());
    let diff = s.run(&["fmt", "-check", "-diff"]);
    assert!(diff.stdout.contains("+  triggers"), "{}", diff.all());
    s.ok(&["fmt"]);
    let formatted = s.read("main.hcl");
    assert_eq!(
        formatted,
        "# keep me\nresource \"null_resource\" \"a\" {\n  triggers = { x = \"1\" } # and me\n  count    = 1\n}\n"
    );
    assert_eq!(s.run(&["fmt", "-check"]).code, 0);
}

#[test]
fn validate_graph_and_version() {
    let s = TestStack::new(STACK);
    let v = s.ok(&["validate", "-no-color"]);
    assert!(
        v.stdout.contains("Success! The configuration is valid."),
        "{}",
        v.all()
    );
    let j = s.ok(&["validate", "-json"]);
    let json: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(json["valid"], true);
    let g = s.ok(&["graph"]);
    assert!(g.stdout.starts_with("digraph {"), "{}", g.all());
    assert!(
        g.stdout
            .contains("\"null_resource.b\" -> \"null_resource.a\""),
        "{}",
        g.all()
    );
    let ver = s.ok(&["version"]);
    assert!(ver.stdout.starts_with("Dumcel v"), "{}", ver.all());
}

#[test]
fn outputs_and_state_commands() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.ok(&["output", "-raw", "greeting"]).stdout, "hello");
    let all: serde_json::Value = serde_json::from_str(&s.ok(&["output", "-json"]).stdout).unwrap();
    assert_eq!(all["b_ids"]["value"].as_array().map(Vec::len), Some(2));

    let list = s.ok(&["state", "list"]);
    assert_eq!(
        list.stdout,
        "null_resource.a\nnull_resource.b[0]\nnull_resource.b[1]\n"
    );
    let show = s.ok(&["state", "show", "null_resource.a", "-no-color"]);
    assert!(show.stdout.contains("null_resource"), "{}", show.all());

    let pulled = s.ok(&["state", "pull"]).stdout;
    let before: serde_json::Value = serde_json::from_str(&pulled).unwrap();

    s.ok(&["state", "mv", "null_resource.b", "null_resource.c"]);
    let list = s.ok(&["state", "list"]).stdout;
    assert!(
        list.contains("null_resource.c[0]") && list.contains("null_resource.c[1]"),
        "{list}"
    );
    s.ok(&["state", "rm", "null_resource.c[1]"]);
    assert_eq!(
        s.ok(&["state", "list", "null_resource.c"]).stdout,
        "null_resource.c[0]\n"
    );

    // An older snapshot is refused; with -force it is taken.
    s.write("old.tfstate", &pulled);
    let refused = s.run(&["state", "push", "old.tfstate"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(refused.stderr.contains("older"), "{}", refused.all());
    s.ok(&["state", "push", "-force", "old.tfstate"]);
    assert_eq!(s.state()["resources"], before["resources"]);
    assert!(s.state()["serial"].as_u64() > before["serial"].as_u64());

    let show = s.ok(&["show", "-json"]);
    let json: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(
        json["values"]["root_module"]["resources"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[test]
fn a_corrupt_state_file_is_an_error_not_a_panic() {
    let s = TestStack::new(STACK);
    s.write("dumcel.tfstate", "{\"version\": 1, \"serial\": ");
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("dumcel.tfstate"),
        "names the file: {}",
        r.all()
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.all());
}

#[test]
fn console_evaluates_expressions_against_state() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    let mut child = s
        .command(&["console"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "length(null_resource.b)").unwrap();
        writeln!(stdin, "null_resource.b[0].triggers.a == null_resource.a.id").unwrap();
        writeln!(stdin, "upper(\"x${{1 + 1}}\")").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\ntrue\n\"X2\"\n");

    let bad = s
        .command(&["console"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = {
        use std::io::Write;
        let mut bad = bad;
        writeln!(bad.stdin.take().unwrap(), "null_resource.zzz.id").unwrap();
        bad.wait_with_output().unwrap()
    };
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("<console>:1:1"),
        "the error points into the typed line: {err}"
    );
}

#[test]
fn state_commands_never_fall_back_to_a_local_file_when_the_configuration_does_not_load() {
    // The backend is in S3, but another file is broken: reading or editing a
    // local dumcel.tfstate instead would show or change the wrong state.
    let s = TestStack::new(
        "terraform {\n  backend \"s3\" {\n    bucket = \"team-state\"\n    key    = \"app/dumcel.tfstate\"\n  }\n}\n",
    );
    s.write("broken.hcl", "resource \"null_resource\" {\n");
    s.write(
        "dumcel.tfstate",
        r#"{"version": 1, "serial": 1, "lineage": "0c5a2f55-7a53-4a5e-9d67-2f0f1f0b7a11", "dumcel_version": "0.1.0", "resources": {}}"#,
    );
    for args in [
        &["state", "list"][..],
        &["state", "rm", "null_resource.a"],
        &["state", "pull"],
        &["show"],
        &["output"],
    ] {
        let r = s.run(args);
        assert_eq!(r.code, 1, "dumcel {args:?}: {}", r.all());
        assert!(
            r.stderr.contains("broken.hcl"),
            "dumcel {args:?}: {}",
            r.all()
        );
    }
}
