//! Load generator for `dumcel-pipeline webhook`: N signed GitHub push
//! deliveries over C concurrent connections, each one answered 202 only once
//! the broker has the push. Used by `bench/webhook.sh`.
//!
//! ```sh
//! webhook_load --url http://127.0.0.1:8088/webhook --secret s3cret \
//!     --payload push.json --requests 20000 --concurrency 8
//! ```
//!
//! The body is signed once (`X-Hub-Signature-256`); every request carries its
//! own `X-GitHub-Delivery`. Each of the C workers has its own HTTP client
//! holding one keep-alive connection and sends its requests one after the
//! other. It prints one line:
//!
//! ```text
//! requests=20000 concurrency=8 non_202=0 not_queued=0 seconds=9.812 deliveries_per_s=2038.3 p50_ms=3.61 p99_ms=8.02
//! ```
//!
//! `non_202` counts every other status and every transport error; `not_queued`
//! counts 202 answers that did not say `queued` (a tag push or a non-push
//! event is acknowledged without reaching Kafka, which would not measure the
//! produce). `deliveries_per_s` is the queued deliveries over the wall time.
//! The exit status is 1 if either count is above zero.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "webhook_load",
    about = "Sends signed GitHub push deliveries to the pipeline daemon's webhook and measures them"
)]
struct Args {
    /// The webhook's URL, e.g. http://127.0.0.1:8088/webhook.
    #[arg(long)]
    url: String,
    /// The webhook secret the daemon checks signatures with.
    #[arg(long)]
    secret: String,
    /// A GitHub push delivery body (JSON), sent as is.
    #[arg(long, value_name = "FILE")]
    payload: PathBuf,
    /// How many deliveries to send in all.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// How many connections send at the same time.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    /// Latency of every answered request, in microseconds.
    latencies_us: Vec<u64>,
    /// 202 and `queued`.
    queued: usize,
    /// 202 without `queued`.
    not_queued: usize,
    /// Everything that was not a 202, by status or error.
    failures: BTreeMap<String, usize>,
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("webhook_load: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(Args::parse())) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("webhook_load: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Ok(true) when every delivery was answered 202 and queued.
async fn run(args: Args) -> Result<bool> {
    if args.requests == 0 {
        bail!("--requests must be at least 1");
    }
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if args.secret.is_empty() {
        bail!("--secret is empty: give the secret the daemon was started with");
    }
    // reqwest is built without a default TLS provider; the bench speaks plain
    // HTTP, but the client builder still wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let body = std::fs::read(&args.payload)
        .with_context(|| format!("cannot read the payload {}", args.payload.display()))?;
    serde_json::from_slice::<serde_json::Value>(&body).with_context(|| {
        format!(
            "{} is not JSON: give a GitHub push delivery body",
            args.payload.display()
        )
    })?;
    let signature = dumcel_pipeline::signature::sign(args.secret.as_bytes(), &body);
    // Shared bytes: every request's body is a cheap clone.
    let body = Bytes::from(body);
    let run_id = format!(
        "{:x}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );

    let next = Arc::new(AtomicUsize::new(0));
    let workers = args.concurrency.min(args.requests);
    let mut handles = Vec::with_capacity(workers);
    let started = Instant::now();
    for _ in 0..workers {
        // One client per worker, one idle connection each: C workers, C
        // keep-alive connections.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(args.timeout))
            .build()
            .context("cannot build the HTTP client")?;
        let job = Job {
            client,
            url: args.url.clone(),
            signature: signature.clone(),
            body: body.clone(),
            run_id: run_id.clone(),
            next: next.clone(),
            total: args.requests,
        };
        handles.push(tokio::spawn(job.work()));
    }
    let mut all = Tally::default();
    for h in handles {
        let t = h.await.context("a worker panicked")?;
        all.latencies_us.extend(t.latencies_us);
        all.queued += t.queued;
        all.not_queued += t.not_queued;
        for (k, n) in t.failures {
            *all.failures.entry(k).or_default() += n;
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    all.latencies_us.sort_unstable();
    let non_202: usize = all.failures.values().sum();
    println!(
        "requests={} concurrency={} non_202={} not_queued={} seconds={:.3} deliveries_per_s={:.1} p50_ms={:.2} p99_ms={:.2}",
        args.requests,
        workers,
        non_202,
        all.not_queued,
        seconds,
        all.queued as f64 / seconds,
        percentile_ms(&all.latencies_us, 50.0),
        percentile_ms(&all.latencies_us, 99.0),
    );
    for (what, n) in &all.failures {
        eprintln!("webhook_load: {n} answered {what}");
    }
    if all.not_queued > 0 {
        eprintln!(
            "webhook_load: {} answered 202 without `queued`: the payload is not a branch push, so nothing reached Kafka",
            all.not_queued
        );
    }
    Ok(non_202 == 0 && all.not_queued == 0)
}

struct Job {
    client: reqwest::Client,
    url: String,
    signature: String,
    body: Bytes,
    run_id: String,
    next: Arc<AtomicUsize>,
    total: usize,
}

impl Job {
    async fn work(self) -> Tally {
        let mut tally = Tally::default();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.total {
                return tally;
            }
            let sent = Instant::now();
            let answer = self
                .client
                .post(&self.url)
                .header("x-github-event", "push")
                .header("x-github-delivery", format!("bench-{}-{i}", self.run_id))
                .header("x-hub-signature-256", &self.signature)
                .header("content-type", "application/json")
                .body(self.body.clone())
                .send()
                .await;
            let outcome = match answer {
                Ok(response) => {
                    let status = response.status();
                    // Read the whole answer so the connection is reused.
                    match response.text().await {
                        Ok(text) => Ok((status, text)),
                        Err(e) => Err(format!("error reading the answer: {e}")),
                    }
                }
                Err(e) => Err(format!("error: {e}")),
            };
            tally
                .latencies_us
                .push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
            match outcome {
                Ok((status, text)) if status == reqwest::StatusCode::ACCEPTED => {
                    if text.starts_with("queued") {
                        tally.queued += 1;
                    } else {
                        tally.not_queued += 1;
                    }
                }
                Ok((status, _)) => *tally.failures.entry(status.to_string()).or_default() += 1,
                Err(e) => *tally.failures.entry(e).or_default() += 1,
            }
        }
    }
}

/// The nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us[i] as f64 / 1000.0
}
