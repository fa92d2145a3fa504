//! `dumcel version`.

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: VersionArgs) -> Result<u8> {
    let version = env!("CARGO_PKG_VERSION");
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "dumcel_version": version, "platform": format!("{}_{}", std::env::consts::OS, std::env::consts::ARCH) })
        );
    } else {
        println!(
            "Dumcel v{version}\non {}_{}",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
    }
    Ok(0)
}
