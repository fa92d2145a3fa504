//! The commands people steer deployments with: `status` (what runs where),
//! `rollback`, `redeploy` and `approve`. `rollback` and `redeploy` do not
//! deploy anything themselves: they queue a signed message on the push
//! topic, so that the environment's lane runs it under its lease, in order
//! with the pushes around it, and the events show it like any push.

use anyhow::{Context, Result, anyhow, bail};

use crate::config::{Config, Repository};
use crate::environment::PRODUCTION;
use crate::kafka::{KafkaSink, ensure_topics, producer, queue};
use crate::push::{Action, PUSH_SCHEMA_VERSION, Push};
use crate::records::{Outcome, Records, newest_good, now_ms};

fn repository<'a>(config: &'a Config, project: &str) -> Result<(&'a str, &'a Repository)> {
    config
        .repositories
        .iter()
        .find(|(_, r)| r.project == project)
        .map(|(name, r)| (name.as_str(), r))
        .ok_or_else(|| {
            anyhow!(
                "no repository of the configuration has project {project:?}; the projects are: {}",
                config
                    .repositories
                    .values()
                    .map(|r| r.project.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// `dumcel-pipeline status`: every environment, what it serves, who holds
/// it, and its last push.
pub async fn status(records: &dyn Records, project: Option<&str>) -> Result<String> {
    let mut out = format!(
        "{:<16} {:<24} {:<13} {:<32} {}\n",
        "PROJECT", "ENVIRONMENT", "SERVING", "LAST PUSH", "LEASE"
    );
    let now = now_ms();
    for env in records.environments().await? {
        if project.is_some_and(|p| p != env.project) {
            continue;
        }
        let serving = env
            .serving
            .as_ref()
            .map_or("-".to_owned(), |s| short(&s.sha).to_owned());
        let history = records.history(&env.project, &env.environment).await?;
        let last = history
            .iter()
            .max_by(|a, b| a.started_at.cmp(&b.started_at))
            .map_or("-".to_owned(), |r| {
                format!("{} {}", short(&r.sha), r.outcome.as_str())
            });
        let lease = match &env.lease_owner {
            Some(owner) if env.lease_expires_ms > now => {
                format!("{owner} ({}s left)", (env.lease_expires_ms - now) / 1000)
            }
            Some(owner) => format!("expired ({owner})"),
            None => "free".into(),
        };
        out.push_str(&format!(
            "{:<16} {:<24} {:<13} {:<32} {}\n",
            env.project, env.environment, serving, last, lease
        ));
    }
    Ok(out)
}

async fn send(config: &Config, push: &Push) -> Result<()> {
    let key = config.signing_key().map_err(anyhow::Error::msg)?;
    ensure_topics(&config.kafka)
        .await
        .map_err(anyhow::Error::msg)?;
    let sink = KafkaSink {
        producer: producer(&config.kafka).map_err(anyhow::Error::msg)?,
        topic: config.kafka.push_topic.clone(),
    };
    queue(&sink, push, &key)
        .await
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("queueing on {}", config.kafka.push_topic))
}

fn command_push(repository: &str, branch: &str, sha: &str, action: Action, verb: &str) -> Push {
    Push {
        schema_version: PUSH_SCHEMA_VERSION,
        delivery: format!("{verb}-{}", uuid::Uuid::new_v4().simple()),
        repository: repository.to_owned(),
        branch: branch.to_owned(),
        sha: sha.to_owned(),
        deleted: false,
        action,
    }
}

/// `dumcel-pipeline rollback PROJECT ENV [--to SHA]`: queues running the
/// environment again on an image it ran before: `to`'s, or by default the
/// newest good deployment before the one it serves.
pub async fn rollback(
    config: &Config,
    records: &dyn Records,
    project: &str,
    environment: &str,
    to: Option<&str>,
) -> Result<String> {
    let (repository, _) = repository(config, project)?;
    let history = records.history(project, environment).await?;
    let serving = records
        .environments()
        .await?
        .into_iter()
        .find(|e| e.project == project && e.environment == environment)
        .and_then(|e| e.serving);
    let target = match to {
        Some(sha) => {
            let sha = sha.to_ascii_lowercase();
            history
                .into_iter()
                .filter(|r| r.sha.starts_with(&sha) && r.outcome == Outcome::Succeeded)
                .max_by(|a, b| a.finished_at.cmp(&b.finished_at))
                .ok_or_else(|| anyhow!("{sha} never deployed successfully to {project}/{environment}: `dumcel-pipeline status` shows what did"))?
        }
        None => {
            let current = serving.as_ref().map(|s| s.sha.as_str()).unwrap_or_default();
            newest_good(history, current).ok_or_else(|| {
                anyhow!("{project}/{environment} has no good deployment other than the one it serves: nothing to roll back to")
            })?
        }
    };
    let push = command_push(
        repository,
        &target.branch,
        &target.sha,
        Action::Rollback,
        "rollback",
    );
    send(config, &push).await?;
    Ok(format!(
        "queued: roll {project}/{environment} back to {} ({}) as {}\n",
        short(&target.sha),
        target.image,
        push.delivery
    ))
}

/// `dumcel-pipeline redeploy PROJECT ENV`: queues deploying the commit the
/// environment's branch points at now, even when it was deployed before.
pub async fn redeploy(
    config: &Config,
    records: &dyn Records,
    project: &str,
    environment: &str,
) -> Result<String> {
    let (repository, repo) = repository(config, project)?;
    let branch = if environment == PRODUCTION {
        repo.default_branch.clone()
    } else {
        records
            .history(project, environment)
            .await?
            .into_iter()
            .max_by(|a, b| a.started_at.cmp(&b.started_at))
            .map(|r| r.branch)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                anyhow!(
                    "no push was ever seen for {project}/{environment}: push its branch instead"
                )
            })?
    };
    let token = repo.token_env.as_ref().and_then(|n| std::env::var(n).ok());
    let Some(sha) = crate::git::head(&repo.clone_url, &branch, token.as_deref()).await? else {
        bail!("the branch {branch} of {repository} does not exist any more");
    };
    let push = command_push(repository, &branch, &sha, Action::Push, "redeploy");
    send(config, &push).await?;
    Ok(format!(
        "queued: redeploy {project}/{environment} from {branch} at {} as {}\n",
        short(&sha),
        push.delivery
    ))
}

/// `dumcel-pipeline approve PROJECT SHA`: lets that commit's own stack
/// deploy its preview.
pub async fn approve(
    config: &Config,
    records: &dyn Records,
    project: &str,
    sha: &str,
    by: &str,
) -> Result<String> {
    repository(config, project)?;
    if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{sha:?} is not a full commit SHA (40 hex digits): approve exactly the commit you read"
        );
    }
    let sha = sha.to_ascii_lowercase();
    records.approve(project, &sha, by).await?;
    Ok(format!(
        "approved: {project} at {} may deploy its preview with its own stack (push it again or `dumcel-pipeline redeploy` to use it)\n",
        short(&sha)
    ))
}
