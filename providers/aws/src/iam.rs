//! What the IAM types share: policy documents (IAM answers them URL-encoded;
//! two documents that differ only in whitespace, key order, a single value
//! written as a string or a one-element list, or the order of a set-like list
//! are the same policy, as Terraform's `SuppressEquivalentPolicyDiffs` has
//! it), Terraform's generated names (`terraform-2024...`, `name_prefix` +
//! suffix), IAM tags and dates.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
use aws_sdk_iam::types::Tag;
use dumcel_planner::Value;

use crate::attrs::{opt_str, s, string_map, with};
use crate::error::{AwsError, AwsResult};

/// A policy document as IAM answers it: JSON, or JSON URL-encoded (RFC 3986),
/// as IAM sends role trust policies and inline policies.
pub(crate) fn decode(doc: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(doc).is_ok() {
        return doc.to_owned();
    }
    let bytes = doc.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |c: u8| (c as char).to_digit(16);
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| doc.to_owned())
}

/// The document in a canonical form: object keys sorted (serde_json's map
/// keeps insertion order here, so they are rebuilt sorted), one-element lists
/// as their element, lists of several sorted (IAM treats them as sets),
/// numbers and booleans as text, an empty `Sid` left out. `None` when it is
/// not JSON.
pub(crate) fn canonical(doc: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(doc).ok()?;
    Some(canon(v))
}

fn canon(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            let mut pairs: Vec<(String, J)> = m
                .into_iter()
                .filter(|(k, v)| !(k == "Sid" && v.as_str() == Some("")))
                .map(|(k, v)| (k, canon(v)))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            J::Object(pairs.into_iter().collect())
        }
        J::Array(items) => {
            let mut items: Vec<J> = items.into_iter().map(canon).collect();
            if items.len() == 1 {
                return items.remove(0);
            }
            items.sort_by_key(|x| x.to_string());
            items.dedup();
            J::Array(items)
        }
        J::Number(n) => J::String(n.to_string()),
        J::Bool(b) => J::String(b.to_string()),
        other => other,
    }
}

/// Whether two documents are the same policy.
pub(crate) fn equivalent(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The document a read reports: the recorded text when IAM's is the same
/// policy (so formatting is never drift), else IAM's, decoded.
pub(crate) fn read_policy(prior: Option<&Value>, key: &str, actual: &str) -> Value {
    let actual = decode(actual);
    match prior.and_then(|p| opt_str(p, key)) {
        Some(had) if equivalent(had, &actual) => s(had),
        _ => s(actual),
    }
}

/// The plan hook's part: the configured document, or the recorded text when
/// both are the same policy (a re-formatted document is no change).
pub(crate) fn plan_policy(prior: Option<&Value>, proposed: Value, key: &str) -> Value {
    let (Some(had), Some(want)) = (prior.and_then(|p| opt_str(p, key)), opt_str(&proposed, key))
    else {
        return proposed;
    };
    if had != want && equivalent(had, want) {
        let had = had.to_owned();
        with(&proposed, key, s(had))
    } else {
        proposed
    }
}

/// Validation: the attribute, when set and known, must be a JSON object.
pub(crate) fn check_policy(config: &Value, key: &str) -> Option<(String, String)> {
    let text = opt_str(config, key)?;
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => None,
        Ok(_) => Some((key.to_owned(), "must be a JSON object".to_owned())),
        Err(e) => Some((key.to_owned(), format!("must be valid JSON: {e}"))),
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Terraform's `id.PrefixedUniqueId`: the prefix, the UTC time to the
/// millisecond (`20240102150405` + three digits), and an 8-digit hex counter.
pub(crate) fn unique_id(prefix: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = DateTime::from_secs(now.as_secs() as i64)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default();
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let millis = now.subsec_millis();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{prefix}{digits}{millis:03}{n:08x}")
}

/// The name to create: `name`, else `name_prefix` plus a unique suffix,
/// else `terraform-` plus one, as Terraform names it.
pub(crate) fn name_of(planned: &Value) -> String {
    if let Some(n) = opt_str(planned, "name") {
        return n.to_owned();
    }
    unique_id(opt_str(planned, "name_prefix").unwrap_or("terraform-"))
}

/// Validation of `name` / `name_prefix`: not both.
pub(crate) fn check_name(config: &Value) -> Option<(String, String)> {
    let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
    (set("name") && set("name_prefix")).then(|| {
        (
            "name_prefix".to_owned(),
            "conflicts with name: set one of them".to_owned(),
        )
    })
}

pub(crate) fn iam_tags(all: BTreeMap<String, String>) -> AwsResult<Vec<Tag>> {
    all.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::invalid(e.to_string()))
        })
        .collect()
}

/// The tags IAM holds (`aws:` ones, which nobody can set, left out).
pub(crate) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// `tags` for an imported object: IAM's tags less those the provider's
/// `default_tags` give with the same value (null when none is left).
pub(crate) fn imported_tags(default_tags: &BTreeMap<String, String>, tags: &[Tag]) -> Value {
    let own: BTreeMap<String, String> = tag_map(tags)
        .into_iter()
        .filter(|(k, v)| default_tags.get(k) != Some(v))
        .collect();
    if own.is_empty() {
        Value::Null
    } else {
        string_map(own)
    }
}

/// A date as Terraform records it (RFC 3339).
pub(crate) fn date(d: Option<&DateTime>) -> Value {
    d.and_then(|d| d.fmt(DateTimeFormat::DateTime).ok())
        .map(s)
        .unwrap_or(Value::Null)
}

/// An optional string IAM may answer as empty: null then.
pub(crate) fn text(v: Option<&str>) -> Value {
    match v {
        Some(x) if !x.is_empty() => s(x),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents_are_decoded() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Action%22%3A%22s3%3A%2A%22%7D";
        assert_eq!(decode(enc), r#"{"Version":"2012-10-17","Action":"s3:*"}"#);
        let plain = r#"{"a":"100%"}"#;
        assert_eq!(decode(plain), plain);
    }

    #[test]
    fn formatting_key_order_and_single_values_are_no_difference() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*","Sid":""}]}"#;
        let b = r#"{
            "Statement": {"Resource": ["*"], "Action": ["s3:List*", "s3:Get*"], "Effect": "Allow"},
            "Version": "2012-10-17"
        }"#;
        assert!(equivalent(a, b));
        let c = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        assert!(!equivalent(a, c));
    }

    #[test]
    fn plans_keep_the_recorded_text_of_the_same_policy() {
        let prior = crate::attrs::obj([("policy", s(r#"{"a":["x"]}"#))]);
        let same = crate::attrs::obj([("policy", s(r#"{ "a": "x" }"#))]);
        assert_eq!(
            plan_policy(Some(&prior), same, "policy").get("policy"),
            prior.get("policy")
        );
        let other = crate::attrs::obj([("policy", s(r#"{"a":"y"}"#))]);
        assert_eq!(plan_policy(Some(&prior), other.clone(), "policy"), other);
    }

    #[test]
    fn unique_ids_look_like_terraforms() {
        let a = unique_id("terraform-");
        let b = unique_id("terraform-");
        assert_ne!(a, b);
        assert_eq!(a.len(), "terraform-".len() + 25, "{a}");
        assert!(
            a["terraform-".len()..]
                .chars()
                .all(|c| c.is_ascii_hexdigit())
        );
    }
}
