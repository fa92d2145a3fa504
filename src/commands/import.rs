//! `dumcel import ADDRESS ID`: bring an existing object under management.

use anyhow::Result;

use dumcel_planner::{InstanceAddr, InstanceKey};
use dumcel_state::ResourceInstance;

use crate::session::{
    LockFlags, VarFlags, build_stack_and_open_state, load_config, prepare, report, variables,
};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub lock: LockFlags,
    /// Where to record it, like aws_ecr_repository.app or null_resource.a[0].
    pub address: String,
    /// The object's id, as its provider names it.
    pub id: String,
}

pub async fn run(ui: &Ui, args: ImportArgs) -> Result<u8> {
    let (module, mut sources) = load_config(ui)?;
    let vars = variables(ui, &module, &mut sources, &args.vars)?;
    let (stack, mut locked) =
        build_stack_and_open_state(ui, module, sources, vars, "import", &args.lock).await?;
    prepare(ui, &stack, &mut locked).await?;

    let addr: InstanceAddr = args.address.parse().map_err(report)?;
    let address = addr.to_string();
    let key = addr.resource.to_string();
    let Some(decl) = stack.module.resources.get(&key) else {
        return Err(report(format!(
            "{key} is not in the configuration; write its block first (resource \"{}\" \"{}\" {{ ... }}), then import into it",
            addr.resource.resource_type, addr.resource.name
        )));
    };
    let expanded = decl.count.is_some() || decl.for_each.is_some();
    if expanded == (addr.key == InstanceKey::None) {
        return Err(report(format!(
            "{address} does not match how {key} is declared: {}",
            if expanded {
                "it uses count or for_each, so give an index like [0] or [\"key\"]"
            } else {
                "it has no count or for_each, so give no index"
            }
        )));
    }
    if locked.state.resources.contains_key(&address) {
        return Err(report(format!(
            "{address} is already managed by dumcel; to import a different object there, `dumcel state rm {address}` first"
        )));
    }
    let Some(rt) = stack
        .resource_type_for(&key, &addr.resource.resource_type)
        .cloned()
    else {
        return Err(report(format!(
            "no provider offers {}",
            addr.resource.resource_type
        )));
    };
    println!("{address}: Importing from ID \"{}\"...", args.id);
    let imported = rt
        .import(&args.id)
        .await
        .map_err(|e| report(format!("{address}: {}", e.message)))?;
    let found = rt
        .read(&imported)
        .await
        .map_err(|e| report(format!("{address}: {}", e.message)))?
        .ok_or_else(|| {
            report(format!(
                "{address}: no object with id \"{}\" exists",
                args.id
            ))
        })?;
    let schema = rt.schema();
    let mut sensitive: Vec<String> = schema
        .attributes
        .iter()
        .filter(|(_, a)| a.sensitive)
        .map(|(k, _)| k.clone())
        .collect();
    sensitive.sort();
    locked.state.resources.insert(
        address.clone(),
        Box::new(ResourceInstance {
            resource_type: addr.resource.resource_type.clone(),
            provider: stack.recorded_provider(&key, &addr.resource.resource_type),
            attributes: found.to_json_lossy(),
            sensitive_attributes: sensitive,
            dependencies: stack.resource_deps(&key),
            tainted: false,
        }),
    );
    // An interrupted create of this address, pending, is settled by it.
    locked.state.pending.retain(|p| p.address != address);
    locked.state.serial += 1;
    locked.persist(&locked.state).await?;
    println!(
        "{address}: Import prepared!\n\n{}",
        ui.green("Import successful!")
    );
    println!(
        "\nThe resources that were imported are shown above. These resources are now in\nyour Dumcel state and will henceforth be managed by Dumcel."
    );
    Ok(0)
}
