//! One file per command.

pub mod apply;
pub mod console;
pub mod fmt;
pub mod force_unlock;
pub mod graph;
pub mod import;
pub mod init;
pub mod output;
pub mod plan;
pub mod planning;
pub mod refresh_only;
pub mod show;
pub mod state;
pub mod taint;
pub mod validate;
pub mod version;
pub mod workspace;
