//! A push, as the webhook receives it from GitHub and as it travels on the
//! `dumcel.push` topic. Both are untrusted: anything malformed is an error
//! that says what is wrong, never a panic. A message on the topic carries
//! the HMAC of its payload under the pipeline's signing key in the
//! `dumcel-signature` header: anyone who can write to the topic but does not
//! hold the key cannot make a worker deploy, destroy or roll back anything.

use serde::{Deserialize, Serialize};

use crate::signature;

/// Version of the message on `dumcel.push`; bumped on an incompatible change.
pub const PUSH_SCHEMA_VERSION: u32 = 2;

/// The Kafka header holding a message's signature.
pub const SIGNATURE_HEADER: &str = "dumcel-signature";

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
    #[error(
        "unsigned or wrongly signed message ({0}): only the webhook and the dumcel-pipeline commands, holding the signing key, may queue pushes"
    )]
    Signature(signature::SignatureError),
}

/// What a message asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Build and deploy the pushed commit (or destroy a deleted branch's preview).
    #[default]
    Push,
    /// Run the environment again on `sha`'s image, deployed there before
    /// (`dumcel-pipeline rollback`): no build, no check that the branch still
    /// points at it.
    Rollback,
    /// Destroy the branch's preview environment now, whether or not the
    /// branch still exists (`dumcel-pipeline destroy`, the API); a later push
    /// to the branch makes it again.
    Destroy,
    /// Run production (the message's branch is the default branch) on the
    /// image `sha` deployed in the preview environment `from`, with the
    /// default branch's stack (`dumcel-pipeline promote`, the API): no build.
    Promote { from: String },
}

/// One push to one branch of one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub schema_version: u32,
    /// GitHub's `X-GitHub-Delivery` id (or a command's own id): a push's
    /// identity. A redelivery has the same one; a force-push back to an older
    /// commit does not.
    pub delivery: String,
    /// `owner/name`, the message key.
    pub repository: String,
    pub branch: String,
    /// The pushed commit; for a deleted branch, the commit it pointed at before.
    pub sha: String,
    pub deleted: bool,
    #[serde(default)]
    pub action: Action,
    /// The first line of the pushed commit's message (see [`summary`]);
    /// empty for a deleted branch and for a command.
    #[serde(default)]
    pub message: String,
    /// Who asked, as a principal: `user:<login>` for a push (GitHub's
    /// `pusher.name`), `token:<name>` for the API, `cli:<$USER>` for a
    /// command.
    #[serde(default)]
    pub pusher: String,
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
    head_commit: Option<GithubCommit>,
    pusher: Option<GithubPusher>,
}

#[derive(Deserialize)]
struct GithubRepository {
    full_name: Option<String>,
}

#[derive(Deserialize)]
struct GithubCommit {
    message: Option<String>,
}

#[derive(Deserialize)]
struct GithubPusher {
    name: Option<String>,
}

/// The longest commit message summary kept.
pub const SUMMARY_CHARS: usize = 200;

/// A commit message's first line, without control characters, at most
/// [`SUMMARY_CHARS`] characters: it is shown in lists and chat messages, and
/// comes from whoever pushed.
pub fn summary(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    let mut out: String = line
        .chars()
        .filter(|c| !c.is_control())
        .take(SUMMARY_CHARS + 1)
        .collect();
    if out.chars().count() > SUMMARY_CHARS {
        out = out.chars().take(SUMMARY_CHARS - 1).collect();
        out.push('…');
    }
    out
}

