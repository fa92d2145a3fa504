//! The journal: group commit, replay after a simulated crash, damage rules.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;

use common::{NO_WAIT, backend, instance, state_with};
use dumcel_state::{
    Journal, LocalBackend, Operation, Outcome, ResourceInstance, State, StateError,
};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Persist `base`, then record some changes and "crash": the journal and
/// lock are dropped without persisting. Returns the expected state.
fn crash_mid_apply(backend: &LocalBackend, base: &State) -> State {
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, base).expect("persist base");
    let journal = backend.open_journal(&lock, base, "apply").expect("journal");
    let mut expected = base.clone();
    runtime().block_on(async {
        let a = journal
            .intent(
                "null_resource.new",
                "null_resource",
                "builtin",
                Operation::Create,
                Some(json!({"triggers": {}})),
            )
            .await
            .expect("intent");
        journal
            .done(a, "null_resource.new", &Outcome::Put(instance("new")))
            .expect("done");
        expected
            .resources
            .insert("null_resource.new".into(), instance("new").into());

        let b = journal
            .intent(
                "null_resource.r[0]",
                "null_resource",
                "builtin",
                Operation::Delete,
                None,
            )
            .await
            .expect("intent");
        journal
            .done(b, "null_resource.r[0]", &Outcome::Remove)
            .expect("done");
        expected.resources.remove("null_resource.r[0]");

        let c = journal
            .intent(
                "null_resource.r[1]",
                "null_resource",
                "builtin",
                Operation::Update,
                None,
            )
            .await
            .expect("intent");
        let mut updated = instance("1");
        updated.attributes = json!({"id": "1", "updated": true});
        journal
            .done(c, "null_resource.r[1]", &Outcome::Put(updated.clone()))
            .expect("done");
        expected
            .resources
            .insert("null_resource.r[1]".into(), updated.into());
    });
    drop(journal); // flushes: the writer thread ends after its last fsync
    let lines = fs::read_to_string(backend.journal_path()).expect("read");
    assert_eq!(lines.lines().count(), 7, "header + 3 intents + 3 dones");
    drop(lock);
    expected.serial = base.serial + 1;
    expected
}

#[test]
fn replay_after_crash() {
    let (_dir, backend) = backend();
    let mut base = state_with(3);
    base.serial = 5;
    let expected = crash_mid_apply(&backend, &base);

    let lock = backend.lock("apply", NO_WAIT).expect("relock");
    let loaded = backend.load(&lock).expect("load");
    assert_eq!(loaded.replayed, 3);
    assert!(loaded.in_flight.is_empty());
    assert_eq!(loaded.state, Some(expected.clone()));

    // Folding: persist removes the journal; the next load is plain.
    backend.persist(&lock, &expected).expect("persist");
    assert!(!backend.journal_path().exists());
    let again = backend.load(&lock).expect("load");
    assert_eq!((again.replayed, again.state), (0, Some(expected)));
}

#[test]
fn replay_without_snapshot_starts_from_the_journal_lineage() {
    let (_dir, backend) = backend();
    let base = State::new();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend
        .open_journal(&lock, &base, "apply")
        .expect("journal");
    runtime().block_on(async {
        let seq = journal
            .intent(
                "null_resource.a",
                "null_resource",
                "builtin",
                Operation::Create,
                None,
            )
            .await
            .expect("intent");
        journal
            .done(seq, "null_resource.a", &Outcome::Put(instance("a")))
            .expect("done");
        journal.sync().await.expect("sync");
    });
    drop(journal);
    let loaded = backend.load(&lock).expect("load");
    let state = loaded.state.expect("state from journal");
    assert_eq!(state.lineage, base.lineage);
    assert_eq!(state.serial, 1);
    assert_eq!(state.resources.len(), 1);
}

