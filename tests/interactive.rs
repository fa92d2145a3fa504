//! On a terminal, apply asks for missing variables and for `yes`. A real pty
//! comes from util-linux's `script`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{TestStack, binary};

/// Runs dumcel under a pty, typing `answers` one per second.
fn on_a_terminal(s: &TestStack, args: &str, answers: &[&str]) -> String {
    let mut child = Command::new("script")
        .args(["-qec", &format!("{} {args}", binary()), "/dev/null"])
        .current_dir(s.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux script runs");
    let mut stdin = child.stdin.take().unwrap();
    for a in answers {
        std::thread::sleep(Duration::from_millis(800));
        let _ = writeln!(stdin, "{a}");
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const STACK: &str = r#"
variable "who" {
  description = "Whom to greet."
}
resource "local_file" "f" {
  filename = "f.txt"
  content  = "hello ${var.who}"
}
"#;

#[test]
fn asks_for_a_missing_variable_and_for_approval() {
    let s = TestStack::new(STACK);
    let out = on_a_terminal(&s, "apply -no-color", &["world", "yes"]);
    assert!(out.contains("var.who"), "{out}");
    assert!(out.contains("Whom to greet."), "{out}");
    assert!(out.contains("Only 'yes' will be accepted"), "{out}");
    assert!(out.contains("Apply complete!"), "{out}");
    assert_eq!(s.read("f.txt"), "hello world");
}

#[test]
fn anything_but_yes_cancels() {
    let s = TestStack::new(STACK);
    let out = on_a_terminal(&s, "apply -no-color -var who=x", &["no"]);
    assert!(out.contains("Apply cancelled."), "{out}");
    assert!(!s.file("f.txt").exists());
}
