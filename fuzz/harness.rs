//! The fuzz harness shared by the `fuzz_*` integration tests of the engine,
//! state and planner crates (each includes this file with `#[path]`, so no
//! crate of its own is needed for a few helpers).
//!
//! A target is a function over untrusted bytes that must return errors as
//! errors and never panic. [`run`] first replays every seed committed under
//! `fuzz/corpus/<target>/`, then feeds it generated inputs with proptest:
//! byte-level mutations of the seeds (flip, set, insert, delete, splice,
//! duplicate, dictionary tokens) and the target's own structure-aware
//! strategy. Cargo-fuzz would need a nightly toolchain; proptest runs on
//! stable inside the ordinary test suite.
//!
//! How much runs comes from the environment, so that `cargo test` stays fast
//! and `bench/fuzz.sh` can run for minutes:
//! - `DUMCEL_FUZZ_CASES`: generated cases (default 256; unlimited when only
//!   a time budget is given);
//! - `DUMCEL_FUZZ_SECONDS`: a time budget for the generated cases;
//! - `DUMCEL_FUZZ_SEED`: a fixed RNG seed, to replay a run.
//!
//! A panicking input is shrunk, saved under `fuzz/crashes/<target>/` (not
//! committed) and fails the test; once fixed, it belongs in the corpus as a
//! regression seed.

#![allow(dead_code)] // each test binary uses a different subset

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// Default number of generated cases per target in a plain `cargo test`.
const DEFAULT_CASES: u32 = 256;

/// `fuzz/` at the workspace root; every crate using this harness sits one
/// level below it.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

pub fn corpus_dir(target: &str) -> PathBuf {
    fuzz_dir().join("corpus").join(target)
}

/// Every seed of a target, sorted by file name.
pub fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, bytes)
        })
        .collect();
    // Files the project keeps anyway (the examples) are named, not copied:
    // `corpus/<target>.paths` lists them, one path from the repository root a line.
    let listed = fuzz_dir().join("corpus").join(format!("{target}.paths"));
    if let Ok(list) = std::fs::read_to_string(&listed) {
        for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let path = fuzz_dir().join("..").join(line);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seeds.push((line.to_owned(), bytes));
        }
    }
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// The bytes of one named seed.
pub fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = corpus_dir(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
    )
}

/// Runs `check` on every seed, then on generated inputs, and prints how many
/// ran. Fails the calling test on the first panic.
pub fn run<S>(target: &str, dictionary: Vec<&'static str>, structured: S, check: impl Fn(&[u8]))
where
    S: Strategy<Value = Vec<u8>>,
{
    let started = Instant::now();
    let seeds = seeds(target);
    for (name, bytes) in &seeds {
        if let Err(message) = catch(|| check(bytes)) {
            panic!("fuzz {target}: seed {name} panics: {message}");
        }
    }

    let budget = env_number::<f64>("DUMCEL_FUZZ_SECONDS").map(Duration::from_secs_f64);
    let cases = env_number::<u32>("DUMCEL_FUZZ_CASES").unwrap_or(if budget.is_some() {
        u32::MAX
    } else {
        DEFAULT_CASES
    });
    let deadline = budget.map(|b| Instant::now() + b);
    let config = Config {
        cases,
        // The first case past the deadline is rejected, which ends the run
        // (an abort told apart from a failure below).
        max_global_rejects: 0,
        failure_persistence: None,
        max_shrink_time: 60_000,
        max_shrink_iters: 4096,
        rng_seed: env_number::<u64>("DUMCEL_FUZZ_SEED").map_or(RngSeed::Random, RngSeed::Fixed),
        ..Config::default()
    };
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(seeds.iter().map(|(_, b)| b.clone()).collect());
    let strategy = prop_oneof![mutations(bodies, Arc::new(dictionary)), structured];
    let ran = AtomicU64::new(0);
    let failing = AtomicBool::new(false);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        // Shrinking a failure goes on past the deadline.
        if !failing.load(Ordering::Relaxed) && deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(TestCaseError::reject("time budget spent"));
        }
        if !failing.load(Ordering::Relaxed) {
            ran.fetch_add(1, Ordering::Relaxed);
        }
        catch(|| check(&input)).map_err(|message| {
            failing.store(true, Ordering::Relaxed);
            TestCaseError::fail(message)
        })
    });
    let ran = ran.load(Ordering::Relaxed);
    match result {
        Ok(()) => {}
        Err(TestError::Abort(_)) if deadline.is_some_and(|d| Instant::now() >= d) => {}
        Err(TestError::Abort(why)) => panic!("fuzz {target}: aborted: {why}"),
        Err(TestError::Fail(why, input)) => {
            let saved = save_crash(target, &input);
            panic!(
                "fuzz {target}: PANIC after {ran} generated cases, shrunk input saved to {}: {why}",
                saved.display()
            );
        }
    }
    println!(
        "fuzz {target}: {ran} generated cases, {} seed files, {:.1}s, no panic",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

/// `f()`, with a panic turned into its message.
fn catch(f: impl FnOnce()) -> Result<(), String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned())
    })
}

fn save_crash(target: &str, input: &[u8]) -> PathBuf {
    // FNV-1a: a stable name, so the same crash found twice is one file.
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let dir = fuzz_dir().join("crashes").join(target);
    let path = dir.join(format!("crash-{hash:016x}"));
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input)) {
        eprintln!("could not save the crash to {}: {e}", path.display());
    }
    path
}

