//! Reads a JSON object into a `BTreeMap` in one pass.
//!
//! serde's own `BTreeMap` reader inserts each entry, a search from the root
//! per key: at 100,000 resources those searches were 66 of the 1,014 perf
//! samples of a no-op plan (bench/README.md, "Fifth pass"). Collected first,
//! `BTreeMap::from_iter` sorts once (a state file is already in order, so
//! that is one pass) and builds the tree bottom-up. A key given twice keeps
//! its last value, as serde's reader does.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

pub fn deserialize<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Entries<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // The hint comes from the input: cap it, as serde's own readers do.
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
            while let Some(entry) = map.next_entry::<String, V>()? {
                entries.push(entry);
            }
            Ok(entries.into_iter().collect())
        }
    }

    deserializer.deserialize_map(Entries(PhantomData))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "super::deserialize")]
        map: BTreeMap<String, u32>,
    }

    fn read(json: &str) -> BTreeMap<String, u32> {
        serde_json::from_str::<Holder>(json)
            .map(|h| h.map)
            .unwrap_or_default()
    }

    #[test]
    fn reads_keys_in_any_order_and_keeps_the_last_of_a_repeated_key() {
        let map = read(r#"{"map": {"b": 2, "a": 1, "c": 3, "a": 4}}"#);
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            [("a".into(), 4), ("b".into(), 2), ("c".into(), 3)]
        );
    }

    #[test]
    fn rejects_what_is_not_an_object() {
        assert!(serde_json::from_str::<Holder>(r#"{"map": [1, 2]}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"map": {"a": "x"}}"#).is_err());
    }
}