#[test]
fn intent_without_done_is_in_flight() {
    let (_dir, backend) = backend();
    let base = state_with(1);
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &base).expect("persist");
    let journal = backend
        .open_journal(&lock, &base, "apply")
        .expect("journal");
    let planned = json!({"triggers": {"a": "b"}});
    let seq = runtime().block_on(async {
        let done = journal
            .intent(
                "null_resource.ok",
                "null_resource",
                "builtin",
                Operation::Create,
                None,
            )
            .await
            .expect("intent");
        journal
            .done(done, "null_resource.ok", &Outcome::Put(instance("ok")))
            .expect("done");
        // Durable intent, then "kill -9" before the provider returns.
        journal
            .intent(
                "null_resource.cut",
                "null_resource",
                "builtin",
                Operation::Replace,
                Some(planned.clone()),
            )
            .await
            .expect("intent")
    });
    drop(journal);
    let loaded = backend.load(&lock).expect("load");
    assert_eq!(loaded.replayed, 1);
    assert_eq!(loaded.in_flight.len(), 1);
    let flight = &loaded.in_flight[0];
    assert_eq!(flight.seq, seq);
    assert_eq!(flight.address, "null_resource.cut");
    assert_eq!(flight.operation, Operation::Replace);
    assert_eq!(flight.planned, Some(planned));
    assert_eq!(
        (flight.resource_type.as_str(), flight.provider.as_str()),
        ("null_resource", "builtin")
    );
    let state = loaded.state.expect("state");
    assert!(state.resources.contains_key("null_resource.ok"));
    assert!(!state.resources.contains_key("null_resource.cut"));
}

#[test]
fn torn_last_line_is_ignored() {
    let (_dir, backend) = backend();
    let base = state_with(1);
    let expected = crash_mid_apply(&backend, &base);
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(backend.journal_path())
        .expect("open");
    file.write_all(br#"{"t":"done","seq":9,"address":"null_resource.tor"#)
        .expect("append");
    drop(file);

    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let loaded = backend.load(&lock).expect("torn tail tolerated");
    assert_eq!(loaded.replayed, 3);
    assert_eq!(loaded.state, Some(expected));
}

#[test]
fn zero_filled_tail_is_ignored() {
    let (_dir, backend) = backend();
    let expected = crash_mid_apply(&backend, &state_with(1));
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(backend.journal_path())
        .expect("open");
    file.write_all(&[0u8; 64]).expect("append");
    file.write_all(b"\n").expect("append");
    drop(file);
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    assert_eq!(backend.load(&lock).expect("load").state, Some(expected));
}

#[test]
fn corruption_in_the_middle_is_an_error() {
    let (_dir, backend) = backend();
    crash_mid_apply(&backend, &state_with(1));
    let text = fs::read_to_string(backend.journal_path()).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"t\":\"done\",garbage";
    fs::write(backend.journal_path(), lines.join("\n") + "\n").expect("write");

    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    match backend.load(&lock) {
        Err(StateError::CorruptJournal { line, path, .. }) => {
            assert_eq!(line, 3);
            assert_eq!(path, backend.journal_path());
        }
        other => panic!("expected CorruptJournal, got {other:?}"),
    }
}

#[test]
fn done_with_both_outcomes_is_corrupt() {
    let (_dir, backend) = backend();
    crash_mid_apply(&backend, &state_with(1));
    let mut text = fs::read_to_string(backend.journal_path()).expect("read");
    let bad = json!({"t": "done", "seq": 1, "address": "x", "put": instance("x"), "remove": true});
    text = text.replacen('\n', &format!("\n{bad}\n"), 1);
    fs::write(backend.journal_path(), text).expect("write");
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    assert!(matches!(
        backend.load(&lock),
        Err(StateError::CorruptJournal { line: 2, .. })
    ));
}

#[test]
fn stale_journal_is_ignored() {
    let (_dir, backend) = backend();
    let base = state_with(2);
    let replayed = crash_mid_apply(&backend, &base);

    // The snapshot got written (serial bumped) but the journal deletion was
    // lost: simulate by persisting a different state and restoring the
    // journal.
    let journal_bytes = fs::read(backend.journal_path()).expect("read");
    let mut folded = base.clone();
    folded.serial = base.serial + 1;
    folded
        .resources
        .insert("null_resource.later".into(), instance("later").into());
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &folded).expect("persist");
    fs::write(backend.journal_path(), journal_bytes).expect("restore journal");

    let loaded = backend.load(&lock).expect("load");
    assert_eq!(loaded.replayed, 0);
    assert_eq!(loaded.state, Some(folded));
    assert_ne!(loaded.state, Some(replayed));
}

