//! What every command that touches a stack does first: load its configuration,
//! resolve variables, find its state backend, take the lock, and recover from
//! an interrupted apply.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use dumcel_engine::config::load::load_module;
use dumcel_engine::config::{Module, SourceMap, VariableDecl};
use dumcel_engine::configure::configure_providers;
use dumcel_engine::plan::PlanOptions;
use dumcel_engine::provider::Registry;
use dumcel_engine::recover::reconcile;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::{CliVar, resolve};
use dumcel_planner::Map;
use dumcel_state::{InFlight, LocalBackend, LocalLock, State};
use dumcel_state_s3::{RemoteLock, S3Remote};

use crate::ui::{Reported, Ui};

/// Flags shared by plan, apply and destroy.
#[derive(Debug, Clone, clap::Args)]
pub struct VarFlags {
    /// Set a variable: -var 'name=value' (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variable values from a file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<PathBuf>,
    /// Ask for missing values on a terminal (-input=false never asks).
    #[arg(long = "input", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LockFlags {
    /// Hold the state lock (-lock=false skips it: dangerous).
    #[arg(long = "lock", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub lock: bool,
    /// How long to wait for the state lock, like 30s (default: fail at once).
    #[arg(long = "lock-timeout", default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: Duration,
}

impl LockFlags {
    /// For read-only commands: read the snapshot without taking the lock.
    pub fn none() -> LockFlags {
        LockFlags {
            lock: false,
            lock_timeout: Duration::ZERO,
        }
    }
}

/// Flags shared by plan, apply and destroy that shape the plan.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanFlags {
    /// Read every recorded object first (-refresh=false skips it).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// How many provider calls may run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Replace this instance even if nothing changed (repeatable).
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Limit the plan to these resources and what they depend on (repeatable).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub target: Vec<String>,
}

impl PlanFlags {
    pub fn options(&self, destroy: bool) -> PlanOptions {
        PlanOptions {
            destroy,
            refresh: self.refresh,
            parallelism: self.parallelism,
            replace: self.replace.clone(),
            targets: self.target.clone(),
        }
    }
}

pub fn registry() -> Registry {
    let mut r = Registry::new();
    dumcel_engine::builtin::register(&mut r);
    r.add(Arc::new(dumcel_provider_docker::Docker::new()));
    dumcel_provider_aws::register(&mut r);
    r
}

/// The stack's configuration, loaded; diagnostics printed on failure.
pub fn load_config(ui: &Ui) -> anyhow::Result<(Module, SourceMap)> {
    let mut sources = SourceMap::default();
    match load_module(Path::new("."), &mut sources) {
        Ok(m) => Ok((m, sources)),
        Err(d) => Err(ui.fail(&sources, &d)),
    }
}

/// Parses -var pairs and -var-file names, in the order given on the command line.
fn cli_vars(flags: &VarFlags) -> anyhow::Result<Vec<CliVar>> {
    // clap keeps each flag's own order; files and pairs are interleaved by
    // position in argv.
    let mut out: Vec<(usize, CliVar)> = Vec::new();
    let argv: Vec<String> = std::env::args().collect();
    let mut pairs = flags.var.iter();
    let mut files = flags.var_file.iter();
    for (i, a) in argv.iter().enumerate() {
        let a = a.trim_start_matches('-');
        if a == "var" || a.starts_with("var=") {
            if let Some(p) = pairs.next() {
                let (k, v) = p
                    .split_once('=')
                    .with_context(|| format!("-var {p:?}: expected NAME=VALUE"))?;
                out.push((i, CliVar::Pair(k.trim().to_owned(), v.to_owned())));
            }
        } else if (a == "var-file" || a.starts_with("var-file="))
            && let Some(f) = files.next()
        {
            out.push((i, CliVar::File(f.clone())));
        }
    }
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("-var {p:?}: expected NAME=VALUE"))?;
        out.push((usize::MAX, CliVar::Pair(k.trim().to_owned(), v.to_owned())));
    }
    for f in files {
        out.push((usize::MAX, CliVar::File(f.clone())));
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

fn prompt_for(decl: &VariableDecl) -> Option<String> {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "var.{}", decl.name);
    if let Some(d) = &decl.description {
        let _ = writeln!(err, "  {d}\n");
    }
    let _ = write!(err, "  Enter a value: ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_owned())
}

pub fn can_prompt(input: bool) -> bool {
    input && std::io::stdin().is_terminal()
}

/// Resolves variables; prints diagnostics on failure.
pub fn variables(
    ui: &Ui,
    module: &Module,
    sources: &mut SourceMap,
    flags: &VarFlags,
) -> anyhow::Result<Map> {
    let cli = cli_vars(flags)?;
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("DUMCEL_VAR_"))
        .collect();
    let mut prompt = prompt_for;
    let prompt: Option<dumcel_engine::variables::Prompt<'_>> = if can_prompt(flags.input) {
        Some(&mut prompt)
    } else {
        None
    };
    match resolve(module, sources, &cli, &env, prompt) {
        Ok(v) => Ok(v),
        Err(d) => Err(ui.fail(sources, &d)),
    }
}

