//! How `aws_ecs_service`'s `wait_for_steady_state` judges a rollout.
//!
//! The SDK's `services_stable` waiter is not enough: it only checks that the
//! service has one deployment with as many tasks running as desired, so it
//! also reports success after the deployment circuit breaker rolled the
//! service back to the previous task definition. [`wait_for_rollout`] instead
//! polls `DescribeServices` and judges the deployment whose `taskDefinition`
//! is the one we deployed ("ours"). A task definition matches when both are
//! equal, or when one is given as `family:revision` and the other is an ARN
//! ending in `task-definition/family:revision`.
//!
//! Each poll is decided in this order:
//!
//! 1. The service is missing (`failures` says `MISSING`, or no service comes
//!    back) -> [`RolloutError::ServiceNotFound`]; its status is `INACTIVE` or
//!    `DRAINING` (deleted or being deleted) -> [`RolloutError::ServiceInactive`].
//! 2. Ours has `rolloutState` `FAILED` -> [`Rollout::Failed`] with its
//!    `rolloutStateReason` (or, when that is missing, the newest service
//!    event). With the circuit breaker's rollback enabled, ECS starts the
//!    rollback at the same time: the service is back on the previous revision
//!    shortly after.
//! 3. Ours has `rolloutState` `COMPLETED`, is the `PRIMARY` deployment and
//!    runs at least its desired count -> [`Rollout::Completed`]. When
//!    `rolloutState` is absent altogether (older APIs, other deployment
//!    controllers), ours must be the only deployment, `PRIMARY`, with at least
//!    its desired count running.
//! 4. Ours is gone, after an earlier poll saw it, and the `PRIMARY` deployment
//!    runs another task definition -> [`Rollout::RolledBack`] to that task
//!    definition. The reason is the first message about a rollback (circuit
//!    breaker, "rolling back", "rolled back") in the `PRIMARY` deployment's
//!    `rolloutStateReason` or the newest service events; else that state
//!    reason; else the newest event.
//! 5. Anything else waits for the next poll: ours still `IN_PROGRESS`, or not
//!    seen yet (`DescribeServices` is eventually consistent, so right after
//!    `UpdateService` it may still show only the previous deployment; this is
//!    why a rollback is only concluded once ours has been seen).
//!
//! When [`WaitOptions::timeout`] has passed without a decision the result is
//! [`Rollout::TimedOut`] with a description of the last state seen. Transient
//! API errors (throttling, 5xx) are retried by the SDK itself; any error the
//! SDK gives up on ends the wait with [`RolloutError::Api`], carrying the AWS
//! error code and message. Responses are not trusted: a missing field never
//! panics, it only keeps a rule from matching.

use std::time::Duration;

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;
use tokio::time::Instant;

/// How many of the newest service events are searched for a reason.
const RECENT_EVENTS: usize = 10;

/// How often to poll and for how long.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    pub poll_interval: Duration,
    pub timeout: Duration,
}

/// How a rollout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Our task definition is the primary deployment, fully running.
    Completed,
    /// ECS marked our deployment FAILED.
    Failed { reason: String },
    /// Our deployment is gone and the service runs `to` (a task definition)
    /// again.
    RolledBack { to: String, reason: String },
    /// No decision before the timeout; `last_state` describes the last poll.
    TimedOut { last_state: String },
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("ECS service {service} not found in cluster {cluster}: {reason}")]
    ServiceNotFound {
        cluster: String,
        service: String,
        reason: String,
    },
    #[error(
        "ECS service {service} in cluster {cluster} is {status}: it has been deleted or is being deleted, nothing will roll out"
    )]
    ServiceInactive {
        cluster: String,
        service: String,
        status: String,
    },
    /// An error from the API that the SDK did not (or no longer) retry.
    /// `code` is the AWS error code (`AccessDeniedException`, ...), absent
    /// when no response came back (connection, timeout).
    #[error("{operation} failed: {}{message}", .code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Api {
        operation: &'static str,
        code: Option<String>,
        message: String,
    },
}

