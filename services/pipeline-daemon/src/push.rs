//! A push, as the webhook receives it from GitHub and as it travels on the
//! `dumcel.push` topic. Both are untrusted: anything malformed is an error
//! that says what is wrong, never a panic.

use serde::{Deserialize, Serialize};

/// Version of the message on `dumcel.push`; bumped on an incompatible change.
pub const PUSH_SCHEMA_VERSION: u32 = 1;

/// The all-zero SHA GitHub sends as `after` when a branch is deleted.
const NULL_SHA: &str = "0000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("missing or invalid field `{0}`")]
    Field(&'static str),
    #[error("`ref` {0:?} is not a branch (refs/heads/...)")]
    NotABranch(String),
    #[error("schema_version {0} is not one this worker reads (expected {PUSH_SCHEMA_VERSION})")]
    Version(u32),
}

/// One push to one branch of one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub schema_version: u32,
    /// GitHub's `X-GitHub-Delivery` id, for tracing a delivery end to end.
    pub delivery: String,
    /// `owner/name`, the message key.
    pub repository: String,
    pub branch: String,
    /// The pushed commit; for a deleted branch, the commit it pointed at before.
    pub sha: String,
    pub deleted: bool,
    pub clone_url: String,
}

#[derive(Deserialize)]
struct GithubPush {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    before: Option<String>,
    after: Option<String>,
    #[serde(default)]
    deleted: bool,
    repository: Option<GithubRepository>,
}

#[derive(Deserialize)]
struct GithubRepository {
    full_name: Option<String>,
    clone_url: Option<String>,
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Push {
    /// Reads a GitHub `push` delivery body.
    pub fn from_github(body: &[u8], delivery: &str) -> Result<Push, PushError> {
        let p: GithubPush =
            serde_json::from_slice(body).map_err(|e| PushError::NotJson(e.to_string()))?;
        let git_ref = p.git_ref.ok_or(PushError::Field("ref"))?;
        let branch = git_ref
            .strip_prefix("refs/heads/")
            .filter(|b| !b.is_empty())
            .ok_or_else(|| PushError::NotABranch(git_ref.clone()))?
            .to_owned();
        let repo = p.repository.ok_or(PushError::Field("repository"))?;
        let repository = repo
            .full_name
            .filter(|n| valid_repository(n))
            .ok_or(PushError::Field("repository.full_name"))?;
        let clone_url = repo
            .clone_url
            .filter(|u| !u.is_empty())
            .ok_or(PushError::Field("repository.clone_url"))?;
        let after = p.after.ok_or(PushError::Field("after"))?;
        let deleted = p.deleted || after == NULL_SHA;
        let sha = if deleted {
            p.before.ok_or(PushError::Field("before"))?
        } else {
            after
        };
        if !is_sha(&sha) {
            return Err(PushError::Field(if deleted { "before" } else { "after" }));
        }
        Ok(Push {
            schema_version: PUSH_SCHEMA_VERSION,
            delivery: delivery.to_owned(),
            repository,
            branch,
            sha: sha.to_ascii_lowercase(),
            deleted,
            clone_url,
        })
    }

    /// Reads a message from the `dumcel.push` topic.
    pub fn from_message(payload: &[u8]) -> Result<Push, PushError> {
        let p: Push =
            serde_json::from_slice(payload).map_err(|e| PushError::NotJson(e.to_string()))?;
        if p.schema_version != PUSH_SCHEMA_VERSION {
            return Err(PushError::Version(p.schema_version));
        }
        if !valid_repository(&p.repository) {
            return Err(PushError::Field("repository"));
        }
        if !is_sha(&p.sha) {
            return Err(PushError::Field("sha"));
        }
        if p.branch.is_empty() {
            return Err(PushError::Field("branch"));
        }
        Ok(p)
    }

    pub fn to_message(&self) -> Vec<u8> {
        // A struct of strings and bools always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// `owner/name` with GitHub's characters only.
fn valid_repository(name: &str) -> bool {
    let mut parts = name.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

    fn body(git_ref: &str, after: &str, deleted: bool) -> Vec<u8> {
        serde_json::json!({
            "ref": git_ref, "before": SHA, "after": after, "deleted": deleted,
            "repository": {"full_name": "octo/app", "clone_url": "file:///srv/git/app.git"}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_branch_push_becomes_a_message_and_back() {
        let other = "a".repeat(40);
        let p = Push::from_github(&body("refs/heads/feature/x", &other, false), "d1").unwrap();
        assert_eq!(p.repository, "octo/app");
        assert_eq!(p.branch, "feature/x");
        assert_eq!(p.sha, other);
        assert!(!p.deleted);
        assert_eq!(Push::from_message(&p.to_message()).unwrap(), p);
    }

    #[test]
    fn a_deleted_branch_keeps_the_sha_it_pointed_at() {
        let p = Push::from_github(&body("refs/heads/x", NULL_SHA, true), "d").unwrap();
        assert!(p.deleted);
        assert_eq!(p.sha, SHA);
    }

    #[test]
    fn malformed_pushes_say_what_is_wrong() {
        assert!(matches!(
            Push::from_github(b"[1", "d"),
            Err(PushError::NotJson(_))
        ));
        assert_eq!(
            Push::from_github(&body("refs/tags/v1", SHA, false), "d"),
            Err(PushError::NotABranch("refs/tags/v1".into()))
        );
        assert_eq!(
            Push::from_github(&body("refs/heads/main", "xyz", false), "d"),
            Err(PushError::Field("after"))
        );
        let bad_repo = br#"{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","repository":{"full_name":"../x","clone_url":"u"}}"#;
        assert_eq!(
            Push::from_github(bad_repo, "d"),
            Err(PushError::Field("repository.full_name"))
        );
        assert!(matches!(
            Push::from_message(b"\xff\x00"),
            Err(PushError::NotJson(_))
        ));
    }
}
