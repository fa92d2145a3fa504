//! Lets a provider report progress (a build step, a rollout state) while the
//! engine runs one of its calls: the line reaches the user as
//! `ADDRESS: line`. Outside an apply walk, lines go to the log only.

use std::sync::Arc;

pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

tokio::task_local! {
    static SINK: Sink;
}

/// Reports one line of progress for the resource being applied.
pub fn report(line: &str) {
    if SINK.try_with(|sink| sink(line)).is_err() {
        tracing::info!(target: "dumcel::progress", "{line}");
    }
}

/// Runs `fut` with `sink` receiving what it reports.
pub async fn scope<F: std::future::Future>(sink: Sink, fut: F) -> F::Output {
    SINK.scope(sink, fut).await
}