impl RolloutError {
    fn api<E>(operation: &'static str, err: aws_sdk_ecs::error::SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = err.code().map(str::to_owned);
        let message = match err.message() {
            Some(m) => m.to_owned(),
            None => DisplayErrorContext(&err).to_string(),
        };
        RolloutError::Api {
            operation,
            code,
            message,
        }
    }
}

/// Polls the service until the rollout of `task_definition` is decided (see
/// the module documentation for the rules).
pub async fn wait_for_rollout(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    opts: &WaitOptions,
) -> Result<Rollout, RolloutError> {
    let deadline = Instant::now() + opts.timeout;
    let mut seen_ours = false;
    let mut last_state = format!("no answer from DescribeServices for {service} yet");
    loop {
        // A call hanging past the deadline ends the wait like a slow rollout.
        let budget = deadline
            .saturating_duration_since(Instant::now())
            .max(opts.poll_interval);
        let call = ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send();
        let out = match tokio::time::timeout(budget, call).await {
            Ok(result) => result.map_err(|e| RolloutError::api("ECS DescribeServices", e))?,
            Err(_) => return Ok(Rollout::TimedOut { last_state }),
        };
        let svc = find_service(&out, cluster, service)?;
        match decide(svc, task_definition, &mut seen_ours) {
            Step::Done(rollout) => {
                tracing::info!(%cluster, %service, %task_definition, ?rollout, "rollout decided");
                return Ok(rollout);
            }
            Step::Wait(state) => {
                if state != last_state {
                    dumcel_engine::progress::report(&format!("{service}: {state}"));
                }
                last_state = state;
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Rollout::TimedOut { last_state });
        }
        tokio::time::sleep(opts.poll_interval.min(deadline - now)).await;
    }
}

fn find_service<'a>(
    out: &'a aws_sdk_ecs::operation::describe_services::DescribeServicesOutput,
    cluster: &str,
    service: &str,
) -> Result<&'a Service, RolloutError> {
    let named =
        |s: &&Service| s.service_name() == Some(service) || s.service_arn() == Some(service);
    let svc = out
        .services()
        .iter()
        .find(named)
        .or(match out.services() {
            [only] => Some(only),
            _ => None,
        })
        .ok_or_else(|| RolloutError::ServiceNotFound {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
            reason: out
                .failures()
                .first()
                .and_then(|f| f.reason())
                .unwrap_or("DescribeServices returned no service")
                .to_owned(),
        })?;
    match svc.status() {
        Some(status @ ("INACTIVE" | "DRAINING")) => Err(RolloutError::ServiceInactive {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
            status: status.to_owned(),
        }),
        _ => Ok(svc),
    }
}

enum Step {
    Done(Rollout),
    Wait(String),
}

fn decide(svc: &Service, wanted: &str, seen_ours: &mut bool) -> Step {
    let deployments = svc.deployments();
    let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
    // Several deployments can share a task definition (a forced new
    // deployment): the primary one is the one that counts.
    let ours = deployments
        .iter()
        .filter(|d| {
            d.task_definition()
                .is_some_and(|t| same_task_definition(t, wanted))
        })
        .max_by_key(|d| d.status() == Some("PRIMARY"));
    let Some(ours) = ours else {
        return match primary {
            Some(p) if *seen_ours => Step::Done(Rollout::RolledBack {
                to: p.task_definition().unwrap_or("(unknown)").to_owned(),
                reason: rollback_reason(p, svc),
            }),
            Some(p) => Step::Wait(format!(
                "no deployment of {wanted} yet; PRIMARY runs {}",
                p.task_definition().unwrap_or("(unknown)")
            )),
            None => Step::Wait(format!(
                "no deployment of {wanted} and no PRIMARY deployment"
            )),
        };
    };
    *seen_ours = true;
    let is_primary = ours.status() == Some("PRIMARY");
    let running = ours.running_count() >= ours.desired_count();
    match ours.rollout_state() {
        Some(DeploymentRolloutState::Failed) => {
            return Step::Done(Rollout::Failed {
                reason: ours
                    .rollout_state_reason()
                    .filter(|r| !r.trim().is_empty())
                    .map(str::to_owned)
                    .or_else(|| newest_event(svc))
                    .unwrap_or_else(|| "no reason given".to_owned()),
            });
        }
        Some(DeploymentRolloutState::Completed) if is_primary && running => {
            return Step::Done(Rollout::Completed);
        }
        None if is_primary && running && deployments.len() == 1 => {
            return Step::Done(Rollout::Completed);
        }
        _ => {}
    }
    Step::Wait(describe(ours))
}

