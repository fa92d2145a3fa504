//! Fuzz target `journal`: the apply journal left beside a state file (torn
//! by a crash, damaged on disk, or written by hand) is replayed or refused by
//! `LocalBackend::load`, never a panic. Each input is loaded twice: over a
//! snapshot of the same lineage, and alone (a first apply that crashed).
//! Run longer with `bench/fuzz.sh`; see `fuzz/harness.rs` for the knobs.

mod common;
#[path = "../../fuzz/harness.rs"]
mod harness;

use std::fs;

use common::{NO_WAIT, instance, state_with};
use dumcel_state::{Operation, Outcome, State};
use proptest::prelude::*;
use serde_json::{Value, json};

const TARGET: &str = "journal";

/// The lineage of the snapshot beside the journal, and of the seeds.
const LINEAGE: &str = "5f0c1a52-3d6e-4b8e-9a57-0c2f7d1e9b44";
const BASE_SERIAL: u64 = 4;

const TOKENS: &[&str] = &[
    "{\"t\":\"begin\",",
    "{\"t\":\"intent\",",
    "{\"t\":\"done\",",
    "\"t\"",
    "\"begin\"",
    "\"intent\"",
    "\"done\"",
    "\"seq\"",
    "\"address\"",
    "\"lineage\"",
    "\"base_serial\"",
    "\"operation\"",
    "\"started\"",
    "\"resource_type\"",
    "\"provider\"",
    "\"op\"",
    "\"planned\"",
    "\"put\"",
    "\"remove\"",
    "\"create\"",
    "\"delete\"",
    "\"attributes\"",
    "\n",
    "\n\n",
    "\0\0\0\0",
];

fn snapshot() -> State {
    let mut state = state_with(3);
    state.lineage = LINEAGE.into();
    state.serial = BASE_SERIAL;
    state
}

fn begin() -> impl Strategy<Value = Value> {
    let lineage = prop_oneof![
        4 => Just(LINEAGE.to_owned()),
        1 => Just(String::new()),
        1 => ".{0,12}",
    ];
    let serial = prop_oneof![
        Just(BASE_SERIAL),
        Just(BASE_SERIAL - 1),
        Just(0),
        Just(u64::MAX),
        any::<u64>()
    ];
    (lineage, serial).prop_map(|(lineage, serial)| {
        json!({"t": "begin", "lineage": lineage, "base_serial": serial,
               "operation": "apply", "started": "2025-01-01T00:00:00Z"})
    })
}

fn seq() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..6, 1 => any::<u64>()]
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..5).prop_map(|i| format!("null_resource.r[{i}]")),
        ".{0,16}",
    ]
}

fn record() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        Just("create"),
        Just("update"),
        Just("delete"),
        Just("replace"),
        Just("read"),
        Just("bogus"),
    ];
    let intent = (
        seq(),
        address(),
        op,
        prop::option::of(harness::json_value()),
    )
        .prop_map(|(seq, address, op, planned)| {
            let mut r = json!({"t": "intent", "seq": seq, "address": address,
                               "resource_type": "null_resource", "provider": "builtin", "op": op});
            if let Some(planned) = planned {
                r["planned"] = planned;
            }
            r
        });
    let put = prop_oneof![
        Just(serde_json::to_value(instance("x")).unwrap_or_default()),
        (harness::json_edits()).prop_map(|edits| {
            harness::edit_json(
                serde_json::to_value(instance("x")).unwrap_or_default(),
                edits,
            )
        }),
    ];
    let done = (
        seq(),
        address(),
        prop::option::of(put),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(seq, address, put, remove)| {
            let mut r = json!({"t": "done", "seq": seq, "address": address});
            if let Some(put) = put {
                r["put"] = put;
            }
            if let Some(remove) = remove {
                r["remove"] = json!(remove);
            }
            r
        });
    prop_oneof![begin(), intent, done, harness::json_value()]
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => record().prop_map(|r| serde_json::to_vec(&r).unwrap_or_default()),
        1 => prop::collection::vec(any::<u8>().prop_filter("one line", |b| *b != b'\n'), 0..40),
    ]
}

