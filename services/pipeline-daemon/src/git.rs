//! Fetching one commit of a repository with the `git` program: a shallow
//! fetch of exactly the pushed SHA into an empty directory, then a detached
//! checkout. A token for a private repository goes to git through its
//! environment (`GIT_CONFIG_*`), never on the command line, and is blanked
//! out of anything git prints.

use std::path::Path;
use std::process::Stdio;

use base64::Engine;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0} (is git installed?)")]
    Spawn(std::io::Error),
    #[error("git {step} failed: {message}")]
    Failed { step: &'static str, message: String },
    #[error("clone URL {0:?} is not one the worker fetches from: check the repository's clone_url")]
    Url(String),
}

/// Transports git may use: never `ext::` (runs commands) or other helpers.
/// Clone URLs come only from the daemon's configuration, never from a push
/// message; this is one more fence.
const ALLOWED_PROTOCOLS: &str = "https:http:file:ssh:git";

/// Fetches `rev` (a SHA or a full ref name) from `url` into `dest` (created,
/// must not exist) and checks it out.
pub async fn checkout(
    url: &str,
    rev: &str,
    token: Option<&str>,
    dest: &Path,
) -> Result<(), GitError> {
    if url.starts_with('-') || rev.starts_with('-') {
        return Err(GitError::Url(url.to_owned()));
    }
    tokio::fs::create_dir_all(dest)
        .await
        .map_err(GitError::Spawn)?;
    git(dest, &["init", "--quiet"], None, "init").await?;
    git(
        dest,
        &[
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "--",
            url,
            rev,
        ],
        token,
        "fetch",
    )
    .await?;
    git(
        dest,
        &["checkout", "--quiet", "--detach", "FETCH_HEAD"],
        None,
        "checkout",
    )
    .await
    .map(drop)
}

/// The commit `branch` of `url` points at now; `None` when the branch does
/// not exist. What a push's intent is checked against: a push deploys only
/// while its branch still points at it, so a late or replayed push never
/// replaces a newer one, and a force-push back to an older commit does.
pub async fn head(
    url: &str,
    branch: &str,
    token: Option<&str>,
) -> Result<Option<String>, GitError> {
    if url.starts_with('-') || branch.starts_with('-') {
        return Err(GitError::Url(url.to_owned()));
    }
    let refname = format!("refs/heads/{branch}");
    let out = git(
        Path::new("."),
        &["ls-remote", "--heads", "--", url, &refname],
        token,
        "ls-remote",
    )
    .await?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(_, name)| *name == refname)
        .map(|(sha, _)| sha.to_ascii_lowercase()))
}

/// Runs git in `dir`; what it printed on stdout.
async fn git(
    dir: &Path,
    args: &[&str],
    token: Option<&str>,
    step: &'static str,
) -> Result<String, GitError> {
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(token) = token {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
        cmd.env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .env(
                "GIT_CONFIG_VALUE_0",
                format!("Authorization: Basic {basic}"),
            );
    }
    let out = cmd.output().await.map_err(GitError::Spawn)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let mut message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        message = message.replace(token, "(token)");
    }
    if message.is_empty() {
        message = out.status.to_string();
    }
    Err(GitError::Failed { step, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_fetch_says_why_without_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let token = "ghp_secret_token_value";
        // Nothing listens on port 9 of loopback: git fails to connect.
        let err = checkout(
            &format!("http://x-access-token:{token}@127.0.0.1:9/octo/app.git"),
            &"a".repeat(40),
            Some(token),
            &dir.path().join("c"),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("git fetch failed:"), "{err}");
        assert!(!err.contains(token), "{err}");
    }

    #[tokio::test]
    async fn options_never_pass_for_urls_or_revisions() {
        let dir = tempfile::tempdir().unwrap();
        for (url, rev) in [("--upload-pack=touch x", "a"), ("/srv/a.git", "--output=x")] {
            let err = checkout(url, rev, None, &dir.path().join("c"))
                .await
                .unwrap_err();
            assert!(matches!(err, GitError::Url(_)), "{err}");
        }
    }
}