#[test]
fn journal_of_another_lineage_is_ignored() {
    let (_dir, backend) = backend();
    let other = state_with(1);
    crash_mid_apply(&backend, &other);
    let journal_bytes = fs::read(backend.journal_path()).expect("read");
    let mine = state_with(1);
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &mine).expect("persist");
    fs::write(backend.journal_path(), journal_bytes).expect("restore journal");
    let loaded = backend.load(&lock).expect("load");
    assert_eq!((loaded.replayed, loaded.state), (0, Some(mine)));
}

#[test]
fn opening_a_journal_folds_the_previous_one() {
    let (_dir, backend) = backend();
    let expected = crash_mid_apply(&backend, &state_with(2));
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let recovered = backend.load(&lock).expect("load").state.expect("state");
    assert_eq!(recovered, expected);

    // No persist between recovery and the next journal: the recovered
    // records must not be lost when the new journal truncates the file.
    let journal = backend
        .open_journal(&lock, &recovered, "apply")
        .expect("journal");
    drop(journal);
    let on_disk = State::from_json(&fs::read(backend.path()).expect("read")).expect("parse");
    assert_eq!(on_disk, expected);
    let loaded = backend.load(&lock).expect("load");
    assert_eq!((loaded.replayed, loaded.state), (0, Some(expected)));
}

#[test]
fn journal_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let _journal = backend
        .open_journal(&lock, &State::new(), "apply")
        .expect("journal");
    let mode = fs::metadata(backend.journal_path())
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn journal_handles_are_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<dumcel_state::Journal>();
}

#[test]
fn concurrent_intents_share_fsyncs() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend
        .open_journal(&lock, &State::new(), "apply")
        .expect("journal");
    const TASKS: usize = 10;
    const PER_TASK: usize = 100;
    runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..TASKS {
            let journal = journal.clone();
            tasks.spawn(async move {
                for i in 0..PER_TASK {
                    let address = format!("null_resource.t{t}[{i}]");
                    let seq = journal
                        .intent(
                            &address,
                            "null_resource",
                            "builtin",
                            Operation::Create,
                            None,
                        )
                        .await
                        .expect("intent");
                    journal
                        .done(seq, &address, &Outcome::Put(instance(&address)))
                        .expect("done");
                }
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.expect("task");
        }
        journal.sync().await.expect("sync");
    });
    let total = (TASKS * PER_TASK) as u64;
    let fsyncs = journal.fsyncs();
    assert_eq!(journal.records_written(), 2 * total);
    // Each task waits for its own intent, so at most TASKS intents are
    // outstanding; batching must still save most fsyncs.
    assert!(fsyncs < total / 2, "{fsyncs} fsyncs for {total} intents");
    eprintln!("{total} intents + {total} dones in {fsyncs} fsyncs");
    drop(journal);

    let loaded = backend.load(&lock).expect("load");
    assert_eq!(loaded.replayed, TASKS * PER_TASK);
    assert!(loaded.in_flight.is_empty());
    assert_eq!(
        loaded.state.expect("state").resources.len(),
        TASKS * PER_TASK
    );
}

