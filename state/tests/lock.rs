//! The state lock: OS-level, exclusive, named in messages.

mod common;

use std::time::{Duration, Instant};

use common::{NO_WAIT, backend};
use dumcel_state::{LocalBackend, StateError};

#[test]
fn second_lock_fails_fast_and_names_the_holder() {
    let (_dir, first) = backend();
    let held = first.lock("apply", NO_WAIT).expect("first lock");
    let info = held.info().clone();
    assert_eq!(info.pid, std::process::id());
    assert_eq!(info.operation, "apply");
    assert!(info.who.contains('@'), "{}", info.who);
    assert!(
        humantime::parse_rfc3339(&info.created).is_ok(),
        "{}",
        info.created
    );

    // A separate backend value on the same path: a separate open file, so
    // the OS lock conflicts as it would across processes.
    let second = LocalBackend::new(first.path());
    let started = Instant::now();
    let err = second.lock("plan", NO_WAIT).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    match &err {
        StateError::Locked {
            info: Some(got), ..
        } => assert_eq!(**got, info),
        other => panic!("expected Locked with info, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&format!("pid {}", info.pid)), "{msg}");
    assert!(msg.contains("\"apply\""), "{msg}");
    assert!(msg.contains(&info.id), "{msg}");
    assert!(msg.contains("force-unlock"), "{msg}");
    assert_eq!(second.read_lock_info(), Some(info));
}

#[test]
fn lock_with_timeout_waits_for_release() {
    let (_dir, first) = backend();
    let held = first.lock("apply", NO_WAIT).expect("first lock");
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(held);
    });
    let second = LocalBackend::new(first.path());
    let started = Instant::now();
    let lock = second
        .lock("plan", Duration::from_secs(10))
        .expect("lock after release");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(lock.info().operation, "plan");
    releaser.join().expect("releaser");
    assert_eq!(
        second.read_lock_info().map(|i| i.operation),
        Some("plan".into())
    );
}

#[test]
fn lock_timeout_expires() {
    let (_dir, first) = backend();
    let _held = first.lock("apply", NO_WAIT).expect("first lock");
    let started = Instant::now();
    let err = LocalBackend::new(first.path())
        .lock("plan", Duration::from_millis(300))
        .unwrap_err();
    assert!(matches!(err, StateError::Locked { .. }));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(3));
}

#[test]
fn release_clears_holder_info() {
    let (_dir, backend) = backend();
    drop(backend.lock("apply", NO_WAIT).expect("lock"));
    assert_eq!(backend.read_lock_info(), None);
    assert!(
        backend.lock_path().exists(),
        "the lock file is never deleted"
    );
}

#[test]
fn force_unlock_cannot_break_a_live_lock() {
    let (_dir, backend) = backend();
    let held = backend.lock("apply", NO_WAIT).expect("lock");
    let err = backend.force_unlock(&held.info().id).unwrap_err();
    match &err {
        StateError::LockHeldByLiveProcess {
            info: Some(info), ..
        } => {
            assert_eq!(&**info, held.info())
        }
        other => panic!("expected LockHeldByLiveProcess, got {other:?}"),
    }
    assert!(err.to_string().contains("stop that process"), "{err}");
}

#[test]
fn force_unlock_clears_a_dead_holders_record() {
    let (_dir, backend) = backend();
    // A holder that died leaves its record but no OS lock.
    let stale = dumcel_state::LockInfo::new("apply");
    std::fs::write(
        backend.lock_path(),
        serde_json::to_vec(&stale).expect("encode"),
    )
    .expect("write");

    let err = backend.force_unlock("not-the-id").unwrap_err();
    assert!(matches!(err, StateError::LockIdMismatch { .. }), "{err:?}");
    assert_eq!(backend.read_lock_info(), Some(stale.clone()));

    backend.force_unlock(&stale.id).expect("force-unlock");
    assert_eq!(backend.read_lock_info(), None);
    // No lock file at all, or no record: nothing to do.
    backend.force_unlock("anything").expect("idempotent");
    let (_dir2, fresh) = common::backend();
    fresh.force_unlock("anything").expect("no lock file");
}

#[test]
fn stale_record_does_not_block_locking() {
    let (_dir, backend) = backend();
    let stale = dumcel_state::LockInfo::new("apply");
    std::fs::write(
        backend.lock_path(),
        serde_json::to_vec(&stale).expect("encode"),
    )
    .expect("write");
    let lock = backend.lock("plan", NO_WAIT).expect("OS lock is free");
    assert_ne!(lock.info().id, stale.id);
}
