//! Which environment a push deploys to. The default branch is `production`,
//! in the stack's `default` workspace; any other branch of a repository with
//! previews is `preview-<slug>` in a workspace of that name, served on
//! `<slug>--<project>.<domain>`: one DNS label, so that one wildcard
//! certificate (`*.<domain>`) covers production and every preview.

use crate::config::{Config, Repository};

/// How long a branch slug may be: a DNS label is at most 63 bytes, and
/// `preview-<slug>` also names AWS resources with tight limits.
pub const MAX_SLUG: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// `production` or `preview-<slug>`: in events, records and the stack's
    /// `environment` variable.
    pub name: String,
    /// The engine workspace holding its state.
    pub workspace: String,
    /// The host name it is served at (by the router, or the ALB), when a
    /// domain is configured.
    pub host: Option<String>,
    pub preview: bool,
}

pub const PRODUCTION: &str = "production";

/// The environment a push to `branch` deploys, or `None` when the branch is
/// not deployed (not the default branch, and previews are off).
pub fn for_branch(config: &Config, repo: &Repository, branch: &str) -> Option<Environment> {
    let host = |prefix: Option<&str>| {
        config.domain.as_ref().map(|d| match prefix {
            Some(p) => format!("{p}--{}.{d}", repo.project),
            None => format!("{}.{d}", repo.project),
        })
    };
    if branch == repo.default_branch {
        return Some(Environment {
            name: PRODUCTION.to_owned(),
            workspace: dumcel_session::workspace::DEFAULT.to_owned(),
            host: host(None),
            preview: false,
        });
    }
    if !repo.previews {
        return None;
    }
    let slug = slug(branch);
    let name = format!("preview-{slug}");
    Some(Environment {
        workspace: name.clone(),
        name,
        host: host(Some(&slug)),
        preview: true,
    })
}

/// A branch name as a DNS label: lowercase letters and digits, every other
/// run of characters one `-`, cut to [`MAX_SLUG`]. Two branches may share a
/// slug (`feature/a-b` and `feature-a/b`); a short hash of the full name
/// keeps them apart whenever the name had to change.
pub fn slug(branch: &str) -> String {
    let mut out = String::new();
    for c in branch.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_owned();
    if out == branch && out.len() <= MAX_SLUG {
        return out;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(branch.as_bytes());
    let tag = hex::encode(&digest[..3]);
    out.truncate(MAX_SLUG - tag.len() - 1);
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        tag
    } else {
        format!("{out}-{tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config() -> Config {
        Config::parse(
            "d.hcl",
            r#"
target = "ecs"
kafka { brokers = "127.0.0.1:9092" }
domain = "apps.test"
repository "octo/shop" {
  previews = true
}
repository "octo/site" {}
"#,
        )
        .unwrap()
    }

    #[test]
    fn the_default_branch_is_production_in_the_default_workspace() {
        let c = config();
        let env = for_branch(&c, &c.repositories["octo/shop"], "main").unwrap();
        assert_eq!(env.name, "production");
        assert_eq!(env.workspace, "default");
        assert_eq!(env.host.as_deref(), Some("shop.apps.test"));
        assert!(!env.preview);
    }

    #[test]
    fn other_branches_are_previews_only_where_enabled() {
        let c = config();
        let env = for_branch(&c, &c.repositories["octo/shop"], "fix-login").unwrap();
        assert_eq!(env.name, "preview-fix-login");
        assert_eq!(env.workspace, "preview-fix-login");
        assert_eq!(env.host.as_deref(), Some("fix-login--shop.apps.test"));
        assert_eq!(
            for_branch(&c, &c.repositories["octo/site"], "fix-login"),
            None
        );
    }

    #[test]
    fn slugs_are_dns_labels_and_keep_different_branches_apart() {
        for branch in [
            "feature/Login",
            "feature-login",
            "--/--",
            "a".repeat(300).as_str(),
            "ünïcode/ブランチ",
            "x",
        ] {
            let s = slug(branch);
            assert!(crate::config::is_label(&s), "{branch:?} -> {s:?}");
            assert!(s.len() <= MAX_SLUG, "{s}");
        }
        assert_ne!(slug("feature/a-b"), slug("feature-a/b"));
        assert_eq!(slug("fix-login"), "fix-login");
    }
}
