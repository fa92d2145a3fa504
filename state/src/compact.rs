//! Gives back the room serde_json's objects grew into while they were read.
//!
//! serde_json reads an object one entry at a time into an `IndexMap`, whose
//! first insert makes room for three entries: a resource's `attributes`
//! and its `triggers`, with two entries and one, took 728 bytes where 416
//! hold them. At 100,000 resources that was 31 MB of a no-op plan's peak
//! (bench/README.md, "Fifth pass"). Collected again, each object is
//! allocated at its length; the order of its keys is kept.

use serde_json::Value;

/// Rebuilds every object in `value` at its length. The depth is bounded by
/// serde_json's reader, which refuses nesting beyond 128 levels.
pub fn shrink(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                shrink(v);
            }
            *map = std::mem::take(map).into_iter().collect();
        }
        Value::Array(items) => {
            items.iter_mut().for_each(shrink);
            items.shrink_to_fit();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_every_value_and_the_order_of_keys() {
        let text = r#"{"z": 1, "a": {"y": [1, {"q": null, "b": true}], "c": "s"}, "m": []}"#;
        let mut value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let read = value.clone();
        super::shrink(&mut value);
        assert_eq!(value, read);
        assert_eq!(
            value.to_string(),
            r#"{"z":1,"a":{"y":[1,{"q":null,"b":true}],"c":"s"},"m":[]}"#
        );
    }
}
