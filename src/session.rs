//! What every command that touches a stack does first: load its configuration,
//! resolve variables, find its state backend, take the lock, and recover from
//! an interrupted apply.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use dumcel_engine::config::load::load_module;
use dumcel_engine::config::{Diagnostics, Module, SourceMap, VariableDecl};
use dumcel_engine::configure::configure_providers;
use dumcel_engine::plan::PlanOptions;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::{CliVar, resolve};
use dumcel_planner::Map;
use dumcel_session::LockOptions;
pub use dumcel_session::{Locked, lock_and_load};

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
    pub fn options(&self) -> LockOptions {
        LockOptions {
            lock: self.lock,
            timeout: self.lock_timeout,
        }
    }

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
    /// Leave out this resource, instance or module and what depends on it
    /// (repeatable).
    #[arg(long = "exclude", value_name = "ADDRESS")]
    pub exclude: Vec<String>,
    /// Only read the real objects and record what changed outside dumcel;
    /// propose no changes.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
}

impl PlanFlags {
    /// `saved_or_json`: whether the plan is printed as JSON or saved
    /// (see [`PlanOptions::saved_or_json`]).
    pub fn options(&self, destroy: bool, saved_or_json: bool) -> PlanOptions {
        PlanOptions {
            destroy,
            saved_or_json,
            refresh: self.refresh,
            parallelism: self.parallelism,
            replace: self.replace.clone(),
            targets: self.target.clone(),
            excludes: self.exclude.clone(),
        }
    }
}

pub use dumcel_session::registry;

/// The stack's configuration, loaded; diagnostics printed on failure.
/// The backend values `init -backend-config` saved are put into its block.
#[tracing::instrument(level = "debug", skip_all)]
pub fn load_config(ui: &Ui) -> anyhow::Result<(Module, SourceMap)> {
    let mut sources = SourceMap::default();
    match load_module(Path::new("."), &mut sources) {
        Ok(mut m) => {
            if let Some(saved) = crate::backend_settings::load()? {
                crate::backend_settings::merge_into(&mut m, &saved);
            }
            Ok((m, sources))
        }
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
        .filter(|(k, _)| {
            dumcel_engine::variables::ENV_PREFIXES
                .iter()
                .any(|p| k.starts_with(p))
        })
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

#[tracing::instrument(level = "debug", skip_all)]
pub fn build_stack(
    ui: &Ui,
    module: Module,
    sources: SourceMap,
    variables: Map,
) -> anyhow::Result<Arc<Stack>> {
    match new_stack(module, sources.clone(), variables) {
        Ok(s) => Ok(Arc::new(s)),
        Err(d) => Err(ui.fail(&sources, &d)),
    }
}

/// The stack of `module` in the selected workspace, with the built-in providers.
fn new_stack(
    module: impl Into<Arc<Module>>,
    sources: SourceMap,
    variables: Map,
) -> Result<Stack, Diagnostics> {
    let workspace = crate::workspaces::current();
    Stack::new(module, sources, registry(), variables, &workspace)
}

/// Builds the stack while its state is locked and read: neither needs the
/// other, and at 100,000 resources each is over a tenth of a no-op plan
/// (bench/README.md), so the build runs on a second thread meanwhile. A
/// configuration error is reported as when the two ran one after the other,
/// alone and first; the state opened meanwhile (recovered as every opening
/// recovers it) is dropped with it, and so is its lock.
pub async fn build_stack_and_open_state(
    ui: &Ui,
    module: Module,
    sources: SourceMap,
    variables: Map,
    operation: &str,
    lock: &LockFlags,
) -> anyhow::Result<(Arc<Stack>, Locked)> {
    let module = Arc::new(module);
    let building = tokio::task::spawn_blocking({
        let (module, sources) = (module.clone(), sources.clone());
        move || {
            let _span = tracing::debug_span!("build_stack").entered();
            new_stack(module, sources, variables)
        }
    });
    let opened = crate::backends::try_open_state(Some(&module), operation, lock).await;
    let stack = match building.await {
        Ok(Ok(stack)) => Arc::new(stack),
        Ok(Err(d)) => return Err(ui.fail(&sources, &d)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(anyhow::anyhow!("building the stack stopped: {e}")),
    };
    Ok((stack, opened.map_err(report)?))
}

/// The stack's configuration if it loads; `None` otherwise (no diagnostics).
pub fn quiet_module() -> Option<Module> {
    let mut sources = SourceMap::default();
    let mut module = load_module(Path::new("."), &mut sources).ok()?;
    if let Ok(Some(saved)) = crate::backend_settings::load() {
        crate::backend_settings::merge_into(&mut module, &saved);
    }
    Some(module)
}

/// Configures the stack's providers, then reconciles what an interrupted
/// apply left in flight (reading each object back) and records the recovery.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn prepare(ui: &Ui, stack: &Stack, locked: &mut Locked) -> anyhow::Result<()> {
    if let Err(d) = configure_providers(stack, &locked.state).await {
        return Err(ui.fail(&stack.sources, &d));
    }
    let Some(recovery) = locked.recover(stack).await.map_err(report)? else {
        return Ok(());
    };
    eprintln!(
        "Warning: the previous apply was interrupted. Recovered {} completed change(s) from the state journal.",
        recovery.replayed
    );
    for r in &recovery.reconciled {
        eprintln!(
            "  {} was in flight ({:?}): {}",
            r.address, r.operation, r.outcome
        );
    }
    Ok(())
}

/// Leaves `value`'s memory to the operating system, for a command that is
/// about to end the process. Freeing a stack and its plan value by value was
/// 7 % of a no-op plan (bench/README.md); the exit gives the memory back
/// whole. Only for values whose `Drop` does no work besides freeing: never
/// the state lock or the journal.
pub fn free_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Prints an error that is not about configuration, and marks it reported.
pub fn report(err: impl std::fmt::Display) -> anyhow::Error {
    eprintln!("Error: {err}");
    anyhow::Error::new(Reported)
}
