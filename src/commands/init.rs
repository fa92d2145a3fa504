//! `dumcel init`: install the modules the stack calls from git (into
//! .dumcel/modules), check the stack loads and its backend is usable; with
//! `-migrate-state`, take over a Terraform state left beside the stack and
//! copy local state into a newly configured S3 backend.

use std::path::{Path, PathBuf};

use anyhow::Result;

use dumcel_state::State;

use crate::backend_settings;
use crate::backends::{BackendConfig, backend_config, open_state};
use crate::session::{LockFlags, load_config, registry, report};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Accepted for Terraform compatibility; init never asks anything.
    #[arg(long = "input", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
    /// Copy the local state (dumcel.tfstate) into the configured S3 backend;
    /// take over a Terraform state (terraform.tfstate) found beside the stack.
    #[arg(long = "migrate-state")]
    pub migrate_state: bool,
    /// With -migrate-state: replace state the S3 backend already holds.
    #[arg(long = "force-copy")]
    pub force_copy: bool,
    /// Backend settings the stack's backend block leaves out: KEY=VALUE, or
    /// the path of a file of `key = "value"` lines (repeatable; kept for
    /// later commands in .dumcel/backend-config.json).
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,
    /// Forget the backend settings a previous init kept.
    #[arg(long)]
    pub reconfigure: bool,
    /// Fetch every git module again, even those already installed from the
    /// same source (a branch may have moved).
    #[arg(long)]
    pub upgrade: bool,
    #[command(flatten)]
    pub lock: LockFlags,
}

pub async fn run(ui: &Ui, args: InitArgs) -> Result<u8> {
    if args.reconfigure {
        backend_settings::forget()?;
    }
    // Before loading: the loader needs the git modules installed.
    crate::modules_install::install(ui, args.upgrade)?;
    let (mut module, _sources) = load_config(ui)?;
    let given = backend_settings::from_args(&args.backend_config)?;
    if !given.is_empty() {
        let Some(kind) = module.backend.as_ref().map(|b| b.kind.clone()) else {
            return Err(report(
                "-backend-config needs a backend block to complete: add terraform { backend \"s3\" {} } to the stack",
            ));
        };
        let mut saved = backend_settings::load()?
            .filter(|s| s.kind == kind)
            .unwrap_or_default();
        saved.kind = kind;
        saved.config.extend(given);
        backend_settings::save(&saved)?;
        backend_settings::merge_into(&mut module, &saved);
    }
    println!("Initializing the backend...");
    let terraform_state = Path::new(TERRAFORM_STATE_FILE);
    if args.migrate_state && terraform_state.is_file() {
        // Terraform's local backend: its state is taken over, converted.
        super::state::take_over_terraform_state(ui, terraform_state, &args.lock).await?;
    }
    match backend_config(Some(&module))? {
        BackendConfig::Local(path) => println!("  local state: {}", path.display()),
        BackendConfig::S3(settings) => {
            let table = settings
                .dynamodb_table
                .clone()
                .unwrap_or_else(|| "none: no locking".into());
            println!(
                "  s3://{}/{} (lock table: {table})",
                settings.bucket, settings.key
            );
            migrate(&module, &args).await?;
        }
    }
    println!(
        "\nProviders built in: {}",
        registry().providers().join(", ")
    );
    println!(
        "\n{}",
        ui.green("Dumcel has been successfully initialized!")
    );
    println!(
        "\nYou may now begin working with Dumcel. Try running \"dumcel plan\" to see\nany changes that are required for your infrastructure."
    );
    Ok(0)
}

/// Where Terraform's local backend keeps its state.
const TERRAFORM_STATE_FILE: &str = "terraform.tfstate";

/// Local state left from before the S3 backend was configured goes to S3 with
/// `-migrate-state`; without it, init stops rather than hide it.
async fn migrate(module: &dumcel_engine::config::Module, args: &InitArgs) -> Result<()> {
    let local_path = PathBuf::from(dumcel_state::DEFAULT_STATE_FILE);
    let local = match std::fs::read(&local_path) {
        Ok(bytes) => Some(
            State::from_json(&bytes)
                .map_err(|e| report(format!("{}: {e}", local_path.display())))?,
        ),
        Err(_) => None,
    };
    let Some(local) = local.filter(|s| !s.resources.is_empty() || !s.outputs.is_empty()) else {
        return Ok(());
    };
    if !args.migrate_state {
        return Err(report(format!(
            "{} holds {} resource instance(s), but the stack now uses the S3 backend; run `dumcel init -migrate-state` to copy them there",
            local_path.display(),
            local.resources.len()
        )));
    }
    let locked = open_state(Some(module), "init -migrate-state", &args.lock).await?;
    let remote_holds_state = locked.state.serial > 0 || !locked.state.resources.is_empty();
    if remote_holds_state && !args.force_copy {
        return Err(report(format!(
            "the S3 backend already holds state (serial {}, {} resource instance(s)); refusing to overwrite it. Use -force-copy to replace it with the local state",
            locked.state.serial,
            locked.state.resources.len()
        )));
    }
    let mut migrated = local;
    migrated.serial = migrated.serial.max(locked.state.serial) + 1;
    locked.persist(&migrated).await?;
    // Moved aside, not deleted: it stays as a backup, and the next init does
    // not mistake it for state still waiting to be migrated.
    let backup = local_path.with_extension("tfstate.migrated");
    std::fs::rename(&local_path, &backup).map_err(|e| {
        report(format!(
            "the state is in S3 now, but {} could not be renamed to {}: {e}; move it away by hand",
            local_path.display(),
            backup.display()
        ))
    })?;
    println!(
        "\nSuccessfully migrated {} resource instance(s) from {} to the S3 backend.\nThe local file is kept as {} (a backup; no longer used).",
        migrated.resources.len(),
        local_path.display(),
        backup.display()
    );
    Ok(())
}
