//! The `dumcel` command line: Terraform's commands and flags, over the engine.

mod backend_settings;
mod backends;
mod commands;
mod interrupt;
mod modules_install;
mod progress_lines;
mod session;
mod ui;
mod workspaces;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::*;
use ui::{Reported, Ui};

/// jemalloc: a plan is mostly small, short-lived strings and values, where
/// glibc's malloc spent a third of the instructions (bench/README.md).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start. One arena for all threads: memory
/// freed by one thread is reused by the others. With an arena per thread, a
/// large file's part parsed on a second thread (engine/src/config/
/// parse_in_parts.rs) stayed in that thread's arena after the parse, and the
/// 10,000-resource no-op plan peaked at 116 MiB instead of 88 (bench/README.md).
/// The allocation paths are the same: each thread still has its own cache.
#[used]
#[unsafe(export_name = "_rjem_malloc_conf")]
// The pointer is to a static C string literal, valid for the whole program.
static MALLOC_CONF: Option<&std::ffi::c_char> = Some(unsafe { &*c"narenas:1".as_ptr() });

#[derive(Debug, Parser)]
#[command(
    name = "dumcel",
    version,
    about = "Declarative infrastructure: plan and apply HCL stacks",
    disable_help_subcommand = true
)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(long, global = true, value_name = "DIR")]
    chdir: Option<PathBuf>,
    /// No colours in the output.
    #[arg(long = "no-color", global = true)]
    no_color: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prepare the stack directory.
    Init(init::InitArgs),
    /// Check the configuration is valid.
    Validate(validate::ValidateArgs),
    /// Rewrite stack files in the canonical style.
    Fmt(fmt::FmtArgs),
    /// Show what apply would change.
    Plan(plan::PlanArgs),
    /// Make the infrastructure match the configuration.
    Apply(apply::ApplyArgs),
    /// Destroy everything the state records.
    Destroy(apply::ApplyArgs),
    /// Evaluate expressions against the configuration and state.
    Console(console::ConsoleArgs),
    /// Bring an existing object under management.
    Import(import::ImportArgs),
    /// Show the state or a saved plan.
    Show(show::ShowArgs),
    /// Show output values.
    Output(output::OutputArgs),
    /// Inspect and edit the state.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Manage workspaces: one state each.
    #[command(subcommand)]
    Workspace(workspace::WorkspaceCommand),
    /// Print the dependency graph (DOT).
    Graph,
    /// Record what changed outside dumcel (`apply -refresh-only -auto-approve`).
    Refresh(apply::ApplyArgs),
    /// Mark a recorded object to be replaced by the next apply.
    Taint(taint::TaintArgs),
    /// Take back a taint mark.
    Untaint(taint::TaintArgs),
    /// Release a lock left by a dead process.
    ForceUnlock(force_unlock::ForceUnlockArgs),
    /// Print the version.
    Version(version::VersionArgs),
}

/// Terraform spells long flags with one dash (`-auto-approve`, `-out=FILE`);
/// clap wants two. Both are accepted.
fn normalise_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut passthrough = false;
    for (i, a) in args.enumerate() {
        if i == 0 || passthrough {
            out.push(a);
            continue;
        }
        if a == "--" {
            passthrough = true;
            out.push(a);
            continue;
        }
        let long_single = a.starts_with('-')
            && !a.starts_with("--")
            && a.len() > 2
            && a.as_bytes()[1].is_ascii_alphabetic();
        out.push(if long_single { format!("-{a}") } else { a });
    }
    out
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DUMCEL_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_writer(std::io::stderr)
        // A span's close line carries its time: `DUMCEL_LOG=dumcel=debug`
        // shows where a command's time goes (configuration, state, plan).
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    let cli = Cli::parse_from(normalise_args(std::env::args()));
    let ui = Ui::new(cli.no_color);
    if let Some(dir) = &cli.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        eprintln!(
            "Error: cannot change to the directory {}: {e}",
            dir.display()
        );
        return ExitCode::from(1);
    }
    // One worker: the command runs on it, and the tasks it spawns mostly wake
    // each other there, without waking a second thread through a futex. The
    // runtime stays multi-threaded because two drops block in place (the S3
    // lock's release, the journal's last commit), and block_in_place needs a
    // multi-thread runtime.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        // The main thread's stack on Linux, which the command ran on before:
        // parsing and evaluation recurse once per nesting level.
        .thread_stack_size(8 << 20)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        if let Err(e) = interrupt::install() {
            eprintln!("Error: cannot listen for interrupts: {e}");
            return Ok(1);
        }
        // On the worker, not on this thread: block_on's thread is not one of
        // the runtime's, and every wake-up between the two costs a futex.
        let mut command = tokio::spawn(async move { run(&ui, cli.command).await });
        tokio::select! {
            joined = &mut command => match joined {
                Ok(result) => result,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(anyhow::anyhow!("the command stopped: {e}")),
            },
            () = interrupt::cancelled() => {
                // Dropping the command releases its locks on the way out;
                // wait for that before the process exits.
                command.abort();
                let _ = command.await;
                Ok(1)
            }
        }
    });
    progress_lines::flush();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is::<Reported>() => ExitCode::from(1),
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(ui: &Ui, command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Init(a) => init::run(ui, a).await,
        Command::Validate(a) => validate::run(ui, a).await,
        Command::Fmt(a) => fmt::run(ui, a).await,
        Command::Plan(a) => plan::run(ui, a).await,
        Command::Apply(a) => apply::run(ui, a).await,
        Command::Destroy(mut a) => {
            a.destroy = true;
            apply::run(ui, a).await
        }
        Command::Import(a) => import::run(ui, a).await,
        Command::Console(a) => console::run(ui, a).await,
        Command::Show(a) => show::run(ui, a).await,
        Command::Output(a) => output::run(ui, a).await,
        Command::State(c) => state::run(ui, c).await,
        Command::Workspace(c) => workspace::run(ui, c).await,
        Command::Graph => graph::run(ui).await,
        Command::Refresh(mut a) => {
            a.planning.refresh_only = true;
            a.auto_approve = true;
            apply::run(ui, a).await
        }
        Command::Taint(a) => taint::run(ui, a, true).await,
        Command::Untaint(a) => taint::run(ui, a, false).await,
        Command::ForceUnlock(a) => force_unlock::run(ui, a).await,
        Command::Version(a) => version::run(a).await,
    }
}