fn describe(d: &Deployment) -> String {
    format!(
        "deployment {} of {}: {}, {}, {} of {} tasks running{}",
        d.id().unwrap_or("(no id)"),
        d.task_definition().unwrap_or("(unknown)"),
        d.rollout_state()
            .map(|s| s.as_str())
            .unwrap_or("no rollout state"),
        d.status().unwrap_or("no status"),
        d.running_count(),
        d.desired_count(),
        d.rollout_state_reason()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
    )
}

fn same_task_definition(deployed: &str, wanted: &str) -> bool {
    fn family_revision(t: &str) -> &str {
        t.rsplit_once(":task-definition/").map_or(t, |(_, fr)| fr)
    }
    if deployed == wanted {
        return true;
    }
    if deployed.starts_with("arn:") && wanted.starts_with("arn:") {
        return false;
    }
    family_revision(deployed) == family_revision(wanted)
}

fn recent_events(svc: &Service) -> impl Iterator<Item = &str> {
    // ECS lists events newest first.
    svc.events()
        .iter()
        .take(RECENT_EVENTS)
        .filter_map(|e| e.message())
        .filter(|m| !m.trim().is_empty())
}

fn newest_event(svc: &Service) -> Option<String> {
    recent_events(svc).next().map(str::to_owned)
}

fn about_rollback(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["circuit breaker", "rolling back", "rolled back", "rollback"]
        .iter()
        .any(|k| m.contains(k))
}

fn rollback_reason(primary: &Deployment, svc: &Service) -> String {
    let state_reason = primary
        .rollout_state_reason()
        .filter(|r| !r.trim().is_empty());
    state_reason
        .into_iter()
        .chain(recent_events(svc))
        .find(|m| about_rollback(m))
        .or(state_reason)
        .map(str::to_owned)
        .or_else(|| newest_event(svc))
        .unwrap_or_else(|| "no reason given".to_owned())
}

/// The health of a target group's registered targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Every registered target is `healthy`, and there is one at least.
    Healthy,
    /// Some target is still `initial`, `draining` (an old task leaving),
    /// `unhealthy` or `unused`: poll again.
    NotYet,
    /// Nothing is registered.
    NoneRegistered,
}