/// One byte-level edit of an input.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    /// Bytes from another seed: (seed, from, length, at).
    Splice(Index, Index, usize, Index),
    /// A copy of a run of the input itself: (from, length, at); repeats
    /// nesting and lines.
    Duplicate(Index, usize, Index),
    Token(Index, Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Edit::Flip(at, 1 << bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<Index>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<Index>(), any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(s, from, n, at)| Edit::Splice(s, from, n, at)),
        (any::<Index>(), 1usize..128, any::<Index>())
            .prop_map(|(from, n, at)| Edit::Duplicate(from, n, at)),
        (any::<Index>(), any::<Index>()).prop_map(|(token, at)| Edit::Token(token, at)),
    ]
}

/// A seed with one to eight edits.
pub fn mutations(
    seeds: Arc<Vec<Vec<u8>>>,
    dictionary: Arc<Vec<&'static str>>,
) -> impl Strategy<Value = Vec<u8>> {
    (any::<Index>(), prop::collection::vec(edit(), 1..8)).prop_map(move |(seed, edits)| {
        let mut bytes = seeds[seed.index(seeds.len())].clone();
        for e in edits {
            apply(&mut bytes, e, &seeds, &dictionary);
        }
        bytes
    })
}

/// A position in `0..=len` (insertion points included).
fn at(i: &Index, len: usize) -> usize {
    i.index(len + 1)
}

fn apply(bytes: &mut Vec<u8>, edit: Edit, seeds: &[Vec<u8>], dictionary: &[&str]) {
    match edit {
        Edit::Flip(i, mask) if !bytes.is_empty() => {
            let i = i.index(bytes.len());
            bytes[i] ^= mask;
        }
        Edit::Set(i, b) if !bytes.is_empty() => {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        Edit::Flip(..) | Edit::Set(..) => {}
        Edit::Insert(i, new) => {
            let i = at(&i, bytes.len());
            bytes.splice(i..i, new);
        }
        Edit::Delete(i, n) => {
            let i = at(&i, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Edit::Splice(s, from, n, to) => {
            let other = &seeds[s.index(seeds.len())];
            let from = at(&from, other.len());
            let piece = other[from..(from + n).min(other.len())].to_vec();
            let to = at(&to, bytes.len());
            bytes.splice(to..to, piece);
        }
        Edit::Duplicate(from, n, to) => {
            let from = at(&from, bytes.len());
            let piece = bytes[from..(from + n).min(bytes.len())].to_vec();
            let to = at(&to, bytes.len());
            bytes.splice(to..to, piece);
        }
        Edit::Token(t, to) if !dictionary.is_empty() => {
            let token = dictionary[t.index(dictionary.len())].as_bytes();
            let to = at(&to, bytes.len());
            bytes.splice(to..to, token.iter().copied());
        }
        Edit::Token(..) => {}
    }
}

/// Tokens of JSON in general, for the JSON targets' dictionaries and token
/// soups.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\"\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "1e999",
    "-0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\\\\"",
    "\n",
    " ",
    "{}",
    "[]",
];

/// Arbitrary JSON values, a few levels deep.
pub fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// One edit of a JSON document: walk down by `path` as far as it goes, then
/// replace what is there with `new`, or remove it (`None`).
pub type JsonEdit = (Vec<Index>, Option<serde_json::Value>);

pub fn json_edits() -> impl Strategy<Value = Vec<JsonEdit>> {
    prop::collection::vec(
        (
            prop::collection::vec(any::<Index>(), 0..6),
            prop::option::weighted(0.85, json_value()),
        ),
        1..5,
    )
}

/// `doc` with `edits` applied: mutated valid documents get past the first
/// fields' checks and exercise the rest of a format.
pub fn edit_json(mut doc: serde_json::Value, edits: Vec<JsonEdit>) -> serde_json::Value {
    for (path, new) in edits {
        edit_at(&mut doc, &path, new);
    }
    doc
}

fn edit_at(node: &mut serde_json::Value, path: &[Index], new: Option<serde_json::Value>) {
    use serde_json::Value;
    let Some((step, rest)) = path.split_first() else {
        *node = new.unwrap_or(Value::Null);
        return;
    };
    match node {
        Value::Array(items) if !items.is_empty() => {
            let i = step.index(items.len());
            if rest.is_empty() && new.is_none() {
                items.remove(i);
            } else {
                edit_at(&mut items[i], rest, new);
            }
        }
        Value::Object(map) if !map.is_empty() => {
            let i = step.index(map.len());
            if rest.is_empty() && new.is_none() {
                if let Some(key) = map.keys().nth(i).cloned() {
                    map.remove(&key);
                }
            } else if let Some(child) = map.values_mut().nth(i) {
                edit_at(child, rest, new);
            }
        }
        _ => *node = new.unwrap_or(Value::Null),
    }
}

/// A structure-aware strategy from a JSON seed: the seed with JSON-level
/// edits, written compact or pretty.
pub fn mutated_json(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let doc: serde_json::Value = serde_json::from_slice(&seed).expect("the JSON seed parses");
    (json_edits(), any::<bool>()).prop_map(move |(edits, pretty)| {
        let doc = edit_json(doc.clone(), edits);
        if pretty {
            serde_json::to_vec_pretty(&doc).unwrap_or_default()
        } else {
            serde_json::to_vec(&doc).unwrap_or_default()
        }
    })
}

/// Token soup: a run of dictionary tokens, some separated by spaces.
pub fn token_soup(
    tokens: Vec<&'static str>,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<Index>(), any::<bool>()), len).prop_map(move |picks| {
        let mut out = Vec::new();
        for (i, space) in picks {
            out.extend_from_slice(tokens[i.index(tokens.len())].as_bytes());
            if space {
                out.push(b' ');
            }
        }
        out
    })
}
