//! The selected workspace, remembered in `.dumcel/environment`;
//! `DUMCEL_WORKSPACE` overrides it for one command. Where each workspace keeps
//! its state is dumcel-session's business.

pub use dumcel_session::workspace::{DEFAULT, check_name, create, exists, list, state_path};

const SELECTED: &str = ".dumcel/environment";

/// The workspace commands act on.
pub fn current() -> String {
    if let Ok(name) = std::env::var("DUMCEL_WORKSPACE")
        && !name.is_empty()
    {
        return name;
    }
    std::fs::read_to_string(SELECTED)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT.to_owned())
}

pub fn select(name: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(".dumcel")?;
    std::fs::write(SELECTED, format!("{name}\n"))
}
