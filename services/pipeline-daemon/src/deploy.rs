//! Applying the repository's stack with the new image through the engine
//! (as a library, under the stack's own backend and lock), and rolling back
//! to the last good image when the apply fails. The apply itself is the
//! rollout: on a Docker host the new container must pass its health check
//! before the route switches to it; on ECS the stack's services set
//! `wait_for_steady_state`, which waits until ECS has rolled out the new task
//! definition with healthy targets (or fails when the circuit breaker rolls
//! it back). Also the destroy of a preview environment whose
//! branch was deleted. Each run assumes the IAM role configured for its
//! kind of environment (see [`crate::config::Roles`]).

use std::path::PathBuf;
use std::time::Duration;

use dumcel_session::{Applied, AwsRole, Operation, Request, RunError};
use dumcel_state::State;

use crate::config::{Config, Repository};
use crate::environment::Environment;
use crate::events::EventKind;
use crate::pipeline::{Emitter, Ended, Run};
use crate::records::Record;
use crate::retry::transient;
use crate::stack_source::StackSource;

/// How long an apply waits for another run's lock on the same state.
const LOCK_TIMEOUT: Duration = Duration::from_secs(300);
const PARALLELISM: usize = 10;

pub enum Deployed {
    Succeeded,
    /// The new image did not roll out; the last good one runs again.
    RolledBack {
        reason: String,
        to: Box<Record>,
    },
    Failed {
        reason: String,
    },
    /// Nothing was applied: the lease was lost, or could not be confirmed.
    NotStarted(Ended),
}

/// Applies the stack with `run.record.image` and waits for the rollout;
/// rolls back to the last good image when it did not roll out.
pub async fn deploy(run: &mut Run<'_>, stack: &StackSource) -> Deployed {
    let emitter = &run.emitter;
    let job = emitter.job;
    let image = run.record.image.clone();
    // The fence: no apply unless the lease is still this worker's.
    match run.held.check().await {
        Ok(()) => {}
        Err(crate::lease::LeaseError::Lost { .. }) => {
            return Deployed::NotStarted(Ended::LeaseLost);
        }
        Err(e) => return Deployed::NotStarted(Ended::Retry(e.to_string())),
    }
    emitter
        .emit(EventKind::DeployStarted {
            image: image.clone(),
            workspace: job.env.workspace.clone(),
        })
        .await;
    let reason = match apply(emitter, stack, &image, Operation::Apply).await {
        Ok(applied) => {
            emitter
                .emit(EventKind::DeploySucceeded {
                    image,
                    digest: run.record.digest.clone(),
                    services: services(&applied.state),
                })
                .await;
            return Deployed::Succeeded;
        }
        Err(e) => format!("applying the stack: {e}"),
    };
    emitter
        .emit(EventKind::DeployFailed {
            reason: reason.clone(),
        })
        .await;
    roll_back(run, stack, reason).await
}

/// Applies the stack again with the last good image, but only while this
/// worker still holds the environment: if another worker deployed since,
/// what runs is theirs and is not rolled back over.
async fn roll_back(run: &Run<'_>, stack: &StackSource, reason: String) -> Deployed {
    let emitter = &run.emitter;
    let record = &run.record;
    if let Err(e) = run.held.check().await {
        return Deployed::Failed {
            reason: format!("{reason}; not rolled back: {e}"),
        };
    }
    let records = &emitter.services.deployments;
    let history = match transient("reading the environment's history", || {
        records.history(&record.project, &record.environment)
    })
    .await
    {
        Ok(h) => h,
        Err(e) => {
            return Deployed::Failed {
                reason: format!("{reason}; cannot look up the last good deployment: {e}"),
            };
        }
    };
    let Some(good) = crate::records::newest_good(history, &record.sha) else {
        return Deployed::Failed {
            reason: format!("{reason}; no earlier good deployment to roll back to"),
        };
    };
    tracing::warn!(sha = %record.sha, to = %good.image, %reason, "rolling back");
    match apply(emitter, stack, &good.image, Operation::Apply).await {
        Ok(_) => {
            emitter
                .emit(EventKind::RolledBack {
                    to_image: good.image.clone(),
                    to_sha: good.sha.clone(),
                    reason: reason.clone(),
                })
                .await;
            Deployed::RolledBack {
                reason,
                to: Box::new(good),
            }
        }
        Err(e) => Deployed::Failed {
            reason: format!("{reason}; rolling back to {} failed too: {e}", good.image),
        },
    }
}

