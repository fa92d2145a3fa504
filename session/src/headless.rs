//! A whole apply or destroy with nobody at a terminal: what the pipeline
//! worker runs for each push. Variables come only from the request (no
//! prompts, no environment), the workspace is created when missing, and the
//! state is written whatever happens, failures included.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dumcel_engine::apply::{ApplyOptions, apply};
use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::configure::configure_providers;
use dumcel_engine::hooks::Silent;
use dumcel_engine::plan::PlanOptions;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::{CliVar, resolve_confined};
use dumcel_state::State;

use crate::registry::registry_with;
use crate::sandbox::{self, Sandbox};
use crate::{AwsRole, LockOptions, Recovery, SessionError, base_state_path, open_state, workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Apply,
    Destroy,
    /// Plans as an apply would and applies nothing: the plan, as `dumcel
    /// plan` prints it, is in [`Applied::plan`]. Like an apply it takes the
    /// lock and first recovers an earlier run's cut-off apply, so that the
    /// plan is made against the world as it is.
    Plan,
}

pub struct Request<'a> {
    /// The stack's directory (its `*.hcl` files).
    pub root: &'a Path,
    /// Where the stack's local state (or, for an S3 backend, its mirror and
    /// journal) lives: kept apart from `root`, which may be a fresh checkout
    /// on every run.
    pub state_dir: &'a Path,
    pub workspace: &'a str,
    /// Values for the stack's variables, as `-var name=value` would give
    /// them. Names the stack does not declare are left out: a pipeline offers
    /// `image`, `environment` and `host`, and a stack takes what it needs.
    pub variables: Vec<(String, String)>,
    pub operation: Operation,
    /// How long to wait for a lock another run holds.
    pub lock_timeout: Duration,
    pub parallelism: usize,
    /// For a stack from an untrusted branch: what it may not do, checked
    /// before any state is opened, and the directory its file functions are
    /// confined to. `None` runs the stack as the CLI would.
    pub sandbox: Option<Sandbox<'a>>,
    /// The IAM role every `aws` provider of the run assumes, from the host's
    /// own credentials, whatever the stack's `provider "aws"` block says (a
    /// sandboxed stack may not choose credentials at all). `None`: the
    /// stack's settings and the standard chain, as the CLI runs it.
    pub aws_role: Option<AwsRole>,
}

/// What an apply (or destroy) that ran to the end did.
pub struct Applied {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// The state as recorded after the run.
    pub state: State,
    /// An earlier run's cut-off apply, recovered first.
    pub recovered: Option<Recovery>,
    /// For [`Operation::Plan`]: the plan as `dumcel plan` prints it, without
    /// colours.
    pub plan: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Some changes failed; the ones that completed are recorded.
    #[error("{} resource(s) failed ({}); {added} added, {changed} changed, {destroyed} destroyed and recorded", failed.len(), failed.iter().map(|(a, m)| format!("{a}: {m}")).collect::<Vec<_>>().join("; "))]
    Failed {
        failed: Vec<(String, String)>,
        added: usize,
        changed: usize,
        destroyed: usize,
    },
}

/// Loads the stack in `req.root`, plans against the workspace's state and
/// applies the plan.
pub async fn run(req: Request<'_>) -> Result<Applied, RunError> {
    let mut sources = SourceMap::default();
    let config = |d: dumcel_engine::config::Diagnostics, sources: &SourceMap| {
        SessionError::Config(d.render_plain(sources))
    };
    let loaded = load_module(req.root, &mut sources);
    if let Some(sb) = &req.sandbox {
        sandbox::check_stack(sb, req.root, loaded.as_ref().ok(), &sources)
            .map_err(|d| config(d, &sources))?;
    }
    let module = loaded.map_err(|d| config(d, &sources))?;
    let confine = req.sandbox.as_ref().map(|sb| sb.root);
    let cli: Vec<CliVar> = req
        .variables
        .iter()
        .filter(|(k, _)| module.variables.contains_key(k))
        .map(|(k, v)| CliVar::Pair(k.clone(), v.clone()))
        .collect();
    let resolved = resolve_confined(&module, &mut sources, &cli, &[], None, confine);
    if let Some(sb) = &req.sandbox {
        // Variables files are read only now: one may be a symlink out.
        sandbox::check_files(sb, &sources).map_err(|d| config(d, &sources))?;
    }
    let variables = resolved.map_err(|d| config(d, &sources))?;

    let base = base_state_path(req.state_dir, Some(&module))?;
    if !workspace::exists(&base, req.workspace) {
        workspace::check_name(req.workspace).map_err(SessionError::Backend)?;
        workspace::create(&base, req.workspace)?;
    }
    let mut stack = Stack::new(
        module,
        sources.clone(),
        registry_with(req.aws_role.clone()),
        variables,
        req.workspace,
    )
    .map_err(|d| config(d, &sources))?;
    stack.confine_files = confine.map(Path::to_path_buf);
    let stack = Arc::new(stack);

    let destroy = req.operation == Operation::Destroy;
    let verb = match req.operation {
        Operation::Apply => "apply",
        Operation::Destroy => "destroy",
        Operation::Plan => "plan",
    };
    let lock = LockOptions {
        lock: true,
        timeout: req.lock_timeout,
    };
    let mut locked = open_state(
        req.state_dir,
        Some(&stack.module),
        req.workspace,
        verb,
        &lock,
    )
    .await?;
    if let Err(d) = configure_providers(&stack, &locked.state).await {
        return Err(config(d, &stack.sources).into());
    }
    let recovered = locked.recover(&stack).await?;
    locked.refuse_pending()?;

    let opts = PlanOptions {
        destroy,
        refresh: true,
        parallelism: req.parallelism,
        saved_or_json: false,
        ..PlanOptions::default()
    };
    let planned = crate::planning::make_plan(&stack, &mut locked.state, &opts, &Silent)
        .await
        .map_err(|d| config(d, &stack.sources))?;
    if req.operation == Operation::Plan || !planned.plan.has_changes() {
        let plan = (req.operation == Operation::Plan).then(|| {
            dumcel_planner::render::human_plan(
                &planned.plan,
                &dumcel_planner::render::RenderOptions { color: false },
            )
        });
        let state = locked.state.clone();
        release(locked).await;
        return Ok(Applied {
            added: 0,
            changed: 0,
            destroyed: 0,
            state,
            recovered,
            plan,
        });
    }
    let journal = locked.open_journal(verb)?;
    let apply_opts = ApplyOptions {
        parallelism: req.parallelism,
        destroy,
        ..ApplyOptions::default()
    };
    let (mut state, report) = apply(
        stack.clone(),
        planned,
        locked.state.clone(),
        Some(journal),
        Arc::new(Silent),
        &apply_opts,
    )
    .await;
    state.serial = locked.state.serial + 1;
    locked.persist(&state).await?;
    release(locked).await;
    if !report.failed.is_empty() {
        return Err(RunError::Failed {
            failed: report.failed,
            added: report.added,
            changed: report.changed,
            destroyed: report.destroyed,
        });
    }
    Ok(Applied {
        added: report.added,
        changed: report.changed,
        destroyed: report.destroyed,
        state,
        recovered,
        plan: None,
    })
}

/// Lets go of the remote lock now rather than in a task spawned on drop.
async fn release(mut locked: crate::Locked) {
    if let Some(lock) = locked.remote_lock.take() {
        lock.release().await;
    }
}
