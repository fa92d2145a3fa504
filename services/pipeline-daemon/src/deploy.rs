//! Applying the repository's stack with the new image through the engine
//! (as a library, under the stack's own backend and lock), making sure it
//! rolled out, and rolling back to the last good image when it did not.
//! On a Docker host the apply itself is the rollout: the new container must
//! pass its health check before the route switches to it. On ECS, every
//! service in the stack is watched until it runs the new task definition
//! with healthy targets. Also the destroy of a preview environment whose
//! branch was deleted. Each run assumes the IAM role configured for its
//! kind of environment (see [`crate::config::Roles`]).

use std::path::PathBuf;
use std::time::Duration;

use dumcel_session::{Applied, AwsRole, Operation, Request, RunError};
use dumcel_state::State;
use tokio::time::Instant;

use crate::config::{Config, Repository};
use crate::environment::Environment;
use crate::events::EventKind;
use crate::pipeline::{Emitter, Ended, RolloutClients, Run};
use crate::records::Record;
use crate::retry::transient;
use crate::rollout::{Rollout, Targets, WaitOptions, target_health, wait_for_rollout};
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
        Ok(applied) => match rolled_out(emitter, &applied.state).await {
            Ok(services) => {
                emitter
                    .emit(EventKind::DeploySucceeded {
                        image,
                        digest: run.record.digest.clone(),
                        services,
                    })
                    .await;
                return Deployed::Succeeded;
            }
            Err(reason) => reason,
        },
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

/// An ECS service the stack manages, as its state records it.
#[derive(Debug, PartialEq, Eq)]
struct EcsService {
    cluster: String,
    name: String,
    task_definition: String,
    target_groups: Vec<String>,
}

fn ecs_services(state: &State) -> Vec<EcsService> {
    state
        .resources
        .values()
        .filter(|r| r.resource_type == "aws_ecs_service")
        .filter_map(|r| {
            let a = &r.attributes;
            let text = |name: &str| a.get(name).and_then(|v| v.as_str()).map(str::to_owned);
            Some(EcsService {
                cluster: text("cluster")?,
                name: text("name")?,
                task_definition: text("task_definition")?,
                target_groups: a
                    .get("load_balancer")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|lb| lb.get("target_group_arn").and_then(|v| v.as_str()))
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

/// Waits until every ECS service in `state` runs its new task definition
/// (rolloutState COMPLETED, judged by [`wait_for_rollout`]) and its targets
/// are healthy, all within the configured timeout. The services'
/// `cluster/name` on success; why not, otherwise.
async fn rolled_out(emitter: &Emitter<'_>, state: &State) -> Result<Vec<String>, String> {
    match &emitter.services.rollout {
        RolloutClients::Docker => Ok(docker_containers(state)),
        RolloutClients::Ecs { ecs, elbv2 } => ecs_rolled_out(emitter, ecs, elbv2, state).await,
    }
}

/// The containers the stack runs, as its state records them.
fn docker_containers(state: &State) -> Vec<String> {
    state
        .resources
        .iter()
        .filter(|(address, r)| {
            r.resource_type == "docker_container" && !address.ends_with(" (deposed)")
        })
        .filter_map(|(_, r)| r.attributes.get("name")?.as_str().map(str::to_owned))
        .collect()
}

async fn ecs_rolled_out(
    emitter: &Emitter<'_>,
    ecs: &aws_sdk_ecs::Client,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    state: &State,
) -> Result<Vec<String>, String> {
    let config = &emitter.services.config;
    let deadline = Instant::now() + config.rollout_timeout;
    let mut done = Vec::new();
    for svc in ecs_services(state) {
        let label = format!("{}/{}", short(&svc.cluster), svc.name);
        let opts = WaitOptions {
            poll_interval: config.rollout_poll_interval,
            timeout: deadline.saturating_duration_since(Instant::now()),
        };
        let rollout = wait_for_rollout(ecs, &svc.cluster, &svc.name, &svc.task_definition, &opts)
            .await
            .map_err(|e| format!("watching the rollout of {label}: {e}"))?;
        match rollout {
            Rollout::Completed => {}
            Rollout::Failed { reason } => {
                return Err(format!("the ECS rollout of {label} failed: {reason}"));
            }
            Rollout::RolledBack { to, reason } => {
                return Err(format!("ECS rolled {label} back to {to}: {reason}"));
            }
            Rollout::TimedOut { last_state } => {
                return Err(format!(
                    "{label} did not finish rolling out within {}: {last_state}",
                    humantime::format_duration(config.rollout_timeout)
                ));
            }
        }
        for tg in &svc.target_groups {
            healthy_targets(emitter, elbv2, tg, deadline).await?;
        }
        done.push(label);
    }
    Ok(done)
}

async fn healthy_targets(
    emitter: &Emitter<'_>,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    tg: &str,
    deadline: Instant,
) -> Result<(), String> {
    let config = &emitter.services.config;
    loop {
        match target_health(elbv2, tg).await {
            Ok(Targets::Healthy) => return Ok(()),
            // ECS registers a service's tasks itself and does not call a
            // rollout COMPLETED before they pass the health checks; an
            // emulator that registers nothing is all that gets here.
            Ok(Targets::NoneRegistered) => {
                tracing::warn!(
                    target_group = tg,
                    "no targets registered; trusting the ECS rollout state"
                );
                return Ok(());
            }
            Ok(Targets::NotYet) => {}
            Err(e) => return Err(format!("checking the targets of {tg}: {e}")),
        }
        if Instant::now() + config.rollout_poll_interval > deadline {
            return Err(format!(
                "the targets of {tg} were not all healthy within {}",
                humantime::format_duration(config.rollout_timeout)
            ));
        }
        tokio::time::sleep(config.rollout_poll_interval).await;
    }
}

/// A cluster's name from its ARN (or the name itself).
fn short(cluster: &str) -> &str {
    cluster.rsplit('/').next().unwrap_or(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_come_from_the_state_and_odd_entries_are_skipped() {
        let state: State = State::from_json(
            br#"{
  "version": 1, "serial": 3, "lineage": "l", "dumcel_version": "0",
  "outputs": {},
  "resources": {
    "aws_ecs_service.app": {
      "resource_type": "aws_ecs_service", "provider": "aws",
      "attributes": {
        "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/shop", "name": "app",
        "task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:4",
        "load_balancer": [{"target_group_arn": "arn:tg/1", "container_port": 8080}]
      }
    },
    "aws_ecs_service.broken": {
      "resource_type": "aws_ecs_service", "provider": "aws", "attributes": {"name": 3}
    },
    "aws_s3_bucket.assets": {
      "resource_type": "aws_s3_bucket", "provider": "aws", "attributes": {"bucket": "b"}
    }
  }
}"#,
        )
        .unwrap();
        assert_eq!(
            ecs_services(&state),
            [EcsService {
                cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/shop".into(),
                name: "app".into(),
                task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:4".into(),
                target_groups: vec!["arn:tg/1".into()],
            }]
        );
        assert_eq!(
            short("arn:aws:ecs:us-east-1:123456789012:cluster/shop"),
            "shop"
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
