//! A preview push whose branch changes the stack, as Atlantis treats a pull
//! request: the branch's stack is planned (sandboxed, changing nothing),
//! the plan is kept where `serve` shows it (`plans/<project>/<delivery>.txt`
//! under the work directory, and in `build_logs_bucket`), and the push ends
//! as `awaiting_approval`. A person allowed to approve does so on the
//! dashboard or through the API, which records the decision and queues the
//! environment's redeploy; that run finds the commit approved and applies
//! the branch's stack.

use crate::deploy;
use crate::events::EventKind;
use crate::pipeline::{Ended, Run};
use crate::push::valid_delivery;
use crate::records::{Outcome, ServingChange};
use crate::stack_source::StackSource;

/// Where the plan of `delivery` is kept, relative to the work directory and
/// as an S3 key; `None` for a delivery id that could not be a file name.
pub fn plan_key(project: &str, delivery: &str) -> Option<String> {
    valid_delivery(delivery).then(|| format!("plans/{project}/{delivery}.txt"))
}

/// The plan's last line that sums it up (`Plan: 1 to add, ...` or
/// `No changes. ...`).
pub fn summary(plan: &str) -> String {
    plan.lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("Plan:") || l.starts_with("No changes."))
        .unwrap_or_default()
        .to_owned()
}

/// Plans `branch`, keeps the plan, and ends the push waiting for approval
/// (or failed, when the stack cannot be planned: nothing was applied).
pub async fn wait_for_approval(run: &mut Run<'_>, branch: &StackSource) -> Ended {
    let emitter = &run.emitter;
    let job = emitter.job;
    let image = run.record.image.clone();
    let plan = match deploy::plan(emitter, branch, &image).await {
        Ok(plan) => plan,
        Err(reason) => {
            let reason = format!("planning the branch's stack: {reason}");
            emitter
                .emit(EventKind::DeployFailed {
                    reason: reason.clone(),
                })
                .await;
            return run
                .finish(
                    Outcome::DeployFailed,
                    reason,
                    ServingChange::Unchanged,
                    Ended::DeployFailed,
                )
                .await;
        }
    };
    if let Err(reason) = keep(run, &plan).await {
        return Ended::Retry(reason);
    }
    tracing::info!(project = %job.repo.project, sha = %job.push.sha, "the branch changes the stack: its plan waits for approval");
    run.emitter
        .emit(EventKind::AwaitingApproval {
            summary: summary(&plan),
        })
        .await;
    run.finish(
        Outcome::AwaitingApproval,
        "the branch changes the stack: a person allowed to approve must read its plan and approve it".into(),
        ServingChange::Unchanged,
        Ended::AwaitingApproval,
    )
    .await
}

/// Writes the plan under the work directory and, with a bucket, in S3.
async fn keep(run: &Run<'_>, plan: &str) -> Result<(), String> {
    let services = run.emitter.services;
    let key = plan_key(&run.record.project, &run.record.delivery)
        .ok_or_else(|| format!("delivery id {:?}", run.record.delivery))?;
    let path = services.config.work_dir.join(&key);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    tokio::fs::write(&path, plan)
        .await
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    if let Some(bucket) = &services.build_logs {
        bucket.put(&key, &path).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_the_plans_last_count() {
        let plan = "  # docker_container.app will be created\n  + resource \"docker_container\" \"app\" {}\n\nPlan: 2 to add, 0 to change, 0 to destroy.\n\nChanges to Outputs:\n  + url = \"x\"\n";
        assert_eq!(summary(plan), "Plan: 2 to add, 0 to change, 0 to destroy.");
        assert_eq!(
            summary("\nNo changes. Your infrastructure matches the configuration.\n"),
            "No changes. Your infrastructure matches the configuration."
        );
        assert_eq!(plan_key("shop", "../x"), None);
    }
}
