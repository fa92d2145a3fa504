//! Reads a JSON value with every object and array allocated at its length.
//!
//! serde_json's own reader inserts an object's entries one at a time into an
//! `IndexMap`, whose first insert makes room for three: a resource's
//! `attributes` and its `triggers`, with two entries and one, took 728 bytes
//! where 416 hold them. At 100,000 resources that was 31 MB of a no-op plan's
//! peak (bench/README.md, "Fifth pass"). The state's attributes were rebuilt
//! at their length once read, a second pass over a state that no longer
//! fits in the processor's caches at that size ("Eighth pass"); this reader
//! collects each object's entries and builds its map once, while they are
//! still in cache. The order of keys is kept, and a key given twice keeps its
//! last value in its first place, as serde_json's reader does.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// `#[serde(deserialize_with)]` for a `serde_json::Value` field.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    deserializer.deserialize_any(Compact)
}

/// The reader of one value, at any depth. The depth is bounded by
/// serde_json's parser, which refuses nesting beyond 128 levels.
struct Compact;

impl<'de> DeserializeSeed<'de> for Compact {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Compact {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // What serde_json does with a number JSON cannot hold.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(Compact)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Compact)? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Compact)?;
            entries.push((key, value));
        }
        // Built from an exact-size iterator: allocated at its length.
        Ok(Value::Object(entries.into_iter().collect::<Map<_, _>>()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn read(text: &str) -> Value {
        let mut de = serde_json::Deserializer::from_str(text);
        super::deserialize(&mut de).unwrap_or_default()
    }

    #[test]
    fn reads_every_value_as_serde_json_does_and_keeps_the_order_of_keys() {
        let text = r#"{"z": 1, "a": {"y": [1, -2, 2.5, {"q": null, "b": true}], "c": "s\n"}, "m": [], "o": {}}"#;
        let value = read(text);
        assert_eq!(
            value,
            serde_json::from_str::<Value>(text).unwrap_or_default()
        );
        assert_eq!(
            value.to_string(),
            r#"{"z":1,"a":{"y":[1,-2,2.5,{"q":null,"b":true}],"c":"s\n"},"m":[],"o":{}}"#
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
        let text = r#"{"b": 1, "a": 2, "b": 3}"#;
        let value = read(text);
        assert_eq!(value.to_string(), r#"{"b":3,"a":2}"#);
        assert_eq!(
            value,
            serde_json::from_str::<Value>(text).unwrap_or_default()
        );
    }

    #[test]
    fn arrays_have_no_spare_room() {
        let value = read(r#"{"l": [1, 2, 3, 4, 5]}"#);
        let list = value.get("l").and_then(Value::as_array);
        assert_eq!(list.map(Vec::capacity), Some(5));
    }

    #[test]
    fn what_is_not_json_is_refused() {
        let mut de = serde_json::Deserializer::from_str(r#"{"a": [1, }"#);
        assert!(super::deserialize(&mut de).is_err());
    }
}
