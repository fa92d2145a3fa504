//! `dumcel workspace new|select|list|show|delete`: one state per workspace.

use anyhow::Result;

use dumcel_session::LockOptions;
use dumcel_state::LocalBackend;

use crate::backends::base_state_path;
use crate::session::{lock_and_load, quiet_module, report};
use crate::ui::Ui;
use crate::workspaces::{self, DEFAULT};

#[derive(Debug, clap::Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace and select it.
    New { name: String },
    /// Select a workspace.
    Select {
        name: String,
        /// Create it when it does not exist.
        #[arg(long = "or-create")]
        or_create: bool,
    },
    /// List workspaces; the selected one is marked with *.
    List,
    /// Print the selected workspace.
    Show,
    /// Delete a workspace (refused while its state records resources, unless -force).
    Delete {
        name: String,
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(ui: &Ui, cmd: WorkspaceCommand) -> Result<u8> {
    let base = base_state_path(quiet_module().as_ref())?;
    let current = workspaces::current();
    match cmd {
        WorkspaceCommand::New { name } => {
            workspaces::check_name(&name).map_err(report)?;
            if workspaces::exists(&base, &name) {
                return Err(report(format!(
                    "workspace \"{name}\" already exists; select it with `dumcel workspace select {name}`"
                )));
            }
            workspaces::create(&base, &name).map_err(report)?;
            workspaces::select(&name)?;
            println!(
                "{}",
                ui.green(&format!("Created and switched to workspace \"{name}\"!"))
            );
            println!(
                "\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"dumcel plan\" Dumcel will not see any existing state\nfor this configuration."
            );
        }
        WorkspaceCommand::Select { name, or_create } => {
            if !workspaces::exists(&base, &name) {
                if !or_create {
                    return Err(report(format!(
                        "workspace \"{name}\" does not exist; create it with `dumcel workspace new {name}`"
                    )));
                }
                workspaces::check_name(&name).map_err(report)?;
                workspaces::create(&base, &name).map_err(report)?;
            }
            workspaces::select(&name)?;
            println!(
                "{}",
                ui.green(&format!("Switched to workspace \"{name}\"."))
            );
        }
        WorkspaceCommand::List => {
            for name in workspaces::list(&base) {
                let mark = if name == current { "*" } else { " " };
                println!("{mark} {name}");
            }
        }
        WorkspaceCommand::Show => println!("{current}"),
        WorkspaceCommand::Delete { name, force } => {
            if name == DEFAULT {
                return Err(report("the default workspace cannot be deleted"));
            }
            if name == current {
                return Err(report(format!(
                    "workspace \"{name}\" is selected; select another (`dumcel workspace select default`) before deleting it"
                )));
            }
            if !workspaces::exists(&base, &name) {
                return Err(report(format!("workspace \"{name}\" does not exist")));
            }
            let path = workspaces::state_path(&base, &name);
            let backend = LocalBackend::new(path.clone());
            let locked = lock_and_load(
                backend,
                "workspace delete",
                &LockOptions {
                    lock: true,
                    timeout: std::time::Duration::ZERO,
                },
            )
            .await
            .map_err(report)?;
            if !locked.state.resources.is_empty() && !force {
                return Err(report(format!(
                    "workspace \"{name}\" still records {} resource instance(s); destroy them first, or use -force to forget them",
                    locked.state.resources.len()
                )));
            }
            drop(locked);
            if let Some(dir) = path.parent() {
                std::fs::remove_dir_all(dir)
                    .map_err(|e| report(format!("removing {}: {e}", dir.display())))?;
            }
            println!("{}", ui.green(&format!("Deleted workspace \"{name}\"!")));
        }
    }
    Ok(0)
}
