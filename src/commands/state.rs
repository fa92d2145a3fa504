//! `dumcel state list|show|rm|mv|pull|push|import-terraform`: inspect and
//! edit the recorded world.

use std::path::PathBuf;

use anyhow::Result;

use dumcel_engine::plan::state_value;
use dumcel_engine::provider::ProviderRef;
use dumcel_planner::{InstanceAddr, render};
use dumcel_state::State;

use crate::backends::open_state_of_config;
use crate::session::{LockFlags, report};
use crate::ui::Ui;

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// List recorded resource instances (optionally only those matching ADDRESS prefixes).
    List { addresses: Vec<String> },
    /// Show one recorded instance's attributes.
    Show { address: String },
    /// Forget instances without destroying them.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockFlags,
    },
    /// Record an instance (or every instance of a resource) under a new address.
    Mv {
        source: String,
        destination: String,
        #[command(flatten)]
        lock: LockFlags,
    },
    /// Take over a state Terraform wrote (format version 4), replacing an
    /// empty state: every instance keeps its attributes and address.
    #[command(name = "import-terraform")]
    ImportTerraform {
        /// The Terraform state file (`terraform.tfstate`, or `terraform state pull > FILE`).
        path: PathBuf,
        #[command(flatten)]
        lock: LockFlags,
    },
    /// Print the raw state JSON.
    Pull,
    /// Replace the state with a file's (refused when it is older or of another lineage, unless -force).
    Push {
        path: PathBuf,
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockFlags,
    },
}

/// Matches an address or a resource prefix: `null_resource.a` matches `null_resource.a[0]`.
fn matches(address: &str, pattern: &str) -> bool {
    address == pattern
        || address
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
}

pub async fn run(ui: &Ui, cmd: StateCommand) -> Result<u8> {
    match cmd {
        StateCommand::List { addresses } => {
            let state = open_state_of_config(ui, "state list", &LockFlags::none())
                .await?
                .state;
            let mut listed: Vec<&String> = state
                .resources
                .keys()
                .filter(|a| addresses.is_empty() || addresses.iter().any(|p| matches(a, p)))
                .collect();
            listed.sort_by_key(|a| natural_key(a));
            for a in listed {
                println!("{a}");
            }
        }
        StateCommand::Show { address } => {
            let state = open_state_of_config(ui, "state show", &LockFlags::none())
                .await?
                .state;
            let Some(inst) = state.resources.get(&address) else {
                return Err(report(format!(
                    "no instance {address} in the state; `dumcel state list` shows what is recorded"
                )));
            };
            print!(
                "{}",
                render::human_resource(
                    &address,
                    &inst.resource_type,
                    &state_value(inst),
                    &ui.render_options()
                )
            );
        }
        StateCommand::Rm { addresses, lock } => {
            let locked = open_state_of_config(ui, "state rm", &lock).await?;
            locked.refuse_in_flight()?;
            let mut state = locked.state.clone();
            let doomed: Vec<String> = state
                .resources
                .keys()
                .filter(|a| addresses.iter().any(|p| matches(a, p)))
                .cloned()
                .collect();
            // An operation left pending is settled by saying it made nothing.
            let settled = state.pending.len();
            state
                .pending
                .retain(|p| !addresses.iter().any(|a| matches(&p.address, a)));
            let settled = settled - state.pending.len();
            if settled > 0 {
                println!("Settled {settled} pending operation(s): recorded as never made");
            }
            if doomed.is_empty() && settled > 0 {
                state.serial += 1;
                locked.persist(&state).await?;
                return Ok(0);
            }
            if doomed.is_empty() {
                return Err(report(format!(
                    "no instance matches {}; `dumcel state list` shows what is recorded",
                    addresses.join(", ")
                )));
            }
            for a in &doomed {
                state.resources.remove(a);
                println!("Removed {a}");
            }
            state.serial += 1;
            locked.persist(&state).await?;
            println!(
                "Successfully removed {} resource instance(s).",
                doomed.len()
            );
        }
        StateCommand::Mv {
            source,
            destination,
            lock,
        } => {
            let locked = open_state_of_config(ui, "state mv", &lock).await?;
            locked.refuse_in_flight()?;
            let mut state = locked.state.clone();
            let moves = plan_moves(&state, &source, &destination)?;
            for (from, to) in &moves {
                if let Some(inst) = state.resources.remove(from) {
                    state.resources.insert(to.clone(), inst);
                }
                println!("Move \"{from}\" to \"{to}\"");
            }
            state.serial += 1;
            locked.persist(&state).await?;
            println!("Successfully moved {} object(s).", moves.len());
        }
        StateCommand::ImportTerraform { path, lock } => {
            take_over_terraform_state(ui, &path, &lock).await?;
        }
        StateCommand::Pull => {
            let state = open_state_of_config(ui, "state pull", &LockFlags::none())
                .await?
                .state;
            println!("{}", String::from_utf8_lossy(&state.to_json_pretty()));
        }
        StateCommand::Push { path, force, lock } => {
            let bytes = std::fs::read(&path)
                .map_err(|e| report(format!("reading {}: {e}", path.display())))?;
            let mut incoming =
                State::from_json(&bytes).map_err(|e| report(format!("{}: {e}", path.display())))?;
            let locked = open_state_of_config(ui, "state push", &lock).await?;
            locked.refuse_in_flight()?;
            let current = &locked.state;
            let fresh = current.resources.is_empty() && current.serial == 0;
            if !force && !fresh {
                if incoming.lineage != current.lineage {
                    return Err(report(format!(
                        "cannot push: the file's lineage {} differs from the state's {}; it belongs to another state. Use -force only if you are sure.",
                        incoming.lineage, current.lineage
                    )));
                }
                if incoming.serial < current.serial {
                    return Err(report(format!(
                        "cannot push: the file's serial {} is older than the state's {}; pull, merge and push again, or use -force.",
                        incoming.serial, current.serial
                    )));
                }
            }
            incoming.serial = incoming.serial.max(current.serial + 1);
            locked.persist(&incoming).await?;
            println!(
                "Pushed {} to the state (serial {}).",
                path.display(),
                incoming.serial
            );
        }
    }
    Ok(0)
}

