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
