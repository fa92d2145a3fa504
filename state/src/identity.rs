//! `user@host` for lock messages, found without libc: environment variables
//! and the kernel's hostname file are enough and cannot fail hard.

use std::fs;

/// `user@host`, with `unknown` for any part that cannot be found.
pub(crate) fn who() -> String {
    format!("{}@{}", user(), host())
}

fn user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        // Services and containers often run without $USER.
        .or_else(user_from_uid)
        .unwrap_or_else(|| "unknown".to_string())
}

/// The real uid (from /proc) looked up in /etc/passwd.
fn user_from_uid() -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

pub(crate) fn host() -> String {
    // The kernel's value first: /etc/hostname may be stale in containers.
    let from_files = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok());
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok());
    from_files
        .chain(from_env)
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// This boot of this machine: a pid means the same process only within one boot.
pub(crate) fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// When process `pid` started, in clock ticks since boot (field 22 of
/// `/proc/PID/stat`); `None` when no such process runs. Together with the
/// pid it names one process: a pid reused later has another start time.
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: the
    // fields after it start after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    // `after_name` starts at field 3, so field 22 is its 20th.
    after_name.split_whitespace().nth(19)?.parse().ok()
}