/// Journal files: mostly a valid header, then records and garbage lines,
/// maybe torn anywhere.
fn journal() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::option::weighted(0.9, begin()),
        prop::collection::vec(line(), 0..12),
        any::<bool>(),
        prop::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(|(begin, lines, trailing_newline, torn)| {
            let mut out = Vec::new();
            if let Some(begin) = begin {
                out.extend(serde_json::to_vec(&begin).unwrap_or_default());
                out.push(b'\n');
            }
            for line in lines {
                out.extend(line);
                out.push(b'\n');
            }
            if !trailing_newline {
                out.pop();
            }
            if let Some(at) = torn {
                out.truncate(at.index(out.len() + 1));
            }
            out
        })
}

#[test]
fn fuzz_journal() {
    let (_dir, backend) = common::backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let snapshot = snapshot().to_json_pretty();
    let check = |bytes: &[u8]| {
        for with_snapshot in [true, false] {
            if with_snapshot {
                fs::write(backend.path(), &snapshot).expect("write the snapshot");
            } else {
                let _ = fs::remove_file(backend.path());
            }
            fs::write(backend.journal_path(), bytes).expect("write the journal");
            if let Ok(loaded) = backend.load(&lock) {
                // What replay produced is what `persist` writes next.
                if let Some(state) = loaded.state {
                    let _ = state.to_json_pretty();
                }
            }
        }
    };
    let dictionary = [harness::JSON_TOKENS, TOKENS].concat();
    harness::run(TARGET, dictionary, journal(), check);
}

#[test]
fn the_valid_seed_replays() {
    let (_dir, backend) = common::backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    backend.persist(&lock, &snapshot()).expect("persist");
    fs::write(
        backend.journal_path(),
        harness::seed(TARGET, "valid.journal"),
    )
    .expect("write");
    let loaded = backend.load(&lock).expect("valid.journal replays");
    assert_eq!(loaded.replayed, 2);
    assert_eq!(loaded.in_flight.len(), 1);
}

/// Rewrites the seeds from the current code:
/// `DUMCEL_FUZZ_WRITE_SEEDS=1 cargo test -p dumcel-state --test fuzz_journal`.
#[test]
fn write_seeds() {
    if std::env::var_os("DUMCEL_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    let (_dir, backend) = common::backend();
    let lock = backend.lock("apply", NO_WAIT).expect("lock");
    let base = snapshot();
    backend.persist(&lock, &base).expect("persist");
    let journal = backend
        .open_journal(&lock, &base, "apply")
        .expect("journal");
    let header = fs::read(backend.journal_path()).expect("read the header");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let planned = Some(json!({"id": null, "triggers": {"k": "v"}}));
        let created = "null_resource.r[3]";
        let seq = journal
            .intent(
                created,
                "null_resource",
                "builtin",
                Operation::Create,
                planned.clone(),
            )
            .await
            .expect("intent");
        journal
            .done(seq, created, &Outcome::Put(instance("3")))
            .expect("done");
        let deleted = "null_resource.r[0]";
        let seq = journal
            .intent(deleted, "null_resource", "builtin", Operation::Delete, None)
            .await
            .expect("intent");
        journal.done(seq, deleted, &Outcome::Remove).expect("done");
        // Cut off: an intent with no completion, reported as in flight.
        journal
            .intent(
                "null_resource.r[1]",
                "null_resource",
                "builtin",
                Operation::Update,
                planned,
            )
            .await
            .expect("intent");
        journal.sync().await.expect("sync");
    });
    drop(journal);
    let valid = fs::read(backend.journal_path()).expect("read the journal");
    let dir = harness::corpus_dir(TARGET);
    fs::write(dir.join("valid.journal"), &valid).expect("write");
    fs::write(dir.join("header-only.journal"), header).expect("write");
    // A kill -9 mid-write: the last line torn.
    fs::write(dir.join("torn.journal"), &valid[..valid.len() - 20]).expect("write");
}