/// Takes over the Terraform state at `path` into the stack's state, which
/// must record nothing yet (`state import-terraform`, `init -migrate-state`).
pub async fn take_over_terraform_state(
    ui: &Ui,
    path: &std::path::Path,
    lock: &LockFlags,
) -> Result<()> {
    let bytes =
        std::fs::read(path).map_err(|e| report(format!("reading {}: {e}", path.display())))?;
    let registry = crate::session::registry();
    let provider_for = |kind: &str, recorded: &str| -> Option<String> {
        let name = registry.provider_of(kind)?;
        let alias = ProviderRef::parse_recorded(recorded).and_then(|p| p.alias);
        Some(registry.recorded(&ProviderRef::new(name, alias)))
    };
    let mut incoming = dumcel_state::from_terraform(&bytes, &provider_for)
        .map_err(|e| report(format!("{}: {e}", path.display())))?;
    let locked = open_state_of_config(ui, "state import-terraform", lock).await?;
    locked.refuse_in_flight()?;
    let current = &locked.state;
    if !current.resources.is_empty() {
        return Err(report(format!(
            "the state already records {} resource instance(s); import a Terraform state only into an empty one (a new workspace, or after `dumcel state rm`)",
            current.resources.len()
        )));
    }
    incoming.serial = incoming.serial.max(current.serial) + 1;
    locked.persist(&incoming).await?;
    println!(
        "Took over {} resource instance(s) and {} output(s) from {} (lineage {}).",
        incoming.resources.len(),
        incoming.outputs.len(),
        path.display(),
        incoming.lineage
    );
    Ok(())
}

/// (from, to) address pairs for `state mv`: one instance, or every instance of a resource.
fn plan_moves(state: &State, source: &str, destination: &str) -> Result<Vec<(String, String)>> {
    let src: InstanceAddr = source.parse().map_err(report)?;
    let dst: InstanceAddr = destination.parse().map_err(report)?;
    if src.resource.resource_type != dst.resource.resource_type {
        return Err(report(format!(
            "cannot move {source} to {destination}: the resource types differ ({} vs {})",
            src.resource.resource_type, dst.resource.resource_type
        )));
    }
    let moves: Vec<(String, String)> = if state.resources.contains_key(source) {
        vec![(source.to_owned(), destination.to_owned())]
    } else if src.key == dumcel_planner::InstanceKey::None
        && dst.key == dumcel_planner::InstanceKey::None
    {
        // A whole resource: every instance keeps its key.
        state
            .resources
            .keys()
            .filter(|a| matches(a, source))
            .map(|a| (a.clone(), format!("{destination}{}", &a[source.len()..])))
            .collect()
    } else {
        Vec::new()
    };
    if moves.is_empty() {
        return Err(report(format!(
            "no instance {source} in the state; `dumcel state list` shows what is recorded"
        )));
    }
    for (_, to) in &moves {
        if state.resources.contains_key(to) {
            return Err(report(format!(
                "cannot move to {to}: something is already recorded there; remove it first with `dumcel state rm`"
            )));
        }
    }
    Ok(moves)
}

/// Sorts `a[2]` before `a[10]`.
fn natural_key(address: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in address.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}
