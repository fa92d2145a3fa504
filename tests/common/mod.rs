//! Runs the real `dumcel` binary on temporary stacks.
#![allow(dead_code)]

pub mod terraform;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub struct TestStack {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_dumcel")
}

impl TestStack {
    pub fn new(main_hcl: &str) -> TestStack {
        let s = TestStack {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        s.write("main.hcl", main_hcl);
        s
    }

    /// A stack directory with no files: the test writes its own.
    pub fn empty() -> TestStack {
        TestStack {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        let path = self.file(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("make the file's directory");
        }
        std::fs::write(path, text).expect("write stack file");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.args(args)
            .current_dir(self.path())
            .env_remove("DUMCEL_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run dumcel"))
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dumcel")
    }

    /// Runs and asserts the exit code.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "dumcel {args:?} failed:\n{}", r.all());
        r
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("dumcel.tfstate")).expect("state is JSON")
    }

    pub fn state_addresses(&self) -> Vec<String> {
        self.state()["resources"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn attr(&self, address: &str, attr: &str) -> serde_json::Value {
        self.state()["resources"][address]["attributes"][attr].clone()
    }
}

/// `dumcel ARGS` run in `dir`, as a person who did `cd dir` would: no log
/// filter, no colour, nothing on stdin.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env_remove("DUMCEL_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run dumcel");
    Run::from(out)
}

/// [`run_in`], which must succeed.
pub fn ok_in(dir: &Path, args: &[&str]) -> Run {
    let r = run_in(dir, args);
    assert_eq!(r.code, 0, "dumcel {args:?} failed:\n{}", r.all());
    r
}
