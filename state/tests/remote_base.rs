//! Replaying a journal onto a remote backend's state (`load_onto`): exact
//! when the journal extends that state, dropped when the remote already
//! holds its changes, refused, with nothing written, in every other case.

mod common;

use common::{NO_WAIT, backend, instance, state_with};
use dumcel_state::{Operation, Outcome, State, StateError};

/// A journal based on `base` recording one created instance, left as an
/// interrupted command leaves it.
fn interrupted_journal(backend: &dumcel_state::LocalBackend, base: &State) {
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend.open_journal(&lock, base, "apply").expect("journal");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let seq = journal
            .intent(
                "null_resource.new",
                "null_resource",
                "builtin",
                Operation::Create,
                None,
            )
            .await
            .expect("intent");
        journal
            .done(seq, "null_resource.new", &Outcome::Put(instance("new")))
            .expect("done");
        journal.sync().await.expect("sync");
    });
}

fn conflict(result: Result<dumcel_state::Loaded, StateError>) -> String {
    match result {
        Err(e @ StateError::JournalConflict { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_journal_extending_the_remote_state_is_replayed_onto_it() {
    let (_dir, backend) = backend();
    let mut remote = state_with(2);
    remote.serial = 4;
    interrupted_journal(&backend, &remote);
    let lock = backend.lock("plan", NO_WAIT).expect("lock");
    let loaded = backend
        .load_onto(&lock, Some(remote.clone()), "s3://b/k")
        .expect("replayed");
    let state = loaded.state.expect("a state");
    assert_eq!(loaded.replayed, 1);
    assert_eq!(state.lineage, remote.lineage);
    assert_eq!(state.resources.len(), 3);
    assert!(state.resources.contains_key("null_resource.new"));
}

#[test]
fn a_journal_the_remote_already_holds_is_dropped() {
    let (_dir, backend) = backend();
    let mut remote = state_with(1);
    remote.serial = 4;
    interrupted_journal(&backend, &remote);
    // The upload landed (serial 5, with the change); the journal's deletion did not.
    let mut uploaded = remote.clone();
    uploaded.serial = 5;
    uploaded
        .resources
        .insert("null_resource.new".into(), instance("new").into());
    let lock = backend.lock("plan", NO_WAIT).expect("lock");
    let loaded = backend
        .load_onto(&lock, Some(uploaded.clone()), "s3://b/k")
        .expect("dropped");
    assert_eq!(loaded.state, Some(uploaded));
    assert_eq!(loaded.replayed, 0);
    assert!(!backend.journal_path().exists());
}

#[test]
fn a_remote_state_that_moved_on_went_back_or_is_another_is_refused() {
    let (_dir, backend) = backend();
    let mut base = state_with(1);
    base.serial = 4;
    interrupted_journal(&backend, &base);
    let lock = backend.lock("plan", NO_WAIT).expect("lock");

    let mut moved_on = base.clone();
    moved_on.serial = 6;
    let message = conflict(backend.load_onto(&lock, Some(moved_on), "s3://b/k"));
    assert!(
        message.contains("moved on") && message.contains("null_resource.new"),
        "{message}"
    );

    let mut went_back = base.clone();
    went_back.serial = 2;
    let message = conflict(backend.load_onto(&lock, Some(went_back), "s3://b/k"));
    assert!(message.contains("rolled back or restored"), "{message}");

    let other = state_with(1);
    let message = conflict(backend.load_onto(&lock, Some(other), "s3://b/k"));
    assert!(message.contains("lineage"), "{message}");

    let message = conflict(backend.load_onto(&lock, None, "s3://b/k"));
    assert!(message.contains("missing"), "{message}");

    // Nothing was written: the journal is still there for a person to look at.
    assert!(backend.journal_path().exists());
}
