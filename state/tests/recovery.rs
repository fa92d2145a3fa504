//! Crash recovery: a real kill -9 of a process mid-apply, and damaged
//! journals of every shape never panicking `load`.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{NO_WAIT, instance, state_with};
use dumcel_state::{LocalBackend, Operation, Outcome, State, StateError};
use proptest::prelude::*;

const CHILD_ENV: &str = "DUMCEL_STATE_CRASH_CHILD";

/// Not a test on its own: the body of the process that `kill_9_mid_apply`
/// starts and kills. Records intent/done pairs until killed, printing each
/// iteration whose intent is durable.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let backend = LocalBackend::new(path);
    let lock = backend.lock("apply", NO_WAIT).expect("child lock");
    let base = backend.load(&lock).expect("load").state.expect("state");
    let journal = backend
        .open_journal(&lock, &base, "apply")
        .expect("journal");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let deadline = Instant::now() + Duration::from_secs(60); // if the parent vanished
    rt.block_on(async {
        for i in 0u64.. {
            if Instant::now() > deadline {
                break;
            }
            let address = format!("null_resource.c[{i}]");
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
            println!("acked {i}");
            journal
                .done(seq, &address, &Outcome::Put(instance(&i.to_string())))
                .expect("done");
        }
    });
}

#[test]
fn kill_9_mid_apply() {
    let (_dir, backend) = common::backend();
    let base = state_with(5);
    {
        let lock = backend.lock("apply", NO_WAIT).expect("lock");
        backend.persist(&lock, &base).expect("persist");
    }

    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, backend.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked = BTreeSet::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(i) = line.strip_prefix("acked ") {
            acked.insert(i.parse::<u64>().expect("number"));
            if acked.len() >= 300 {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL"); // kill -9, mid-write or not
    child.wait().expect("reap");
    assert!(acked.len() >= 300, "child stopped early");

    // The OS released the dead child's lock.
    let lock = backend
        .lock("apply", Duration::from_secs(5))
        .expect("relock");
    let loaded = backend.load(&lock).expect("load after kill -9");
    let state = loaded.state.expect("state");
    assert_eq!(state.lineage, base.lineage);
    let in_flight: BTreeSet<&str> = loaded
        .in_flight
        .iter()
        .map(|f| f.address.as_str())
        .collect();
    for i in &acked {
        let address = format!("null_resource.c[{i}]");
        assert!(
            state.resources.contains_key(&address) || in_flight.contains(address.as_str()),
            "durable intent {address} was lost"
        );
    }
    // Sequential child: a done is durable once the next intent is acked.
    assert!(loaded.in_flight.len() <= 2, "{:?}", loaded.in_flight);
    assert!(loaded.replayed >= acked.len() - 1);
    for original in base.resources.keys() {
        assert!(state.resources.contains_key(original));
    }
}

/// A snapshot and a valid journal of a few records on top of it.
fn fixture() -> &'static (Vec<u8>, Vec<u8>, usize) {
    static FIXTURE: OnceLock<(Vec<u8>, Vec<u8>, usize)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (_dir, backend) = common::backend();
        let base = state_with(3);
        let lock = backend.lock("apply", NO_WAIT).expect("lock");
        backend.persist(&lock, &base).expect("persist");
        let journal = backend
            .open_journal(&lock, &base, "apply")
            .expect("journal");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            for i in 0..6 {
                let address = format!("null_resource.j[{i}]");
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
                let outcome = if i % 3 == 2 {
                    Outcome::Remove
                } else {
                    Outcome::Put(instance(&address))
                };
                journal.done(seq, &address, &outcome).expect("done");
            }
            journal.sync().await.expect("sync");
        });
        drop(journal);
        let full = backend.load(&lock).expect("load").replayed;
        (
            fs::read(backend.path()).expect("snapshot"),
            fs::read(backend.journal_path()).expect("journal"),
            full,
        )
    })
}

/// Load `snapshot` + `journal` bytes from a fresh directory.
fn load_bytes(snapshot: &[u8], journal: &[u8]) -> Result<dumcel_state::Loaded, StateError> {
    let (_dir, backend) = common::backend();
    fs::write(backend.path(), snapshot).expect("write snapshot");
    fs::write(backend.journal_path(), journal).expect("write journal");
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.load(&lock)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_journal_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (snapshot, _, _) = fixture();
        let _ = load_bytes(snapshot, &bytes);
    }

    #[test]
    fn garbage_after_a_valid_header_never_panics(
        tail in proptest::collection::vec(any::<u8>(), 0..256),
        keep in 1usize..8,
    ) {
        let (snapshot, journal, _) = fixture();
        let lines: Vec<&[u8]> = journal.split_inclusive(|b| *b == b'\n').take(keep).collect();
        let mut bytes = lines.concat();
        bytes.extend_from_slice(&tail);
        match load_bytes(snapshot, &bytes) {
            Ok(_) | Err(StateError::CorruptJournal { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn every_truncation_loads(cut in 0usize..100_000) {
        let (snapshot, journal, full) = fixture();
        let cut = cut % (journal.len() + 1);
        let loaded = load_bytes(snapshot, &journal[..cut]);
        prop_assert!(loaded.is_ok(), "cut at {}: {:?}", cut, loaded.err());
        let loaded = loaded.expect("checked");
        prop_assert!(loaded.replayed <= *full);
        if cut == journal.len() {
            prop_assert_eq!(loaded.replayed, *full);
        }
        let state = loaded.state.expect("snapshot present");
        prop_assert_eq!(state.serial, if loaded.replayed > 0 { 1 } else { 0 });
    }

    #[test]
    fn truncated_snapshot_never_panics(cut in 0usize..100_000) {
        let (snapshot, journal, _) = fixture();
        let cut = cut % (snapshot.len() + 1);
        match load_bytes(&snapshot[..cut], journal) {
            Ok(loaded) => prop_assert!(cut + 1 >= snapshot.len(), "{loaded:?}"),
            Err(e) => prop_assert!(matches!(e, StateError::Corrupt { .. }), "{e:?}"),
        }
    }
}

#[test]
fn empty_journal_is_ignored() {
    let (snapshot, _, _) = fixture();
    let loaded = load_bytes(snapshot, b"").expect("load");
    assert_eq!(loaded.replayed, 0);
    let state = State::from_json(snapshot).expect("snapshot");
    assert_eq!(loaded.state, Some(state));
}

#[test]
fn journal_without_header_is_corrupt() {
    let (snapshot, journal, _) = fixture();
    let without_header: Vec<u8> = journal
        .split_inclusive(|b| *b == b'\n')
        .skip(1)
        .flatten()
        .copied()
        .collect();
    assert!(matches!(
        load_bytes(snapshot, &without_header),
        Err(StateError::CorruptJournal { line: 1, .. })
    ));
}
