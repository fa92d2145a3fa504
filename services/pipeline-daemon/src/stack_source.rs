//! Which stack a pipeline run applies, and with what fences. The stack is
//! code that runs with the worker's credentials, so a branch does not get to
//! choose it: a preview whose branch changes the stack waits for a person to
//! approve the change (as Atlantis does for pull requests), unless the
//! repository trusts branch stacks. Every run is sandboxed (see
//! `dumcel_session::Sandbox`): file functions read only the checkout, and
//! the backend must be the default branch's.

use std::path::{Path, PathBuf};

use crate::pipeline::{Job, Services, fetch, sibling};
use crate::retry::transient;

/// What a preview may deploy with.
pub enum Choice {
    Ready(StackSource),
    /// The branch changes the stack and no one approved the change.
    Unapproved {
        branch: StackSource,
        trusted: StackSource,
    },
}

/// Whether the directories `a` and `b` hold the same files, byte for byte.
fn same_files(a: &Path, b: &Path) -> Result<bool, String> {
    fn files(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
        let mut files = Vec::new();
        let walk = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.file_name() != ".git");
        for entry in walk {
            let entry = entry.map_err(|e| format!("reading the stack: {e}"))?;
            if entry.file_type().is_dir() {
                continue;
            }
            // Symbolic links are compared as what they point at, by name.
            let content = if entry.path_is_symlink() {
                std::fs::read_link(entry.path()).map(|p| p.into_os_string().into_encoded_bytes())
            } else {
                std::fs::read(entry.path())
            }
            .map_err(|e| format!("reading {}: {e}", entry.path().display()))?;
            let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            files.push((relative.to_owned(), content));
        }
        Ok(files)
    }
    Ok(files(a)? == files(b)?)
}

#[derive(Clone)]
pub struct StackSource {
    /// The checkout the stack's files come from: the sandbox's root.
    pub checkout: PathBuf,
    /// The stack directory inside it.
    pub dir: PathBuf,
    /// The backend the trusted stack declares.
    pub backend: Option<String>,
}

impl StackSource {
    fn at(checkout: &Path, job: &Job) -> Result<StackSource, String> {
        let dir = checkout.join(&job.repo.stack);
        let backend = dumcel_session::backend_of(&dir).map_err(|e| e.to_string())?;
        Ok(StackSource {
            checkout: checkout.to_owned(),
            dir,
            backend,
        })
    }

    /// The default branch's stack as it is now, fetched next to `checkout`.
    pub async fn default_branch(job: &Job, checkout: &Path) -> Result<StackSource, String> {
        let dir = sibling(checkout, "default");
        let rev = format!("refs/heads/{}", job.repo.default_branch);
        fetch(job, &rev, &dir).await?;
        StackSource::at(&dir, job)
    }

    /// The stack `job` deploys with; `checkout` holds the pushed commit.
    pub async fn for_push(
        services: &Services,
        job: &Job,
        checkout: &Path,
    ) -> Result<Choice, String> {
        if !job.env.preview {
            return StackSource::at(checkout, job).map(Choice::Ready);
        }
        let trusted = StackSource::default_branch(job, checkout).await?;
        let branch = StackSource {
            backend: trusted.backend.clone(),
            ..StackSource::at(checkout, job)?
        };
        if job.repo.trust_branch_stacks || same_files(&trusted.dir, &branch.dir)? {
            return Ok(Choice::Ready(branch));
        }
        let decision = transient("reading approvals", || {
            services
                .deployments
                .decision(&job.repo.project, &job.push.sha)
        })
        .await
        .map_err(|e| e.to_string())?;
        Ok(match decision {
            Some(d) if d.approved => Choice::Ready(branch),
            _ => Choice::Unapproved { branch, trusted },
        })
    }

    pub fn sandbox(&self) -> dumcel_session::Sandbox<'_> {
        dumcel_session::Sandbox {
            root: &self.checkout,
            backend: self.backend.clone(),
        }
    }
}