/// The plan of applying `stack` with `image`, as `dumcel plan` prints it;
/// nothing is applied.
pub async fn plan(
    emitter: &Emitter<'_>,
    stack: &StackSource,
    image: &str,
) -> Result<String, String> {
    apply(emitter, stack, image, Operation::Plan)
        .await
        .map(|planned| planned.plan.unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// Destroys the environment's resources with `stack`.
pub async fn destroy(
    emitter: &Emitter<'_>,
    stack: &StackSource,
    image: &str,
) -> Result<(), String> {
    apply(emitter, stack, image, Operation::Destroy)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

async fn apply(
    emitter: &Emitter<'_>,
    stack: &StackSource,
    image: &str,
    operation: Operation,
) -> Result<Applied, RunError> {
    let job = emitter.job;
    let mut variables = vec![
        ("image".to_owned(), image.to_owned()),
        ("environment".to_owned(), job.env.name.clone()),
        // Seconds; a Docker-host stack gives its health wait this long.
        (
            "rollout_timeout".to_owned(),
            emitter
                .services
                .config
                .rollout_timeout
                .as_secs()
                .to_string(),
        ),
    ];
    if let Some(host) = &job.env.host {
        variables.push(("host".to_owned(), host.clone()));
    }
    let state_dir = state_dir(&emitter.services.config, &job.repo.project);
    dumcel_session::run(Request {
        root: &stack.dir,
        state_dir: &state_dir,
        workspace: &job.env.workspace,
        variables,
        operation,
        lock_timeout: LOCK_TIMEOUT,
        parallelism: PARALLELISM,
        sandbox: Some(stack.sandbox()),
        aws_role: aws_role(&job.repo, &job.env),
    })
    .await
}

/// The role `env`'s runs assume: the repository's production role, or its
/// preview role for every preview; `None` (the worker's own credentials)
/// when none is configured.
fn aws_role(repo: &Repository, env: &Environment) -> Option<AwsRole> {
    let role_arn = repo.roles.for_environment(env.preview)?;
    Some(AwsRole {
        role_arn: role_arn.to_owned(),
        session_name: session_name(&repo.project, &env.name),
    })
}

/// `dumcel-<project>-<environment>`, as STS takes a session name (at most 64
/// characters of `[A-Za-z0-9+=,.@-]`): it shows in the assumed role's ARN
/// and in CloudTrail, saying which environment's run made a call.
fn session_name(project: &str, environment: &str) -> String {
    format!("dumcel-{project}-{environment}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

/// Where the local state of `project`'s stack lives (per workspace inside).
pub fn state_dir(config: &Config, project: &str) -> PathBuf {
    config.work_dir.join("state").join(project)
}

/// The services and containers the stack runs, by address.
fn services(state: &State) -> Vec<String> {
    state
        .resources
        .iter()
        .filter(|(address, r)| {
            matches!(
                r.resource_type.as_str(),
                "aws_ecs_service" | "docker_container"
            ) && !address.ends_with(" (deposed)")
        })
        .map(|(address, _)| address.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_are_the_ecs_services_and_containers_in_the_state() {
        let state: State = State::from_json(
            br#"{
  "version": 1, "serial": 3, "lineage": "l", "dumcel_version": "0",
  "outputs": {},
  "resources": {
    "aws_ecs_service.app": {
      "resource_type": "aws_ecs_service", "provider": "aws", "attributes": {}
    },
    "docker_container.web (deposed)": {
      "resource_type": "docker_container", "provider": "docker", "attributes": {}
    },
    "docker_container.web": {
      "resource_type": "docker_container", "provider": "docker", "attributes": {}
    },
    "aws_s3_bucket.assets": {
      "resource_type": "aws_s3_bucket", "provider": "aws", "attributes": {"bucket": "b"}
    }
  }
}"#,
        )
        .unwrap();
        assert_eq!(
            services(&state),
            ["aws_ecs_service.app", "docker_container.web"]
        );
    }

    fn env(name: &str, preview: bool) -> Environment {
        Environment {
            name: name.to_owned(),
            workspace: name.to_owned(),
            host: None,
            preview,
        }
    }

    #[test]
    fn each_kind_of_environment_assumes_its_role() {
        let config = Config::parse(
            "d.hcl",
            r#"
target = "ecs"
kafka {
  brokers = "127.0.0.1:9092"
}
domain = "apps.test"
roles {
  production = "arn:aws:iam::123456789012:role/deploy-production"
  preview    = "arn:aws:iam::123456789012:role/deploy-preview"
}
repository "octo/shop" {
  previews = true
}
repository "octo/plain" {
  roles {
    production = "arn:aws:iam::210987654321:role/plain"
  }
}
"#,
        )
        .unwrap();
        let shop = &config.repositories["octo/shop"];
        let production = aws_role(shop, &env("production", false)).unwrap();
        assert_eq!(
            production.role_arn,
            "arn:aws:iam::123456789012:role/deploy-production"
        );
        assert_eq!(production.session_name, "dumcel-shop-production");
        let preview = aws_role(shop, &env("preview-feature-x", true)).unwrap();
        assert_eq!(
            preview.role_arn,
            "arn:aws:iam::123456789012:role/deploy-preview"
        );
        assert_eq!(preview.session_name, "dumcel-shop-preview-feature-x");
        let plain = &config.repositories["octo/plain"];
        assert_eq!(
            aws_role(plain, &env("production", false)).unwrap().role_arn,
            "arn:aws:iam::210987654321:role/plain"
        );

        let none = Config::parse(
            "d.hcl",
            "target = \"ecs\"\nkafka {\n  brokers = \"b:1\"\n}\nrepository \"octo/app\" {}\n",
        )
        .unwrap();
        assert_eq!(
            aws_role(&none.repositories["octo/app"], &env("production", false)),
            None
        );
    }

    #[test]
    fn a_session_name_is_one_sts_takes() {
        let long = session_name(&"p".repeat(50), "preview-a-very-long-branch-name-0123");
        assert_eq!(long.len(), 64);
        assert!(long.starts_with("dumcel-ppp"));
        assert_eq!(session_name("app", "preview_x y"), "dumcel-app-preview-x-y");
    }
}
