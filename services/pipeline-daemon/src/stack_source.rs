//! Which stack a pipeline run applies, and with what fences. The stack is
//! code that runs with the worker's credentials, so a branch does not get to
//! choose it: previews deploy with the default branch's stack unless the
//! repository trusts branch stacks or a person approved the commit
//! (`dumcel-pipeline approve`). Every run is sandboxed (see
//! `dumcel_session::Sandbox`): file functions read only the checkout, and
//! the backend must be the default branch's.

use std::path::{Path, PathBuf};

use crate::pipeline::{Job, Services, fetch, sibling};
use crate::retry::transient;

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
    ) -> Result<StackSource, String> {
        if !job.env.preview {
            return StackSource::at(checkout, job);
        }
        let trusted = StackSource::default_branch(job, checkout).await?;
        let approved = job.repo.trust_branch_stacks
            || transient("reading approvals", || {
                services
                    .deployments
                    .approved(&job.repo.project, &job.push.sha)
            })
            .await
            .map_err(|e| e.to_string())?;
        if !approved {
            tracing::info!(project = %job.repo.project, sha = %job.push.sha, "deploying the preview with the default branch's stack (the branch's own is not trusted)");
            return Ok(trusted);
        }
        Ok(StackSource {
            backend: trusted.backend,
            ..StackSource::at(checkout, job)?
        })
    }

    pub fn sandbox(&self) -> dumcel_session::Sandbox<'_> {
        dumcel_session::Sandbox {
            root: &self.checkout,
            backend: self.backend.clone(),
        }
    }
}
