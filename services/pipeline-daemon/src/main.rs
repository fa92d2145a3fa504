//! `dumcel-pipeline`: the deploy pipeline's processes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use dumcel_pipeline::api::event_log::{self, EventLog};
use dumcel_pipeline::api::{self, ApiState};
use dumcel_pipeline::commands::{Outbox, RollbackTo, Steering};
use dumcel_pipeline::config::Config;
use dumcel_pipeline::kafka::{KafkaSink, ensure_topics, producer};
use dumcel_pipeline::webhook::{self, Receiver, Seen};
use dumcel_pipeline::webhook_server::{self, Limits};
use dumcel_pipeline::{commands, worker};

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
    /// Serve the deployments API (the configuration's `api` block).
    Serve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Make a new API token NAME: prints it once, and the line that lets it
    /// in (its SHA-256) for the configuration's `api` block.
    Token { name: String },
    /// Check a configuration file and exit.
    Check {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Show every environment: what it serves, its last push, who holds it.
    Status {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Only this project's environments.
        project: Option<String>,
    },
    /// Run an environment again on an image it ran before (by default the
    /// last good one before what it serves now).
    Rollback {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        project: String,
        environment: String,
        /// The commit to return to (a prefix of its SHA will do).
        #[arg(long, value_name = "SHA")]
        to: Option<String>,
    },
    /// Build and deploy again the commit the environment's branch points at.
    Redeploy {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        project: String,
        environment: String,
    },
    /// Destroy a preview environment now, whether or not its branch still
    /// exists (a later push to the branch makes it again).
    Destroy {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        project: String,
        environment: String,
    },
    /// Run production on the image a preview runs now, with the default
    /// branch's stack (no build).
    Promote {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        project: String,
        /// The preview environment (`preview-<branch>`).
        environment: String,
    },
    /// Let one commit's own stack deploy its preview (branch stacks are not
    /// trusted otherwise).
    Approve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        project: String,
        /// The full SHA of the commit whose stack you read.
        sha: String,
        /// Who approves (default: $USER).
        #[arg(long)]
        by: Option<String>,
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
            worker::run(c, shutdown()).await
        }
        Command::Webhook { config } => {
            let c = Config::load(&config)?;
            let secret = c.webhook_secret().map_err(anyhow::Error::msg)?;
            let signing_key = c.signing_key().map_err(anyhow::Error::msg)?;
            ensure_topics(&c.kafka).await.map_err(anyhow::Error::msg)?;
            let sink = KafkaSink {
                producer: producer(&c.kafka).map_err(anyhow::Error::msg)?,
                topic: c.kafka.push_topic.clone(),
            };
            let receiver = Receiver {
                secret,
                signing_key,
                sink: Arc::new(sink),
                seen: std::sync::Mutex::new(Seen::new(c.webhook.dedup_window, 100_000)),
            };
            let app = webhook::router(receiver, c.webhook.max_body_bytes);
            let listener = tokio::net::TcpListener::bind(c.webhook.listen)
                .await
                .with_context(|| format!("cannot listen on {}", c.webhook.listen))?;
            tracing::info!("webhook listening on {}", listener.local_addr()?);
            let limits = Limits {
                max_connections: c.webhook.max_connections,
                header_timeout: c.webhook.header_timeout,
                request_timeout: c.webhook.request_timeout,
            };
            webhook_server::serve(listener, app, &limits, shutdown())
                .await
                .context("webhook server")?;
            Ok(())
        }
        Command::Status { config, project } => {
            let c = Config::load(&config)?;
            let records = worker::records(&c).await?;
            print!(
                "{}",
                commands::status(records.as_ref(), project.as_deref()).await?
            );
            Ok(())
        }
        Command::Rollback {
            config,
            project,
            environment,
            to,
        } => {
            let to = to
                .as_deref()
                .map_or(RollbackTo::Previous, RollbackTo::Commit);
            let local = Local::open(&config).await?;
            print_queued(commands::rollback(&local.steering(), &project, &environment, to).await)
        }
        Command::Redeploy {
            config,
            project,
            environment,
        } => {
            let local = Local::open(&config).await?;
            print_queued(commands::redeploy(&local.steering(), &project, &environment).await)
        }
        Command::Destroy {
            config,
            project,
            environment,
        } => {
            let local = Local::open(&config).await?;
            print_queued(commands::destroy(&local.steering(), &project, &environment).await)
        }
        Command::Promote {
            config,
            project,
            environment,
        } => {
            let local = Local::open(&config).await?;
            print_queued(commands::promote(&local.steering(), &project, &environment).await)
        }
        Command::Serve { config } => serve(&config).await,
        Command::Token { name } => {
            let token = api::auth::new_token().context("no randomness for a token")?;
            let hash = hex::encode(api::auth::token_hash(&token));
            println!("{token}");
            eprintln!(
                "That is the token: it is shown once; give it to the client, never commit it.\n\
                 Let it in with this, in the configuration's api block:\n\n  token \"{name}\" {{\n    sha256 = \"{hash}\"\n  }}\n\n\
                 and name token:{name} in the `access` block of each repository it may use."
            );
            Ok(())
        }
        Command::Approve {
            config,
            project,
            sha,
            by,
        } => {
            let c = Config::load(&config)?;
            let records = worker::records(&c).await?;
            let by = by.unwrap_or_else(user);
            print!(
                "{}",
                commands::approve(&c, records.as_ref(), &project, &sha, &by).await?
            );
            Ok(())
        }
    }
}

