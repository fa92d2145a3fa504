//! `tags` and `tags_all`: what the resource's own block says, and that merged
//! over the provider's `default_tags` (the resource wins on a clash), which is
//! what is sent to AWS.

use std::collections::BTreeMap;

use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{str_map, string_map, with};

/// Adds `tags` and `tags_all` to a schema.
pub fn add(schema: Schema) -> Schema {
    schema.attr("tags", Attribute::optional()).attr(
        "tags_all",
        Attribute::computed().describe("tags merged over the provider's default_tags"),
    )
}

/// The plan hook's part: `tags_all` is known as soon as `tags` is.
pub fn plan(default_tags: &BTreeMap<String, String>, proposed: Value) -> Value {
    match proposed.get("tags") {
        Some(t) if t.is_unknown() => with(&proposed, "tags_all", Value::Unknown),
        _ => {
            let all = merged(default_tags, &proposed);
            with(&proposed, "tags_all", string_map(all))
        }
    }
}

/// The tags to send: default tags overlaid with the resource's own.
pub fn merged(default_tags: &BTreeMap<String, String>, v: &Value) -> BTreeMap<String, String> {
    let mut all = default_tags.clone();
    all.extend(str_map(v, "tags"));
    all
}

/// What changed between two tag sets: (set or changed, removed keys).
pub fn delta(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, removed)
}

/// `tags_all` as recorded (used to compute what an update must change).
pub fn recorded(v: &Value) -> BTreeMap<String, String> {
    str_map(v, "tags_all").into_iter().collect()
}

/// Tags as AWS reports them, keyed, without the `aws:` ones (which nobody can
/// set, so they never count as drift).
pub fn from_pairs<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// `tags` for an imported object: its tags less those the provider's
/// `default_tags` give with the same value (null when none is left), as
/// Terraform imports them.
pub fn imported(default_tags: &BTreeMap<String, String>, all: &BTreeMap<String, String>) -> Value {
    let own: BTreeMap<String, String> = all
        .iter()
        .filter(|(k, v)| default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() {
        Value::Null
    } else {
        string_map(own)
    }
}
