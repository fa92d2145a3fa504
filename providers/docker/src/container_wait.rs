//! After a container starts: did it keep running (and, with `wait`, become
//! healthy)? When it did not, the error carries its exit code or health
//! output and its last log lines, which is what a person would look at next.

use std::time::{Duration, Instant};

use bollard::models::{ContainerStateStatusEnum, HealthStatusEnum};
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;

use crate::error::{DockerError, indented};

/// How long a container without a healthcheck must stay up to count as
/// started: long enough to catch one that exits at once.
pub const SETTLE: Duration = Duration::from_secs(1);
const POLL: Duration = Duration::from_millis(250);
const LOG_LINES: usize = 20;

pub struct WaitFor {
    /// Wait for the healthcheck to pass, when the container has one.
    pub healthy: bool,
    pub timeout: Duration,
}

/// Polls the container until it counts as started; see [`WaitFor`].
pub async fn started(
    docker: &bollard::Docker,
    name: &str,
    want: WaitFor,
) -> Result<(), DockerError> {
    let began = Instant::now();
    loop {
        let c = docker
            .inspect_container(name, None)
            .await
            .map_err(|e| DockerError::api(format!("inspecting container {name}"), e))?;
        let state = c.state.unwrap_or_default();
        let exit = state.exit_code.unwrap_or_default();
        let fail = |problem: String| async move {
            DockerError::Container {
                name: name.to_owned(),
                problem,
                logs: last_logs(docker, name).await,
            }
        };
        match state.status {
            Some(ContainerStateStatusEnum::EXITED) | Some(ContainerStateStatusEnum::DEAD) => {
                return Err(fail(format!("exited with code {exit} right after it started")).await);
            }
            Some(ContainerStateStatusEnum::RESTARTING) => {
                return Err(fail(format!("keeps restarting (last exit code {exit})")).await);
            }
            _ => {}
        }
        if c.restart_count.unwrap_or(0) > 0 {
            return Err(fail(format!("keeps restarting (last exit code {exit})")).await);
        }
        let health = state.health.as_ref().and_then(|h| h.status);
        let has_healthcheck = matches!(
            health,
            Some(HealthStatusEnum::STARTING)
                | Some(HealthStatusEnum::HEALTHY)
                | Some(HealthStatusEnum::UNHEALTHY)
        );
        if want.healthy && has_healthcheck {
            match health {
                Some(HealthStatusEnum::HEALTHY) => return Ok(()),
                Some(HealthStatusEnum::UNHEALTHY) => {
                    let output = state
                        .health
                        .and_then(|h| h.log)
                        .and_then(|l| l.into_iter().last())
                        .and_then(|r| r.output)
                        .unwrap_or_default();
                    return Err(fail(format!(
                        "is unhealthy; last healthcheck said: {}",
                        output.trim()
                    ))
                    .await);
                }
                _ => {}
            }
        } else if state.running == Some(true) && began.elapsed() >= SETTLE {
            return Ok(());
        }
        if began.elapsed() >= want.timeout.max(SETTLE) {
            let what = if want.healthy && has_healthcheck {
                "healthy"
            } else {
                "running"
            };
            return Err(fail(format!(
                "was not {what} after {}",
                humantime::format_duration(want.timeout)
            ))
            .await);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The container's last log lines (stdout and stderr), indented for an
/// error message; a note when they cannot be read.
pub async fn last_logs(docker: &bollard::Docker, name: &str) -> String {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: LOG_LINES.to_string(),
        ..Default::default()
    };
    let mut stream = docker.logs(name, Some(options));
    let mut lines = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                let text = chunk.to_string();
                lines.extend(text.lines().map(|l| l.trim_end().to_owned()));
            }
            Err(e) => {
                lines.push(format!("(its logs cannot be read: {e})"));
                break;
            }
        }
    }
    if lines.is_empty() {
        return "\n  (it wrote no log lines)".into();
    }
    format!("\n  last log lines:{}", indented(&lines, LOG_LINES))
}
