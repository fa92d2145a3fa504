//! What the engine reports while it works; the CLI prints it.

use std::time::Duration;

use dumcel_planner::Action;

pub trait Hooks: Send + Sync {
    fn refreshing(&self, _address: &str, _id: Option<&str>) {}
    fn applying(&self, _address: &str, _action: Action) {}
    fn still_applying(&self, _address: &str, _action: Action, _elapsed: Duration) {}
    fn applied(&self, _address: &str, _action: Action, _elapsed: Duration, _id: Option<&str>) {}
    fn failed(&self, _address: &str, _action: Action, _elapsed: Duration, _message: &str) {}
    /// A line a provider reported while working on `address` (build output, rollout state).
    fn progress(&self, _address: &str, _line: &str) {}
    fn warning(&self, _message: &str) {}
}

/// Reports nothing (library use, tests).
pub struct Silent;

impl Hooks for Silent {}
