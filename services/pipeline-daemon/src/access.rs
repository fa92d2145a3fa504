//! Who may see and steer which project: each repository's `access` block
//! lists principals per permission. Nothing is visible to anyone by default.
//!
//! ```hcl
//! repository "octo/app" {
//!   access {
//!     view    = ["group:octo"]                  # see environments, deployments, logs
//!     deploy  = ["user:alice", "token:ci"]      # redeploy, roll back
//!     approve = ["user:alice"]                  # approve a stack change
//!   }
//! }
//! ```
//!
//! A principal is `user:<login>`, `group:<name>` (an organisation, team or
//! OIDC group the sign-in reports), `token:<name>` (an API token of the
//! `api` block) or `*` (anyone signed in). `deploy` and `approve` include
//! `view`.

use serde::Deserialize;

/// What a caller asks to do with a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    View,
    Deploy,
    Approve,
}

/// Who is calling, as the principals they match: a token is
/// `token:<name>`; a signed-in person is `user:<login>` and a `group:` per
/// group they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The first principal, shown in logs and records (`token:ci`).
    pub name: String,
    pub principals: Vec<String>,
    /// A signed-in person's CSRF token (see `api::signin`); `None` for a
    /// machine's API token.
    pub csrf: Option<String>,
}

impl Caller {
    pub fn token(name: &str) -> Caller {
        let principal = format!("token:{name}");
        Caller {
            name: principal.clone(),
            principals: vec![principal],
            csrf: None,
        }
    }
}

/// One repository's `access` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub view: Vec<String>,
    pub deploy: Vec<String>,
    pub approve: Vec<String>,
}

impl Access {
    pub fn allows(&self, caller: &Caller, permission: Permission) -> bool {
        let listed = |list: &[String]| {
            list.iter()
                .any(|p| p == "*" || caller.principals.iter().any(|c| c == p))
        };
        match permission {
            Permission::View => listed(&self.view) || listed(&self.deploy) || listed(&self.approve),
            Permission::Deploy => listed(&self.deploy),
            Permission::Approve => listed(&self.approve),
        }
    }

    /// Every `token:<name>` it lists, to check against the configured tokens.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.view
            .iter()
            .chain(&self.deploy)
            .chain(&self.approve)
            .filter_map(|p| p.strip_prefix("token:"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccess {
    #[serde(default)]
    view: Vec<String>,
    #[serde(default)]
    deploy: Vec<String>,
    #[serde(default)]
    approve: Vec<String>,
}

impl RawAccess {
    /// Checks every principal's form; the error names the bad one.
    pub(crate) fn parse(self) -> Result<Access, String> {
        for (list, principals) in [
            ("view", &self.view),
            ("deploy", &self.deploy),
            ("approve", &self.approve),
        ] {
            if let Some(bad) = principals.iter().find(|p| !is_principal(p)) {
                return Err(format!(
                    "access.{list}: {bad:?} is not a principal: write \"user:<login>\", \"group:<name>\", \"token:<name>\" or \"*\""
                ));
            }
        }
        Ok(Access {
            view: self.view,
            deploy: self.deploy,
            approve: self.approve,
        })
    }
}

fn is_principal(p: &str) -> bool {
    if p == "*" {
        return true;
    }
    let Some((kind, name)) = p.split_once(':') else {
        return false;
    };
    matches!(kind, "user" | "group" | "token")
        && !name.is_empty()
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(view: &[&str], deploy: &[&str]) -> Access {
        Access {
            view: view.iter().map(|s| s.to_string()).collect(),
            deploy: deploy.iter().map(|s| s.to_string()).collect(),
            approve: vec![],
        }
    }

    #[test]
    fn deploy_includes_view_and_nothing_is_open_by_default() {
        let ci = Caller::token("ci");
        assert!(!Access::default().allows(&ci, Permission::View));
        let a = access(&[], &["token:ci"]);
        assert!(a.allows(&ci, Permission::View));
        assert!(a.allows(&ci, Permission::Deploy));
        assert!(!a.allows(&ci, Permission::Approve));
        let viewer = access(&["token:ci"], &[]);
        assert!(viewer.allows(&ci, Permission::View));
        assert!(!viewer.allows(&ci, Permission::Deploy));
        assert!(!viewer.allows(&Caller::token("other"), Permission::View));
        assert!(access(&["*"], &[]).allows(&Caller::token("other"), Permission::View));
    }

    #[test]
    fn principals_are_checked() {
        let raw = |v: &str| RawAccess {
            view: vec![v.into()],
            deploy: vec![],
            approve: vec![],
        };
        assert!(raw("user:alice").parse().is_ok());
        assert!(raw("group:octo/deployers").parse().is_ok());
        let err = raw("alice").parse().unwrap_err();
        assert!(
            err.contains("access.view") && err.contains("\"alice\""),
            "{err}"
        );
        assert!(raw("team:x").parse().is_err());
        assert!(raw("user:").parse().is_err());
    }
}