pub fn build_stack(
    ui: &Ui,
    module: Module,
    sources: SourceMap,
    variables: Map,
) -> anyhow::Result<Arc<Stack>> {
    let workspace = crate::workspaces::current();
    match Stack::new(module, sources.clone(), registry(), variables, &workspace) {
        Ok(s) => Ok(Arc::new(s)),
        Err(d) => Err(ui.fail(&sources, &d)),
    }
}

/// The stack's configuration if it loads; `None` otherwise (no diagnostics).
pub fn quiet_module() -> Option<Module> {
    let mut sources = SourceMap::default();
    load_module(Path::new("."), &mut sources).ok()
}

/// The lock and the recorded state, with the journal of an interrupted apply
/// replayed. Operations that were in flight are reconciled by [`prepare`].
pub struct Locked {
    /// The local snapshot (for the S3 backend, its local mirror) with the journal beside it.
    pub backend: LocalBackend,
    pub lock: Option<LocalLock>,
    pub state: State,
    pub(crate) in_flight: Vec<InFlight>,
    pub(crate) replayed: usize,
    /// The S3 backend's object and lock, when it is configured.
    pub remote: Option<S3Remote>,
    pub remote_lock: Option<RemoteLock>,
}

impl Locked {
    /// Writes the state: the local snapshot (removing the journal), then the
    /// S3 object when that backend is configured.
    pub async fn persist(&self, state: &State) -> anyhow::Result<()> {
        let Some(lock) = &self.lock else {
            bail!("cannot write state without its lock (-lock=false)");
        };
        self.backend
            .persist(lock, state)
            .context("writing the state")?;
        if let Some(remote) = &self.remote {
            remote.upload(state).await.map_err(report)?;
        }
        Ok(())
    }

    /// For commands without a configuration to reconcile with.
    pub fn refuse_in_flight(&self) -> anyhow::Result<()> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        Err(report(format!(
            "an interrupted apply left {} operation(s) in flight ({}); run `dumcel plan` in the stack directory first to reconcile them",
            self.in_flight.len(),
            self.in_flight
                .iter()
                .map(|i| i.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

pub async fn lock_and_load(
    backend: LocalBackend,
    operation: &str,
    flags: &LockFlags,
) -> anyhow::Result<Locked> {
    if !flags.lock {
        // Without the lock nothing may be written; read the snapshot only.
        let state = match std::fs::read(backend.path()) {
            Ok(bytes) => State::from_json(&bytes)
                .map_err(|e| report(format!("{}: {e}", backend.path().display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", backend.path().display()));
            }
        };
        return Ok(Locked {
            backend,
            lock: None,
            state,
            in_flight: Vec::new(),
            replayed: 0,
            remote: None,
            remote_lock: None,
        });
    }
    let lock = {
        let b = backend.clone();
        let op = operation.to_owned();
        let timeout = flags.lock_timeout;
        tokio::task::spawn_blocking(move || b.lock(&op, timeout))
            .await?
            .map_err(report)?
    };
    let loaded = backend.load(&lock).map_err(report)?;
    Ok(Locked {
        backend,
        lock: Some(lock),
        state: loaded.state.unwrap_or_else(State::new),
        in_flight: loaded.in_flight,
        replayed: loaded.replayed,
        remote: None,
        remote_lock: None,
    })
}

/// Configures the stack's providers, then reconciles what an interrupted
/// apply left in flight (reading each object back) and records the recovery.
pub async fn prepare(ui: &Ui, stack: &Stack, locked: &mut Locked) -> anyhow::Result<()> {
    if let Err(d) = configure_providers(stack, &locked.state).await {
        return Err(ui.fail(&stack.sources, &d));
    }
    if locked.in_flight.is_empty() && locked.replayed == 0 {
        return Ok(());
    }
    eprintln!(
        "Warning: the previous apply was interrupted. Recovered {} completed change(s) from the state journal.",
        locked.replayed
    );
    let found = reconcile(&stack.registry, &mut locked.state, &locked.in_flight).await;
    for r in &found {
        eprintln!(
            "  {} was in flight ({:?}): {}",
            r.address, r.operation, r.outcome
        );
    }
    locked.state.serial += 1;
    locked.persist(&locked.state).await?;
    locked.in_flight.clear();
    locked.replayed = 0;
    Ok(())
}

/// Prints an error that is not about configuration, and marks it reported.
pub fn report(err: impl std::fmt::Display) -> anyhow::Error {
    eprintln!("Error: {err}");
    anyhow::Error::new(Reported)
}
