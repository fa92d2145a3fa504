//! `dumcel taint ADDRESS` / `dumcel untaint ADDRESS`: mark a recorded
//! object to be replaced by the next apply, or take the mark back, as
//! Terraform's commands of those names do.

use anyhow::Result;

use crate::backends::open_state_of_config;
use crate::session::{LockFlags, report};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct TaintArgs {
    /// The resource instance, as `dumcel state list` shows it.
    pub address: String,
    /// Succeed without changing anything when the instance is not recorded.
    #[arg(long = "allow-missing")]
    pub allow_missing: bool,
    #[command(flatten)]
    pub lock: LockFlags,
}

/// Sets (`taint`) or clears the tainted mark of one recorded instance.
pub async fn run(ui: &Ui, args: TaintArgs, taint: bool) -> Result<u8> {
    let command = if taint { "taint" } else { "untaint" };
    let locked = open_state_of_config(ui, command, &args.lock).await?;
    locked.refuse_in_flight()?;
    let mut state = locked.state.clone();
    let address = args.address.trim();
    if address.starts_with("data.") || address.contains(".data.") {
        return Err(report(format!(
            "{address} is a data source; only managed resources can be {command}ed"
        )));
    }
    let Some(inst) = state.resources.get_mut(address) else {
        if args.allow_missing {
            println!("The resource {address} was not found, but -allow-missing is set.");
            return Ok(0);
        }
        return Err(report(format!(
            "No such resource instance: there is no resource instance in the state with the address {address}. `dumcel state list` shows what is recorded; if the resource was just added, run `dumcel apply` first."
        )));
    };
    if inst.tainted == taint {
        return Err(report(if taint {
            format!("{address} is already tainted")
        } else {
            format!(
                "Resource instance {address} is not currently tainted, and so it cannot be untainted."
            )
        }));
    }
    inst.tainted = taint;
    state.serial += 1;
    locked.persist(&state).await?;
    if taint {
        println!("Resource instance {address} has been marked as tainted.");
    } else {
        println!("Resource instance {address} has been successfully untainted.");
    }
    Ok(0)
}
