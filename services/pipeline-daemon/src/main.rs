//! `dumcel-pipeline`: the deploy pipeline's processes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use dumcel_pipeline::config::Config;
use dumcel_pipeline::kafka::{KafkaSink, ensure_topics, producer};
use dumcel_pipeline::webhook;

#[derive(Parser)]
#[command(name = "dumcel-pipeline", version, about = "Dumcel's deploy pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive GitHub webhook deliveries and queue pushes on Kafka.
    Webhook {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Consume pushes from Kafka: build, push and roll out each one.
    Worker {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Check a configuration file and exit.
    Check {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DUMCEL_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Check { config } => {
            let c = Config::load(&config)?;
            println!(
                "{}: ok ({} repositories)",
                config.display(),
                c.repositories.len()
            );
            Ok(())
        }
        Command::Worker { config } => {
            let c = Config::load(&config)?;
            dumcel_pipeline::worker::run(c, shutdown()).await
        }
        Command::Webhook { config } => {
            let c = Config::load(&config)?;
            let secret = c.webhook_secret().map_err(anyhow::Error::msg)?;
            ensure_topics(&c.kafka).await.map_err(anyhow::Error::msg)?;
            let sink = KafkaSink {
                producer: producer(&c.kafka).map_err(anyhow::Error::msg)?,
                topic: c.kafka.push_topic.clone(),
            };
            let app = webhook::router(secret, c.webhook.max_body_bytes, Arc::new(sink));
            let listener = tokio::net::TcpListener::bind(c.webhook.listen)
                .await
                .with_context(|| format!("cannot listen on {}", c.webhook.listen))?;
            tracing::info!("webhook listening on {}", listener.local_addr()?);
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown())
                .await
                .context("webhook server")?;
            Ok(())
        }
    }
}

/// SIGTERM or Ctrl-C: stop taking new work, finish what is in progress.
async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