/// A GitHub login as a principal; anything that could not be a login is
/// left out.
fn pusher_of(name: &str) -> String {
    let login = !name.is_empty()
        && name.len() <= 39
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if login {
        format!("user:{name}")
    } else {
        String::new()
    }
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
        let message = match (deleted, p.head_commit) {
            (false, Some(c)) => summary(&c.message.unwrap_or_default()),
            _ => String::new(),
        };
        Ok(Push {
            schema_version: PUSH_SCHEMA_VERSION,
            delivery: delivery.to_owned(),
            repository,
            branch,
            sha: sha.to_ascii_lowercase(),
            deleted,
            action: Action::Push,
            message,
            pusher: p
                .pusher
                .and_then(|p| p.name)
                .map(|n| pusher_of(&n))
                .unwrap_or_default(),
        })
    }

    /// Reads a message from the `dumcel.push` topic, checking its
    /// signature (the `dumcel-signature` header) under `key` first.
    pub fn from_signed(
        payload: &[u8],
        signature_header: Option<&[u8]>,
        key: &[u8],
    ) -> Result<Push, PushError> {
        let header = signature_header.map(|h| std::str::from_utf8(h).unwrap_or_default());
        signature::verify(key, payload, header).map_err(PushError::Signature)?;
        Push::from_message(payload)
    }

    /// Reads a message's payload (its signature already checked).
    fn from_message(payload: &[u8]) -> Result<Push, PushError> {
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
        if !valid_delivery(&p.delivery) {
            return Err(PushError::Field("delivery"));
        }
        // Signed by the webhook, but cut to size again all the same.
        Ok(Push {
            message: summary(&p.message),
            pusher: p.pusher.chars().take(100).collect(),
            ..p
        })
    }

    /// The message and its signature header under `key`.
    pub fn signed_message(&self, key: &[u8]) -> (Vec<u8>, String) {
        let payload = self.to_message();
        let signature = signature::sign(key, &payload);
        (payload, signature)
    }

    pub fn to_message(&self) -> Vec<u8> {
        // A struct of strings and bools always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A delivery id: GitHub's are GUIDs, the commands' `rollback-<hex>`. It
/// names a checkout directory, so nothing but letters, digits and `-`.
pub fn valid_delivery(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
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
            "repository": {"full_name": "octo/app", "clone_url": "file:///srv/git/app.git"},
            "head_commit": {"message": "Fix the header\n\nLonger text."},
            "pusher": {"name": "octocat", "email": "octocat@example.com"}
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
        assert_eq!(p.message, "Fix the header");
        assert_eq!(p.pusher, "user:octocat");
        let key = b"0123456789abcdef";
        let (payload, signature) = p.signed_message(key);
        assert_eq!(
            Push::from_signed(&payload, Some(signature.as_bytes()), key).unwrap(),
            p
        );
    }

    #[test]
    fn unsigned_or_forged_messages_are_refused() {
        let p = Push::from_github(&body("refs/heads/main", SHA, false), "d1").unwrap();
        let key = b"0123456789abcdef";
        let (payload, _) = p.signed_message(key);
        let (_, other_key) = p.signed_message(b"another key, not ours");
        for header in [None, Some(other_key.as_bytes()), Some(&b"sha256=zz"[..])] {
            assert!(matches!(
                Push::from_signed(&payload, header, key),
                Err(PushError::Signature(_))
            ));
        }
        let mut tampered = payload.clone();
        let at = tampered.iter().position(|&b| b == b'm').unwrap();
        tampered[at] = b'x';
        let (_, good) = p.signed_message(key);
        assert!(Push::from_signed(&tampered, Some(good.as_bytes()), key).is_err());
    }

    #[test]
    fn a_deleted_branch_keeps_the_sha_it_pointed_at() {
        let p = Push::from_github(&body("refs/heads/x", NULL_SHA, true), "d").unwrap();
        assert!(p.deleted);
        assert_eq!(p.sha, SHA);
        assert_eq!(
            p.message, "",
            "a deleted branch's head_commit is not the deleted commit"
        );
    }

    #[test]
    fn a_commit_summary_is_one_short_line_of_text() {
        assert_eq!(summary("  One line  \nmore"), "One line");
        assert_eq!(summary("bell\u{7} and\ttab"), "bell andtab");
        assert_eq!(summary(""), "");
        let long = "é".repeat(500);
        let s = summary(&long);
        assert_eq!(s.chars().count(), SUMMARY_CHARS);
        assert!(s.ends_with('…'));
        assert_eq!(
            summary(&"x".repeat(SUMMARY_CHARS)),
            "x".repeat(SUMMARY_CHARS)
        );
        assert_eq!(pusher_of("octo-cat"), "user:octo-cat");
        assert_eq!(pusher_of("evil\nname"), "");
        assert_eq!(pusher_of("a:b"), "");
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
        let bad_repo = br#"{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","repository":{"full_name":"../x"}}"#;
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
