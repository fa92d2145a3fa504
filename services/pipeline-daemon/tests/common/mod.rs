//! What the pipeline daemon's tests share: real GitHub push payloads from
//! @octokit/webhooks-examples (installed by dev/fixtures/github-examples.sh),
//! rewritten to point at a repository of the test's own.
#![allow(dead_code)]

pub mod broker;
pub mod harness;
pub mod oidc;

use std::path::PathBuf;

fn examples_index() -> PathBuf {
    if let Ok(p) = std::env::var("DUMCEL_GITHUB_EXAMPLES") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    PathBuf::from(home).join(
        ".cache/dumcel/octokit/node_modules/@octokit/webhooks-examples/api.github.com/index.json",
    )
}

/// GitHub's example push deliveries.
pub fn github_pushes() -> Vec<serde_json::Value> {
    let path = examples_index();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; install the examples with dev/fixtures/github-examples.sh",
            path.display()
        )
    });
    let index: serde_json::Value = serde_json::from_str(&text).expect("index.json is JSON");
    index
        .as_array()
        .and_then(|events| events.iter().find(|e| e["name"] == "push"))
        .and_then(|e| e["examples"].as_array())
        .cloned()
        .expect("push examples in index.json")
}

/// GitHub's example branch push, rewritten: repository `full_name`, branch and
/// commit of the test's choosing, cloned from `clone_url`.
pub fn branch_push(full_name: &str, branch: &str, sha: &str, clone_url: &str) -> Vec<u8> {
    let mut push = github_pushes()
        .into_iter()
        .find(|p| {
            p["ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("refs/heads/"))
        })
        .expect("a branch push among GitHub's examples");
    push["ref"] = format!("refs/heads/{branch}").into();
    push["after"] = sha.into();
    push["repository"]["full_name"] = full_name.into();
    push["repository"]["name"] = full_name.rsplit('/').next().unwrap_or_default().into();
    push["repository"]["clone_url"] = clone_url.into();
    serde_json::to_vec(&push).unwrap()
}

/// The delivery GitHub sends when `branch` (last at `sha`) is deleted.
pub fn branch_deleted(full_name: &str, branch: &str, sha: &str, clone_url: &str) -> Vec<u8> {
    let mut push: serde_json::Value =
        serde_json::from_slice(&branch_push(full_name, branch, sha, clone_url)).unwrap();
    push["before"] = sha.into();
    push["after"] = "0000000000000000000000000000000000000000".into();
    push["deleted"] = true.into();
    push["created"] = false.into();
    serde_json::to_vec(&push).unwrap()
}
