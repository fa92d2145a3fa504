//! Reading a journal back after a crash and applying it to a snapshot.
//!
//! Damage rules: the writer appends whole lines, so a kill -9 can only tear
//! the *last* line (partial write, or zero-filled tail after a power loss).
//! That line is dropped: its writer was never told it was durable. Damage
//! anywhere else cannot come from dumcel crashing, so it is reported rather
//! than guessed around.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::StateError;
use crate::journal::InFlight;
use crate::model::State;
use crate::record::{self, Begin, Record};

/// A journal's readable content.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub begin: Begin,
    /// Every record after the header, in file order.
    pub records: Vec<Record>,
}

/// The result of applying a journal to a base state.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub state: State,
    pub in_flight: Vec<InFlight>,
    pub replayed: usize,
}

/// Parse journal bytes. `Ok(None)`: no complete header (the command died
/// while opening the journal), i.e. nothing was recorded.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Option<Parsed>, StateError> {
    // Numbered (1-based) non-blank lines. A trailing newline yields an
    // empty final segment, which is blank and so dropped.
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    let last = lines.last().map(|(n, _)| *n);

    let mut begin = None;
    let mut records = Vec::with_capacity(lines.len());
    for (n, line) in lines {
        let corrupt = |detail: String| StateError::CorruptJournal {
            path: path.to_path_buf(),
            line: n,
            detail,
        };
        let record = match record::parse_line(line) {
            Ok(record) => record,
            Err(detail) if Some(n) == last => {
                tracing::warn!(journal = %path.display(), line = n, %detail, "ignoring torn last journal line (interrupted write)");
                break;
            }
            Err(detail) => return Err(corrupt(detail)),
        };
        match (record, begin.is_some()) {
            (Record::Begin(b), false) => {
                if b.lineage.trim().is_empty() {
                    return Err(corrupt("the begin record has an empty lineage".into()));
                }
                begin = Some(b);
            }
            (Record::Begin(_), true) => {
                return Err(corrupt("a second begin record".into()));
            }
            (_, false) => {
                return Err(corrupt(
                    "the journal does not start with a begin record".into(),
                ));
            }
            (record, true) => records.push(record),
        }
    }
    Ok(begin.map(|begin| Parsed { begin, records }))
}

/// Apply completed records, in file order, onto `state`; intents with no
/// completion become in-flight reports.
pub(crate) fn apply(mut state: State, parsed: Parsed) -> Replayed {
    let mut pending: BTreeMap<u64, InFlight> = BTreeMap::new();
    let mut replayed = 0usize;
    for record in parsed.records {
        match record {
            Record::Begin(_) => {} // rejected by `parse`
            Record::Intent {
                seq,
                address,
                resource_type,
                provider,
                op,
                planned,
            } => {
                pending.insert(
                    seq,
                    InFlight {
                        seq,
                        address,
                        operation: op,
                        planned,
                        resource_type,
                        provider,
                    },
                );
            }
            Record::Done { seq, address, put } => {
                pending.remove(&seq);
                // Absolute values, so replaying onto a state that already
                // has them (journal deletion lost) changes nothing.
                match put {
                    Some(instance) => {
                        state.resources.insert(address, Box::new(instance));
                    }
                    None => {
                        state.resources.remove(&address);
                    }
                }
                replayed += 1;
            }
        }
    }
    if replayed > 0 {
        state.serial = parsed.begin.base_serial.saturating_add(1);
    }
    Replayed {
        state,
        in_flight: pending.into_values().collect(),
        replayed,
    }
}

/// Addresses whose completed change in the journal `state` does not hold:
/// empty when `state` already has every one of them.
pub(crate) fn missing_from(parsed: &Parsed, state: &State) -> Vec<String> {
    // Only the last completed change of each address counts.
    let mut last: BTreeMap<&str, Option<&crate::model::ResourceInstance>> = BTreeMap::new();
    for record in &parsed.records {
        if let Record::Done { address, put, .. } = record {
            last.insert(address.as_str(), put.as_ref());
        }
    }
    last.into_iter()
        .filter(|(address, put)| state.resources.get(*address).map(|inst| &**inst) != *put)
        .map(|(address, _)| address.to_owned())
        .collect()
}
