//! `dumcel force-unlock ID`: clear a lock left by a process that died.

use anyhow::Result;

use crate::backends::{backend, remote};
use crate::session::{quiet_module, report};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct ForceUnlockArgs {
    /// The lock ID from the "state is locked" message.
    pub id: String,
    /// Accepted for Terraform compatibility: dumcel never asks here.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ui: &Ui, args: ForceUnlockArgs) -> Result<u8> {
    let module = quiet_module();
    match remote(module.as_ref()).await? {
        Some(remote) => remote.force_unlock(&args.id).await.map_err(report)?,
        None => backend(module.as_ref())?
            .force_unlock(&args.id)
            .map_err(report)?,
    }
    println!(
        "{}",
        ui.green("Dumcel state has been successfully unlocked!")
    );
    Ok(0)
}