/// What a steering command queued, as it tells the person who ran it.
fn print_queued(queued: Result<commands::Queued, commands::CommandError>) -> Result<()> {
    print!("{}", queued?);
    Ok(())
}

/// Who runs this command: $USER.
fn user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}

/// What a steering command run here works with: the configuration, its
/// record store, the push topic, and `cli:<$USER>` as who asks.
struct Local {
    config: Config,
    records: Arc<dyn dumcel_pipeline::records::Records>,
    outbox: Outbox,
    by: String,
}

impl Local {
    async fn open(config: &std::path::Path) -> Result<Local> {
        let config = Config::load(config)?;
        let records = worker::records(&config).await?;
        let outbox = Outbox::connect(&config).await?;
        Ok(Local {
            config,
            records,
            outbox,
            by: format!("cli:{}", user()),
        })
    }

    fn steering(&self) -> Steering<'_> {
        Steering {
            config: &self.config,
            records: self.records.as_ref(),
            outbox: &self.outbox,
            by: &self.by,
        }
    }
}

async fn serve(config: &std::path::Path) -> Result<()> {
    let c = Config::load(config)?;
    let Some(api) = c.api.clone() else {
        anyhow::bail!(
            "{}: no `api {{ listen = \"127.0.0.1:8089\" }}` block: `serve` needs one",
            config.display()
        );
    };
    let records = worker::records(&c).await?;
    let outbox = Outbox::connect(&c).await?;
    let events = Arc::new(EventLog::new(event_log::KEPT));
    event_log::follow_topic(events.clone(), c.kafka.clone())
        .await
        .map_err(anyhow::Error::msg)?;
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let limits = Limits {
        max_connections: api.max_connections,
        header_timeout: api.header_timeout,
        request_timeout: api.request_timeout,
    };
    let listener = tokio::net::TcpListener::bind(api.listen)
        .await
        .with_context(|| format!("cannot listen on {}", api.listen))?;
    tracing::info!("api listening on {}", listener.local_addr()?);
    let build_logs = dumcel_pipeline::build_log::Bucket::of(&c).await;
    let sign_in = match api.sign_in.clone() {
        Some(settings) => Some(Arc::new(
            api::signin::SignInService::start(settings)
                .await
                .map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    let app = api::router(ApiState {
        config: c,
        api,
        records,
        outbox,
        events,
        build_logs,
        sign_in,
        stop,
    });
    let stopped = async move {
        shutdown().await;
        let _ = stopping.send(true);
    };
    webhook_server::serve(listener, app, &limits, stopped)
        .await
        .context("api server")?;
    Ok(())
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
