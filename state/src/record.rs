//! The journal's line format: one JSON object per line, tagged by `"t"`.
//!
//! ```text
//! {"t":"begin","lineage":"…","base_serial":7,"operation":"apply","started":"…"}
//! {"t":"intent","seq":1,"address":"null_resource.a","resource_type":"null_resource","provider":"builtin","op":"create","planned":{…}}
//! {"t":"done","seq":1,"address":"null_resource.a","put":{…ResourceInstance…}}
//! {"t":"done","seq":2,"address":"null_resource.b","remove":true}
//! ```
//!
//! Writing goes through borrowed types (no clone of a resource per record);
//! reading goes through owned ones and then a validity check, so a `done`
//! with neither or both outcomes is a parse error like any other damage.

use serde::{Deserialize, Serialize};

use crate::journal::Operation;
use crate::model::ResourceInstance;

/// The first line: which state this journal extends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Begin {
    /// Names this journal among the copies a remote backend keeps.
    #[serde(default)]
    pub id: String,
    pub lineage: String,
    pub base_serial: u64,
    pub operation: String,
    pub started: String,
}

/// A parsed journal line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    Begin(Begin),
    Intent {
        seq: u64,
        address: String,
        resource_type: String,
        provider: String,
        op: Operation,
        planned: Option<serde_json::Value>,
    },
    Done {
        seq: u64,
        address: String,
        /// `None`: the instance was removed.
        put: Option<ResourceInstance>,
    },
}

/// Wire form of a line, for reading.
#[derive(Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum Wire {
    Begin(Begin),
    Intent {
        seq: u64,
        address: String,
        resource_type: String,
        provider: String,
        op: Operation,
        #[serde(default)]
        planned: Option<serde_json::Value>,
    },
    Done {
        seq: u64,
        address: String,
        #[serde(default)]
        put: Option<ResourceInstance>,
        #[serde(default)]
        remove: bool,
    },
}

/// Wire form of a line, for writing (borrowed).
#[derive(Serialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum WireRef<'a> {
    Begin(&'a Begin),
    Intent {
        seq: u64,
        address: &'a str,
        resource_type: &'a str,
        provider: &'a str,
        op: Operation,
        planned: &'a Option<serde_json::Value>,
    },
    Done {
        seq: u64,
        address: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        put: Option<&'a ResourceInstance>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        remove: bool,
    },
}

/// Parse one line (without its newline).
pub(crate) fn parse_line(line: &[u8]) -> Result<Record, String> {
    let wire: Wire = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    Ok(match wire {
        Wire::Begin(b) => Record::Begin(b),
        Wire::Intent {
            seq,
            address,
            resource_type,
            provider,
            op,
            planned,
        } => Record::Intent {
            seq,
            address,
            resource_type,
            provider,
            op,
            planned,
        },
        Wire::Done {
            seq,
            address,
            put,
            remove,
        } => match (put, remove) {
            (Some(instance), false) => Record::Done {
                seq,
                address,
                put: Some(instance),
            },
            (None, true) => Record::Done {
                seq,
                address,
                put: None,
            },
            _ => return Err("a done record needs exactly one of \"put\" or \"remove\"".into()),
        },
    })
}

pub(crate) fn encode_begin(begin: &Begin) -> serde_json::Result<Vec<u8>> {
    line(&WireRef::Begin(begin))
}

pub(crate) fn encode_intent(
    seq: u64,
    address: &str,
    resource_type: &str,
    provider: &str,
    op: Operation,
    planned: &Option<serde_json::Value>,
) -> serde_json::Result<Vec<u8>> {
    line(&WireRef::Intent {
        seq,
        address,
        resource_type,
        provider,
        op,
        planned,
    })
}

/// Appends the outcome's line to `out`, which may hold its intent's line:
/// the two are then written with one `write`.
pub(crate) fn encode_done(
    seq: u64,
    address: &str,
    put: Option<&ResourceInstance>,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    append_line(
        out,
        &WireRef::Done {
            seq,
            address,
            put,
            remove: put.is_none(),
        },
    )
}

fn line(wire: &WireRef<'_>) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    append_line(&mut out, wire)?;
    Ok(out)
}

/// One compact JSON line including its `\n`: the newline marks the record
/// complete, which is how a torn tail is recognised on replay.
fn append_line(out: &mut Vec<u8>, wire: &WireRef<'_>) -> serde_json::Result<()> {
    serde_json::to_writer(&mut *out, wire)?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn instance() -> ResourceInstance {
        ResourceInstance {
            resource_type: "null_resource".into(),
            provider: "builtin".into(),
            attributes: json!({"id": "1"}),
            sensitive_attributes: vec![],
            dependencies: vec!["null_resource.b".into()],
            tainted: true,
        }
    }

    fn done_line(seq: u64, address: &str, put: Option<&ResourceInstance>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_done(seq, address, put, &mut out).expect("encode");
        out
    }

    fn strip(line: Vec<u8>) -> Vec<u8> {
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        line[..line.len() - 1].to_vec()
    }

    #[test]
    fn lines_round_trip() {
        let begin = Begin {
            id: "j".into(),
            lineage: "l".into(),
            base_serial: 3,
            operation: "apply".into(),
            started: "2026-01-01T00:00:00Z".into(),
        };
        let parsed = parse_line(&strip(encode_begin(&begin).expect("encode")));
        assert_eq!(parsed, Ok(Record::Begin(begin)));

        let planned = Some(json!({"multi\nline": "x"}));
        let line = encode_intent(1, "a.b", "a", "p", Operation::Replace, &planned);
        let parsed = parse_line(&strip(line.expect("encode")));
        assert_eq!(
            parsed,
            Ok(Record::Intent {
                seq: 1,
                address: "a.b".into(),
                resource_type: "a".into(),
                provider: "p".into(),
                op: Operation::Replace,
                planned,
            })
        );

        let put = instance();
        let line = strip(done_line(2, "a.b", Some(&put)));
        assert!(!String::from_utf8_lossy(&line).contains("remove"));
        assert_eq!(
            parse_line(&line),
            Ok(Record::Done {
                seq: 2,
                address: "a.b".into(),
                put: Some(put),
            })
        );

        let line = strip(done_line(3, "a.c", None));
        assert_eq!(
            String::from_utf8_lossy(&line),
            r#"{"t":"done","seq":3,"address":"a.c","remove":true}"#
        );
        assert_eq!(
            parse_line(&line),
            Ok(Record::Done {
                seq: 3,
                address: "a.c".into(),
                put: None,
            })
        );
    }

    #[test]
    fn done_needs_exactly_one_outcome() {
        assert!(parse_line(br#"{"t":"done","seq":1,"address":"x"}"#).is_err());
        assert!(parse_line(br#"{"t":"done","seq":1,"address":"x","remove":false}"#).is_err());
        assert!(parse_line(br#"{"t":"unknown","seq":1}"#).is_err());
    }
}
