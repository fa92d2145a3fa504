//! A real Terraform beside dumcel: the 1.0.3 that dev/install-terraform.sh
//! installs (with the null provider in a local mirror), and the Terraform
//! 1.11 at /usr/local/bin/terraform when the machine has it.

use std::path::Path;
use std::process::{Command, Output};

/// The Terraform 1.0.3 dev/install-terraform.sh installs (dev/test.sh
/// exports its path).
pub fn terraform_103() -> String {
    std::env::var("DUMCEL_TERRAFORM_103").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/dumcel/bin/terraform")
    })
}

/// Terraform 1.11, when the machine has it.
pub fn terraform_111() -> Option<&'static str> {
    let bin = "/usr/local/bin/terraform";
    Path::new(bin).exists().then_some(bin)
}

/// The newest Terraform at hand.
pub fn newest() -> String {
    terraform_111().map_or_else(terraform_103, str::to_owned)
}

/// The CLI configuration that points Terraform at the local provider mirror.
pub fn terraform_rc() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    std::env::var("DUMCEL_CACHE")
        .map(|c| format!("{c}/terraformrc"))
        .unwrap_or_else(|_| format!("{home}/.cache/dumcel/terraformrc"))
}

/// Only Terraform reads this: the null provider comes from the local mirror
/// under a made-up host (see dev/install-terraform.sh).
pub const NULL_FROM_MIRROR: &str = "terraform {\n  required_providers {\n    null = {\n      source = \"dumcel.local/hashicorp/null\"\n    }\n  }\n}\n";

/// Runs Terraform in `dir`; panics with its output when it fails.
pub fn run(bin: &str, dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", terraform_rc())
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap_or_else(|e| {
            panic!("{bin} runs (bash dev/install-terraform.sh installs 1.0.3): {e}")
        });
    assert!(
        out.status.success(),
        "terraform {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