#[test]
fn lone_intents_are_each_durable() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend
        .open_journal(&lock, &State::new(), "apply")
        .expect("journal");
    runtime().block_on(async {
        for i in 0..3 {
            journal
                .intent(
                    &format!("null_resource.x[{i}]"),
                    "null_resource",
                    "builtin",
                    Operation::Create,
                    None,
                )
                .await
                .expect("intent");
            // Durable on return: visible in the file without any drop/sync.
            let text = fs::read_to_string(backend.journal_path()).expect("read");
            assert_eq!(text.lines().count(), i + 2);
        }
    });
    assert_eq!(journal.fsyncs(), 3);
}

#[test]
fn a_burst_of_intents_costs_a_handful_of_fsyncs() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend
        .open_journal(&lock, &State::new(), "apply")
        .expect("journal");
    const TOTAL: u64 = 1000;
    runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..TOTAL {
            let journal = journal.clone();
            tasks.spawn(async move {
                journal
                    .intent(
                        &format!("null_resource.b[{i}]"),
                        "null_resource",
                        "builtin",
                        Operation::Create,
                        None,
                    )
                    .await
            });
        }
        let mut seqs = BTreeSet::new();
        while let Some(joined) = tasks.join_next().await {
            seqs.insert(joined.expect("task").expect("intent"));
        }
        assert_eq!(
            seqs,
            (1..=TOTAL).collect::<BTreeSet<_>>(),
            "unique, dense seqs"
        );
    });
    let fsyncs = journal.fsyncs();
    eprintln!("{TOTAL} concurrent intents in {fsyncs} fsyncs");
    assert!(fsyncs < TOTAL / 10, "{fsyncs} fsyncs for {TOTAL} intents");
    assert_eq!(journal.records_written(), TOTAL);
    drop(journal);
    let loaded = backend.load(&lock).expect("load");
    assert_eq!(loaded.in_flight.len() as u64, TOTAL);
    assert_eq!(loaded.replayed, 0);
}

/// Holds an intent and writes it with its outcome for `count` creates of
/// `inst`, as an apply of built-in types does; nothing waits for them.
fn queue_creates(journal: &Journal, name: &str, count: usize, inst: &ResourceInstance) {
    for i in 0..count {
        let address = format!("null_resource.{name}[{i}]");
        let intent = journal
            .intent_held(
                &address,
                "null_resource",
                "builtin",
                Operation::Create,
                None,
            )
            .expect("intent");
        journal
            .complete(intent, &address, &Outcome::Put(inst.clone()))
            .expect("done");
    }
}

/// Polls `done` for up to ten seconds (the writer thread commits on its own).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn records_nobody_waits_for_are_written_at_once_and_fsynced_once() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend
        .open_journal(&lock, &State::new(), "apply")
        .expect("journal");
    const TOTAL: usize = 1000;
    queue_creates(&journal, "q", TOTAL, &instance("q"));
    // In the file when the calls return (a killed process leaves them
    // there), but not fsynced: nothing asked for durability yet.
    let lines = fs::read_to_string(backend.journal_path())
        .expect("read")
        .lines()
        .count();
    assert_eq!(lines, 1 + 2 * TOTAL, "the header and every record");
    assert_eq!(journal.fsyncs(), 0);
    runtime().block_on(journal.sync()).expect("sync");
    assert_eq!(journal.fsyncs(), 1);
    assert_eq!(journal.records_written(), 2 * TOTAL as u64);
    drop(journal);
    let loaded = backend.load(&lock).expect("load");
    assert!(loaded.in_flight.is_empty());
    assert_eq!(loaded.state.expect("state").resources.len(), TOTAL);
}

