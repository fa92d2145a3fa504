//! `dumcel init`: check the stack loads and its backend is usable.

use anyhow::Result;

use crate::session::{backend, load_config, registry};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Accepted for Terraform compatibility; init never asks anything.
    #[arg(long = "input", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
}

pub async fn run(ui: &Ui, _args: InitArgs) -> Result<u8> {
    let (module, _sources) = load_config(ui)?;
    let backend = backend(Some(&module))?;
    println!(
        "Initializing the backend...\n  local state: {}",
        backend.path().display()
    );
    let reg = registry();
    println!("\nProviders built in: {}", reg.providers().join(", "));
    println!(
        "\n{}",
        ui.green("Dumcel has been successfully initialized!")
    );
    println!(
        "\nYou may now begin working with Dumcel. Try running \"dumcel plan\" to see\nany changes that are required for your infrastructure."
    );
    Ok(0)
}
