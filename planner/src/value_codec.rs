//! How values with marks are written into plan files. Unknowns and sensitive
//! values become small tagged objects; a sensitive value is *redacted* (its
//! content is never written), because secrets never appear in plans. Apply
//! re-evaluates configuration, so it never needs the redacted content.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::{Map, Value};

const UNKNOWN: &str = "__dumcel_unknown__";
const SENSITIVE: &str = "__dumcel_sensitive__";

pub fn encode(value: &Value) -> serde_json::Value {
    match value {
        Value::Unknown => serde_json::json!({ UNKNOWN: true }),
        Value::Sensitive(_) => serde_json::json!({ SENSITIVE: true }),
        Value::List(items) => serde_json::Value::Array(items.iter().map(encode).collect()),
        Value::Map(map) => {
            serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), encode(v))).collect())
        }
        known => known.to_json_lossy(),
    }
}

pub fn decode(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Object(map) if map.len() == 1 && map.contains_key(UNKNOWN) => {
            Value::Unknown
        }
        serde_json::Value::Object(map) if map.len() == 1 && map.contains_key(SENSITIVE) => {
            Value::Null.sensitive()
        }
        serde_json::Value::Array(items) => Value::List(items.iter().map(decode).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), decode(v)))
                .collect::<Map>(),
        ),
        other => Value::from_json(other),
    }
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().map(encode).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        let json = Option::<serde_json::Value>::deserialize(d)?;
        Ok(json.as_ref().map(decode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_round_trips_and_secrets_are_redacted() {
        let mut m = Map::new();
        m.insert("id".into(), Value::Unknown);
        m.insert("pw".into(), Value::string("hunter2").sensitive());
        m.insert("n".into(), Value::Number(2.0));
        let v = Value::Map(m);
        let json = encode(&v);
        assert!(!json.to_string().contains("hunter2"));
        let back = decode(&json);
        assert_eq!(back.get("id"), Some(&Value::Unknown));
        assert!(back.get("pw").unwrap().is_sensitive());
        assert_eq!(back.get("n"), Some(&Value::Number(2.0)));
    }
}