/// A built-in type's intent is written with its outcome, right after it in
/// the file; one whose operation ended with no outcome leaves nothing, so
/// the next command has nothing to read back.
#[test]
fn a_held_intent_is_written_with_its_outcome_or_not_at_all() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let journal = backend
        .open_journal(&lock, &State::new(), "apply")
        .expect("journal");
    let hold = |address: &str| {
        journal
            .intent_held(address, "null_resource", "builtin", Operation::Create, None)
            .expect("intent")
    };
    let failed = hold("null_resource.failed");
    let made = hold("null_resource.made");
    assert_eq!(made.seq(), failed.seq() + 1, "numbered when held");
    let read = || fs::read_to_string(backend.journal_path()).expect("read");
    assert_eq!(read().lines().count(), 1, "nothing written while held");
    let seq = made.seq();
    journal
        .complete(made, "null_resource.made", &Outcome::Put(instance("made")))
        .expect("complete");
    drop(failed);
    let text = read();
    let records: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(records.len(), 2, "{text}");
    assert_eq!(
        (&records[0]["t"], &records[0]["seq"], &records[0]["address"]),
        (&json!("intent"), &json!(seq), &json!("null_resource.made"))
    );
    assert_eq!(
        (&records[1]["t"], &records[1]["seq"]),
        (&json!("done"), &json!(seq))
    );
    drop(journal);
    let loaded = backend.load(&lock).expect("load");
    assert!(loaded.in_flight.is_empty(), "{:?}", loaded.in_flight);
    let state = loaded.state.expect("state");
    assert_eq!(
        state.resources.keys().collect::<Vec<_>>(),
        ["null_resource.made"]
    );
}

#[test]
fn a_megabyte_waiting_for_its_remote_copy_is_shipped_without_a_waiter() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let shipped = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, usize)>::new()));
    let ship: dumcel_state::Ship = {
        let shipped = shipped.clone();
        Box::new(move |n, bytes| {
            shipped.lock().expect("lock").push((n, bytes.len()));
            Ok(())
        })
    };
    let journal = backend
        .open_journal_shipping(&lock, &State::new(), "apply", "j".into(), Some(ship))
        .expect("journal");
    // Outcomes large enough that a few hundred make more than a megabyte.
    let big = json!({"content": "x".repeat(4096)});
    let mut inst = instance("big");
    inst.attributes = big;
    queue_creates(&journal, "m", 400, &inst);
    wait_until("nothing but the header was shipped", || {
        shipped.lock().expect("lock").len() >= 2
    });
    let batches = shipped.lock().expect("lock").clone();
    assert_eq!(batches[0].0, 0, "the header first");
    assert!(
        batches[1..].iter().all(|&(_, len)| len >= 1 << 20),
        "{batches:?}"
    );
    runtime().block_on(journal.sync()).expect("sync");
    let shipped_bytes: usize = shipped.lock().expect("lock")[1..].iter().map(|b| b.1).sum();
    drop(journal);
    let file = fs::read(backend.journal_path()).expect("read");
    assert_eq!(
        shipped_bytes + batches[0].1,
        file.len(),
        "every byte shipped once"
    );
}

/// The CLI runs its command on a runtime with one worker. A journal dropped
/// there with records still to ship must not wait for itself: the upload
/// needs the runtime's drivers, which only a worker turns.
#[test]
fn a_journal_dropped_on_a_one_worker_runtime_ships_its_last_batch() {
    let (_dir, backend) = backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let shipped = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let ship: dumcel_state::Ship = {
        let shipped = shipped.clone();
        let handle = runtime.handle().clone();
        // Like the S3 shipper: async I/O driven from the writer thread.
        Box::new(move |n, _bytes| {
            handle
                .block_on(async { tokio::time::sleep(std::time::Duration::from_millis(5)).await });
            shipped.lock().expect("lock").push(n);
            Ok(())
        })
    };
    let journal = backend
        .open_journal_shipping(&lock, &State::new(), "apply", "j".into(), Some(ship))
        .expect("journal");
    let (finished, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            tokio::spawn(async move {
                queue_creates(&journal, "w", 3, &instance("w"));
                drop(journal);
            })
            .await
            .expect("task");
        });
        let _ = finished.send(());
    });
    wait.recv_timeout(std::time::Duration::from_secs(20))
        .expect("dropping the journal on the only worker never finished");
    assert_eq!(
        *shipped.lock().expect("lock"),
        [0, 1],
        "the header, then the records"
    );
}
