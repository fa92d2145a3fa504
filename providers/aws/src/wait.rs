//! Polling until AWS reaches a state (a table deleted, a target group let go),
//! with a deadline and a progress line so a long wait is visible.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::{AwsError, AwsResult};

/// Calls `check` until it returns `Some`, sleeping `every` between calls; gives
/// up after `limit` with an error naming `what`.
pub async fn until<T, F, Fut>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut check: F,
) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AwsResult<Option<T>>>,
{
    let start = Instant::now();
    let mut reported = false;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() >= limit {
            return Err(AwsError::Timeout(format!(
                "gave up after {}s waiting for {what}",
                limit.as_secs()
            )));
        }
        if !reported && start.elapsed() >= Duration::from_secs(2) {
            dumcel_engine::progress::report(&format!("waiting for {what}"));
            reported = true;
        }
        tokio::time::sleep(every).await;
    }
}

/// Limits: long enough for AWS, overridable so tests of failure paths are quick.
pub fn limit(default_secs: u64) -> Duration {
    std::env::var("DUMCEL_AWS_WAIT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(default_secs))
}

/// Calls `attempt` until it succeeds or fails with an error `retryable` does
/// not accept, sleeping `first`, then twice as long each time up to `max`,
/// between attempts; gives up after `limit` with an error naming `what` and
/// the last answer (so the user sees AWS's own code and message).
pub async fn retry<T, F, Fut>(
    what: &str,
    limit: Duration,
    (first, max): (Duration, Duration),
    retryable: impl Fn(&AwsError) -> bool,
    mut attempt: F,
) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AwsResult<T>>,
{
    let start = Instant::now();
    let mut delay = first;
    let mut reported = false;
    loop {
        let err = match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) => e,
            Err(e) => return Err(e),
        };
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(AwsError::Timeout(format!(
                "gave up after {}s waiting for {what}; last answer: {err}",
                limit.as_secs()
            )));
        }
        if !reported {
            dumcel_engine::progress::report(&format!("waiting for {what} ({err})"));
            reported = true;
        }
        tokio::time::sleep(delay.min(left)).await;
        delay = (delay * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_use() -> AwsError {
        AwsError::Service {
            operation: "DeleteTargetGroup",
            code: "ResourceInUse".into(),
            message: "in use by a listener".into(),
        }
    }

    #[tokio::test]
    async fn retry_succeeds_once_the_condition_clears() {
        let mut calls = 0;
        let got = retry(
            "x",
            Duration::from_secs(5),
            (Duration::from_millis(1), Duration::from_millis(4)),
            |e| e.code() == Some("ResourceInUse"),
            || {
                calls += 1;
                let n = calls;
                async move { if n < 4 { Err(in_use()) } else { Ok(n) } }
            },
        )
        .await
        .unwrap();
        assert_eq!(got, 4);
    }

    #[tokio::test]
    async fn retry_gives_up_with_the_last_answer() {
        let start = Instant::now();
        let err = retry::<(), _, _>(
            "target group tg to be released",
            Duration::from_millis(200),
            (Duration::from_millis(10), Duration::from_millis(50)),
            |e| e.code() == Some("ResourceInUse"),
            || async { Err(in_use()) },
        )
        .await
        .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        let msg = err.to_string();
        assert!(
            msg.contains("waiting for target group tg to be released")
                && msg.contains("ResourceInUse: in use by a listener"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn retry_returns_other_errors_at_once() {
        let mut calls = 0;
        let err = retry::<(), _, _>(
            "x",
            Duration::from_secs(5),
            (Duration::from_millis(1), Duration::from_millis(1)),
            |e| e.code() == Some("ResourceInUse"),
            || {
                calls += 1;
                async { Err(AwsError::invalid("bad")) }
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), "bad");
        assert_eq!(calls, 1);
    }
}
