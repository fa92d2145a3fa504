//! Retrying what may fail for a moment (the record store, git, the
//! registry): a few tries with exponential backoff and jitter (backon),
//! each failure logged. What still fails then ends the attempt; the lane
//! tries the push again later, up to `max_attempts`.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// Runs `work` up to four times over about three seconds.
pub async fn transient<T, E, Fut, F>(what: &'static str, work: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    work.retry(
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(3)
            .with_jitter(),
    )
    .notify(|e: &E, after: Duration| {
        tracing::warn!(error = %e, retry_in = ?after, "{what} failed; trying again");
    })
    .await
}
