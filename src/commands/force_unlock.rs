//! `dumcel force-unlock ID`: clear a lock left by a process that died.

use anyhow::Result;

use crate::session::{backend_quiet, report};
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
    let backend = backend_quiet()?;
    backend.force_unlock(&args.id).map_err(report)?;
    println!(
        "{}",
        ui.green("Dumcel state has been successfully unlocked!")
    );
    Ok(0)
}