pub async fn target_health(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    target_group_arn: &str,
) -> Result<Targets, RolloutError> {
    let out = elbv2
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send()
        .await
        .map_err(|e| RolloutError::api("ELBv2 DescribeTargetHealth", e))?;
    let targets = out.target_health_descriptions();
    Ok(if targets.is_empty() {
        Targets::NoneRegistered
    } else if targets
        .iter()
        .all(|t| t.target_health().and_then(|h| h.state()) == Some(&TargetHealthStateEnum::Healthy))
    {
        Targets::Healthy
    } else {
        Targets::NotYet
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_sdk_ecs::config::http::{HttpRequest, HttpResponse};
    use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;
    use serde_json::{Value, json};

    const CLUSTER: &str = "prod";
    const SERVICE: &str = "web";
    const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8";

    fn fast() -> WaitOptions {
        WaitOptions {
            poll_interval: Duration::from_millis(2),
            timeout: Duration::from_secs(5),
        }
    }

    fn response(status: u16, content_type: &'static str, body: String) -> ReplayEvent {
        let mut res = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
        res.headers_mut().insert("content-type", content_type);
        ReplayEvent::new(HttpRequest::new(SdkBody::empty()), res)
    }

    fn ecs_response(body: Value) -> ReplayEvent {
        response(200, "application/x-amz-json-1.1", body.to_string())
    }

    fn ecs_error(status: u16, kind: &str, message: &str) -> ReplayEvent {
        response(
            status,
            "application/x-amz-json-1.1",
            json!({"__type": kind, "message": message}).to_string(),
        )
    }

    fn ecs(events: Vec<ReplayEvent>) -> (aws_sdk_ecs::Client, StaticReplayClient) {
        let replay = StaticReplayClient::new(events);
        let conf = aws_sdk_ecs::Config::builder()
            .http_client(replay.clone())
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .retry_config(
                aws_sdk_ecs::config::retry::RetryConfig::standard()
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        (aws_sdk_ecs::Client::from_conf(conf), replay)
    }

    /// One entry of `services[].deployments[]`, as DescribeServices gives it.
    fn deployment(
        id: &str,
        status: &str,
        task_definition: &str,
        running: i32,
        state: &str,
        reason: &str,
    ) -> Value {
        json!({
            "id": id,
            "status": status,
            "taskDefinition": task_definition,
            "desiredCount": 2,
            "pendingCount": 2 - running,
            "runningCount": running,
            "failedTasks": 0,
            "createdAt": 1.718e9,
            "updatedAt": 1.718e9,
            "launchType": "FARGATE",
            "platformVersion": "1.4.0",
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": ["subnet-0a1b2c3d"], "securityGroups": ["sg-0a1b2c3d"], "assignPublicIp": "DISABLED"
            }},
            "rolloutState": state,
            "rolloutStateReason": reason,
        })
    }

    /// A whole DescribeServices answer for the one service.
    fn services(status: &str, deployments: Vec<Value>, events: &[&str]) -> Value {
        let task_definition = deployments
            .iter()
            .find(|d| d["status"] == "PRIMARY")
            .map(|d| d["taskDefinition"].clone())
            .unwrap_or(Value::Null);
        let events: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"id": format!("e{i}"), "createdAt": 1.718e9 - i as f64, "message": m}))
            .collect();
        json!({
            "services": [{
                "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
                "serviceName": SERVICE,
                "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
                "loadBalancers": [],
                "status": status,
                "desiredCount": 2,
                "runningCount": 2,
                "pendingCount": 0,
                "launchType": "FARGATE",
                "taskDefinition": task_definition,
                "deploymentConfiguration": {
                    "deploymentCircuitBreaker": {"enable": true, "rollback": true},
                    "maximumPercent": 200,
                    "minimumHealthyPercent": 100
                },
                "deployments": deployments,
                "events": events,
                "createdAt": 1.7e9,
                "schedulingStrategy": "REPLICA",
                "deploymentController": {"type": "ECS"}
            }],
            "failures": []
        })
    }

    fn old_primary_done() -> Value {
        deployment(
            "ecs-svc/1111",
            "PRIMARY",
            OLD,
            2,
            "COMPLETED",
            "ECS deployment ecs-svc/1111 completed.",
        )
    }

    fn old_active() -> Value {
        deployment(
            "ecs-svc/1111",
            "ACTIVE",
            OLD,
            2,
            "COMPLETED",
            "ECS deployment ecs-svc/1111 completed.",
        )
    }

    fn ours(running: i32, state: &str, reason: &str) -> Value {
        deployment("ecs-svc/2222", "PRIMARY", NEW, running, state, reason)
    }

    fn in_progress(running: i32) -> Value {
        services(
            "ACTIVE",
            vec![
                ours(
                    running,
                    "IN_PROGRESS",
                    "ECS deployment ecs-svc/2222 in progress.",
                ),
                old_active(),
            ],
            &["(service web) has started 1 tasks: (task 0a1b)."],
        )
    }

    async fn wait(
        events: Vec<ReplayEvent>,
        opts: &WaitOptions,
    ) -> (Result<Rollout, RolloutError>, usize) {
        let (client, replay) = ecs(events);
        let result = wait_for_rollout(&client, CLUSTER, SERVICE, NEW, opts).await;
        (result, replay.actual_requests().count())
    }

    #[tokio::test]
    async fn in_progress_then_completed() {
        let events = vec![
            ecs_response(in_progress(0)),
            ecs_response(in_progress(1)),
            // Old deployment still draining: ours is PRIMARY and complete.
            ecs_response(services(
                "ACTIVE",
                vec![
                    ours(2, "COMPLETED", "ECS deployment ecs-svc/2222 completed."),
                    old_active(),
                ],
                &["(service web) has reached a steady state."],
            )),
        ];
        let (client, replay) = ecs(events);
        let result = wait_for_rollout(&client, CLUSTER, SERVICE, NEW, &fast()).await;
        assert_eq!(result.unwrap(), Rollout::Completed);
        let requests: Vec<_> = replay.actual_requests().collect();
        assert_eq!(requests.len(), 3, "stops polling once completed");
        // The requests really are DescribeServices for our service.
        for r in requests {
            assert_eq!(
                r.headers().get("x-amz-target"),
                Some("AmazonEC2ContainerServiceV20141113.DescribeServices")
            );
            let body: Value = serde_json::from_slice(r.body().bytes().unwrap()).unwrap();
            assert_eq!(body["cluster"], CLUSTER);
            assert_eq!(body["services"], json!([SERVICE]));
        }
    }

    #[tokio::test]
    async fn completed_but_not_all_tasks_running_keeps_waiting() {
        let (result, polls) = wait(
            vec![
                ecs_response(services("ACTIVE", vec![ours(1, "COMPLETED", "")], &[])),
                ecs_response(services("ACTIVE", vec![ours(2, "COMPLETED", "")], &[])),
            ],
            &fast(),
        )
        .await;
        assert_eq!(result.unwrap(), Rollout::Completed);
        assert_eq!(polls, 2);
    }

    #[tokio::test]
    async fn the_old_revision_completed_is_not_our_success() {
        // Right after UpdateService, DescribeServices may still show only the
        // old deployment, COMPLETED and stable: that is neither success nor a
        // rollback of ours.
        let (result, polls) = wait(
            vec![
                ecs_response(services("ACTIVE", vec![old_primary_done()], &[])),
                ecs_response(in_progress(1)),
                ecs_response(services("ACTIVE", vec![ours(2, "COMPLETED", "")], &[])),
            ],
            &fast(),
        )
        .await;
        assert_eq!(result.unwrap(), Rollout::Completed);
        assert_eq!(polls, 3);
    }

    #[tokio::test]
    async fn in_progress_then_failed() {
        let reason = "ECS deployment circuit breaker: tasks failed to start.";
        let (result, polls) = wait(
            vec![
                ecs_response(in_progress(0)),
                ecs_response(services(
                    "ACTIVE",
                    vec![
                        deployment("ecs-svc/2222", "PRIMARY", NEW, 0, "FAILED", reason),
                        old_active(),
                    ],
                    &["(service web) deployment ecs-svc/2222 deployment failed: tasks failed to start."],
                )),
            ],
            &fast(),
        )
        .await;
        assert_eq!(
            result.unwrap(),
            Rollout::Failed {
                reason: reason.into()
            }
        );
        assert_eq!(polls, 2);
    }

    #[tokio::test]
    async fn circuit_breaker_rollback() {
        let rolling_back = "(service web) deployment ecs-svc/2222 deployment failed: tasks failed to start. Rolling back to deployment ecs-svc/3333.";
        let (result, polls) = wait(
            vec![
                ecs_response(in_progress(0)),
                ecs_response(in_progress(0)),
                // Ours is gone; the rollback deployment runs the old revision
                // and is as stable as the waiter likes it.
                ecs_response(services(
                    "ACTIVE",
                    vec![deployment(
                        "ecs-svc/3333",
                        "PRIMARY",
                        OLD,
                        2,
                        "COMPLETED",
                        "ECS deployment ecs-svc/3333 completed.",
                    )],
                    &[
                        "(service web) has reached a steady state.",
                        rolling_back,
                        "(service web) has started 1 tasks: (task 0a1b).",
                    ],
                )),
            ],
            &fast(),
        )
        .await;
        assert_eq!(
            result.unwrap(),
            Rollout::RolledBack {
                to: OLD.into(),
                reason: rolling_back.into()
            }
        );
        assert_eq!(polls, 3);
    }

    #[tokio::test]
    async fn stays_in_progress_then_times_out() {
        let opts = WaitOptions {
            poll_interval: Duration::from_millis(5),
            timeout: Duration::from_millis(60),
        };
        let events = (0..500).map(|_| ecs_response(in_progress(1))).collect();
        let started = std::time::Instant::now();
        let (result, polls) = wait(events, &opts).await;
        let elapsed = started.elapsed();
        match result.unwrap() {
            Rollout::TimedOut { last_state } => {
                assert!(last_state.contains("IN_PROGRESS"), "{last_state}");
                assert!(last_state.contains("1 of 2 tasks running"), "{last_state}");
                assert!(last_state.contains("web:8"), "{last_state}");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(elapsed >= opts.timeout, "gave up early: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
        assert!(polls >= 2, "polled only {polls} times");
        assert!(polls < 100, "polled {polls} times: the interval is ignored");
    }

    #[tokio::test]
    async fn never_seeing_our_deployment_times_out_rather_than_rolling_back() {
        let opts = WaitOptions {
            poll_interval: Duration::from_millis(5),
            timeout: Duration::from_millis(30),
        };
        let events = (0..500)
            .map(|_| ecs_response(services("ACTIVE", vec![old_primary_done()], &[])))
            .collect();
        let (result, _) = wait(events, &opts).await;
        match result.unwrap() {
            Rollout::TimedOut { last_state } => {
                assert!(last_state.contains("no deployment of"), "{last_state}");
                assert!(last_state.contains("web:7"), "{last_state}");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_inactive_service_is_an_error() {
        let (result, polls) = wait(
            vec![ecs_response(services("INACTIVE", vec![], &[]))],
            &fast(),
        )
        .await;
        let err = result.unwrap_err();
        assert!(
            matches!(&err, RolloutError::ServiceInactive { status, .. } if status == "INACTIVE"),
            "{err:?}"
        );
        assert!(err.to_string().contains("web"), "{err}");
        assert!(err.to_string().contains("INACTIVE"), "{err}");
        assert_eq!(polls, 1);
    }

    #[tokio::test]
    async fn a_missing_service_is_an_error() {
        let (result, _) = wait(
            vec![ecs_response(json!({
                "services": [],
                "failures": [{"arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web", "reason": "MISSING"}]
            }))],
            &fast(),
        )
        .await;
        let err = result.unwrap_err();
        assert!(
            matches!(err, RolloutError::ServiceNotFound { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "ECS service web not found in cluster prod: MISSING"
        );
    }

    #[tokio::test]
    async fn access_denied_surfaces_code_and_message() {
        let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecs:DescribeServices on resource: arn:aws:ecs:us-east-1:123456789012:service/prod/web";
        let (result, polls) = wait(
            vec![ecs_error(400, "AccessDeniedException", message)],
            &fast(),
        )
        .await;
        match result.unwrap_err() {
            RolloutError::Api {
                operation,
                code,
                message: m,
            } => {
                assert_eq!(operation, "ECS DescribeServices");
                assert_eq!(code.as_deref(), Some("AccessDeniedException"));
                assert_eq!(m, message);
            }
            other => panic!("expected an API error, got {other:?}"),
        }
        assert_eq!(polls, 1, "an access error is not retried");
    }

    #[tokio::test]
    async fn throttling_is_retried_by_the_sdk_and_the_wait_goes_on() {
        let (result, polls) = wait(
            vec![
                ecs_response(in_progress(1)),
                ecs_error(400, "ThrottlingException", "Rate exceeded"),
                ecs_response(services("ACTIVE", vec![ours(2, "COMPLETED", "")], &[])),
            ],
            &fast(),
        )
        .await;
        assert_eq!(result.unwrap(), Rollout::Completed);
        assert_eq!(polls, 3);
    }

    #[tokio::test]
    async fn missing_fields_do_not_panic() {
        let (result, _) = wait(
            vec![
                ecs_response(json!({"services": [{"deployments": [{}, {"status": "PRIMARY"}], "events": [{}]}]})),
                ecs_response(json!({"services": [{"deployments": [{"taskDefinition": NEW}]}]})),
                ecs_response(json!({"services": [{"deployments": [{"taskDefinition": NEW, "status": "PRIMARY", "rolloutState": "FAILED"}]}]})),
            ],
            &fast(),
        )
        .await;
        assert_eq!(
            result.unwrap(),
            Rollout::Failed {
                reason: "no reason given".into()
            }
        );
        let (result, _) = wait(vec![ecs_response(json!({}))], &fast()).await;
        assert!(matches!(result, Err(RolloutError::ServiceNotFound { .. })));
    }

    #[test]
    fn task_definitions_match_by_arn_or_family_revision() {
        assert!(same_task_definition(NEW, NEW));
        assert!(same_task_definition(NEW, "web:8"));
        assert!(same_task_definition("web:8", NEW));
        assert!(!same_task_definition(NEW, "web:80"));
        assert!(!same_task_definition(NEW, OLD));
        assert!(!same_task_definition(NEW, "web"));
        assert!(!same_task_definition(
            NEW,
            "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:8"
        ));
    }

    fn elbv2(events: Vec<ReplayEvent>) -> aws_sdk_elasticloadbalancingv2::Client {
        let conf = aws_sdk_elasticloadbalancingv2::Config::builder()
            .http_client(StaticReplayClient::new(events))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        aws_sdk_elasticloadbalancingv2::Client::from_conf(conf)
    }

    const TG: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";

    fn target_health_answer(states: &[&str]) -> ReplayEvent {
        let members: String = states
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "<member><HealthCheckPort>8080</HealthCheckPort>\
                     <Target><Id>10.0.1.{i}</Id><Port>8080</Port></Target>\
                     <TargetHealth><State>{s}</State></TargetHealth></member>"
                )
            })
            .collect();
        let body = format!(
            "<DescribeTargetHealthResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
             <DescribeTargetHealthResult><TargetHealthDescriptions>{members}</TargetHealthDescriptions>\
             </DescribeTargetHealthResult>\
             <ResponseMetadata><RequestId>0f4d7f3c-1c2b-4c1e-9d7e-3b0c8f0c1a2b</RequestId></ResponseMetadata>\
             </DescribeTargetHealthResponse>"
        );
        response(200, "text/xml", body)
    }

    #[tokio::test]
    async fn targets_are_healthy_only_when_every_one_is() {
        for (states, want) in [
            (&["healthy", "healthy"][..], Targets::Healthy),
            (&["healthy", "unhealthy"][..], Targets::NotYet),
            (&["healthy", "initial"][..], Targets::NotYet),
            (&["healthy", "draining"][..], Targets::NotYet),
            (&[][..], Targets::NoneRegistered),
        ] {
            let client = elbv2(vec![target_health_answer(states)]);
            assert_eq!(
                target_health(&client, TG).await.unwrap(),
                want,
                "{states:?}"
            );
        }
    }

    #[tokio::test]
    async fn target_health_reports_the_aws_error() {
        let body = "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
                    <Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>\
                    <Message>One or more target groups not found</Message></Error>\
                    <RequestId>0f4d7f3c-1c2b-4c1e-9d7e-3b0c8f0c1a2b</RequestId></ErrorResponse>";
        let client = elbv2(vec![response(400, "text/xml", body.into())]);
        let err = target_health(&client, TG).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "ELBv2 DescribeTargetHealth failed: TargetGroupNotFound: One or more target groups not found"
        );
    }
}
