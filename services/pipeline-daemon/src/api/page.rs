//! Paging of the deployment history: newest first, by when each started
//! (then by delivery id, for pushes started in the same second). The cursor
//! is the last item's key, so pages stay stable while new pushes arrive.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::ApiError;
use crate::records::Record;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

pub fn limit(text: Option<&str>) -> Result<usize, ApiError> {
    match text {
        None => Ok(DEFAULT_LIMIT),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "limit {t:?}: give a number from 1 to {MAX_LIMIT}"
            ))),
        },
    }
}

fn key(r: &Record) -> (&str, &str) {
    (&r.started_at, &r.delivery)
}

fn cursor_of(r: &Record) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\n{}", r.started_at, r.delivery))
}

fn parse_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| {
            t.split_once('\n')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
        })
        .ok_or_else(|| {
            ApiError::invalid(
                "cursor: not one this API gave out; pass a page's `next_cursor` as it was",
            )
        })
}

/// One page of `records` (in any order) after `cursor`, and the cursor of
/// the next page when there is one.
pub fn page(
    mut records: Vec<Record>,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<Record>, Option<String>), ApiError> {
    records.sort_by(|a, b| key(b).cmp(&key(a)));
    if let Some(cursor) = cursor {
        let (started, delivery) = parse_cursor(cursor)?;
        let after = (started.as_str(), delivery.as_str());
        records.retain(|r| key(r) < after);
    }
    let next = (records.len() > limit).then(|| cursor_of(&records[limit - 1]));
    records.truncate(limit);
    Ok((records, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Outcome;

    fn record(started_at: &str, delivery: &str) -> Record {
        let mut r = Record::start("p", "production", delivery, "main", "sha");
        r.started_at = started_at.into();
        r.outcome = Outcome::Succeeded;
        r
    }

    #[test]
    fn pages_walk_every_record_once_newest_first() {
        let records: Vec<Record> = (0..7)
            .map(|i| record(&format!("2026-12-01T10:00:0{}Z", i / 2), &format!("d{i}")))
            .collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (items, next) = page(records.clone(), cursor.as_deref(), 3).unwrap();
            seen.extend(items.into_iter().map(|r| r.delivery));
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["d6", "d5", "d4", "d3", "d2", "d1", "d0"]);
        assert!(page(records, Some("@@not base64"), 3).is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "x", ""] {
            assert!(limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
