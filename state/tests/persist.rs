//! The snapshot: atomic, private, backed up.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::{NO_WAIT, backend, state_with};
use dumcel_state::{State, StateError};

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn load_without_anything_is_none() {
    let (_dir, backend) = backend();
    let lock = backend.lock("plan", NO_WAIT).expect("lock");
    let loaded = backend.load(&lock).expect("load");
    assert_eq!(loaded.state, None);
    assert!(loaded.in_flight.is_empty());
    assert_eq!(loaded.replayed, 0);
}

#[test]
fn persist_is_private_backed_up_and_leaves_no_temp() {
    let (dir, backend) = backend();
    let mut state = state_with(2);
    state.serial = 1;
    {
        let lock = backend.lock("apply", NO_WAIT).expect("lock");
        backend.persist(&lock, &state).expect("first persist");
    }
    assert_eq!(mode(backend.path()), 0o600);
    assert!(!backend.backup_path().exists(), "nothing to back up yet");
    let first_bytes = fs::read(backend.path()).expect("read");

    let mut next = state.clone();
    next.serial = 2;
    next.resources.remove("null_resource.r[0]");
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &next).expect("second persist");

    assert_eq!(mode(backend.path()), 0o600);
    assert_eq!(mode(&backend.backup_path()), 0o600);
    assert_eq!(
        fs::read(backend.backup_path()).expect("backup"),
        first_bytes
    );

    let loaded = backend.load(&lock).expect("load").state.expect("state");
    assert_eq!(loaded, next);
    assert_eq!(loaded.serial, 2);
    assert_eq!(loaded.lineage, state.lineage);

    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn backup_is_the_state_before_the_command() {
    let (_dir, backend) = backend();
    let mut state = State::new();
    {
        let lock = backend.lock("apply", NO_WAIT).expect("lock");
        backend.persist(&lock, &state).expect("persist");
    }
    let before = fs::read(backend.path()).expect("read");

    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    for serial in 1..=3 {
        state.serial = serial;
        backend.persist(&lock, &state).expect("persist");
    }
    assert_eq!(fs::read(backend.backup_path()).expect("backup"), before);
}

#[test]
fn persist_creates_nothing_world_readable_even_with_an_existing_loose_file() {
    let (_dir, backend) = backend();
    fs::write(backend.path(), State::new().to_json_pretty()).expect("write");
    fs::set_permissions(backend.path(), fs::Permissions::from_mode(0o644)).expect("chmod");
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &State::new()).expect("persist");
    assert_eq!(mode(backend.path()), 0o600);
    assert_eq!(mode(&backend.backup_path()), 0o600);
}

#[test]
fn corrupt_snapshot_names_file_and_backup() {
    let (_dir, backend) = backend();
    fs::write(backend.path(), b"{\"version\":1,").expect("write");
    let lock = backend.lock("plan", NO_WAIT).expect("lock");
    let err = backend.load(&lock).unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }));
    let msg = err.to_string();
    assert!(msg.contains(&backend.path().display().to_string()), "{msg}");
    assert!(msg.contains("dumcel.tfstate.backup"), "{msg}");
}

#[test]
fn lock_creates_missing_state_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = dumcel_state::LocalBackend::new(dir.path().join("a/b/dumcel.tfstate"));
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &State::new()).expect("persist");
    assert!(backend.path().exists());
    assert_eq!(mode(&backend.lock_path()), 0o600);
}
