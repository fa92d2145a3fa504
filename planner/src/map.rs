//! The map inside object and map values: string keys kept sorted in one
//! vector.
//!
//! Most maps a stack holds are small (a resource's attributes, `triggers`,
//! `tags`), and there are many of them: several copies per resource between
//! state, configuration and plan. A `BTreeMap` allocates a whole node (632
//! bytes for these keys and values) for a map of one entry; a sorted vector
//! allocates what it holds, and copies with one allocation. Lookups are a
//! binary search either way. An insert into the middle of a large map moves
//! the entries after it, so maps are built in key order (`insert` appends
//! then) or collected (`FromIterator` sorts once).
//!
//! `litemap` is the same idea as a crate, but enabling its `alloc` feature
//! changes a feature of a crate the AWS SDK depends on, and with it every SDK
//! crate's build.

use std::fmt;

use crate::value::Value;

#[derive(Clone, PartialEq, Default)]
pub struct Map {
    /// Sorted by key, without repeats.
    entries: Vec<(String, Value)>,
}

impl Map {
    pub const fn new() -> Map {
        Map {
            entries: Vec::new(),
        }
    }

    pub fn with_capacity(capacity: usize) -> Map {
        Map {
            entries: Vec::with_capacity(capacity),
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        // Appending in order is the common case: check the end first.
        match self.entries.last() {
            Some((last, _)) if last.as_str() < key => Err(self.entries.len()),
            _ => self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key)),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn get_key_value(&self, key: &str) -> Option<(&String, &Value)> {
        self.find(key).ok().map(|i| {
            let (k, v) = &self.entries[i];
            (k, v)
        })
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Returns the value it replaced, as `BTreeMap::insert` does.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn remove_entry(&mut self, key: &str) -> Option<(String, Value)> {
        self.find(key).ok().map(|i| self.entries.remove(i))
    }

    pub fn entry(&mut self, key: String) -> Entry<'_> {
        match self.find(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry {
                map: self,
                index,
                key,
            }),
        }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn append(&mut self, other: &mut Map) {
        self.extend(std::mem::take(&mut other.entries));
    }

    pub fn first_key_value(&self) -> Option<(&String, &Value)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    pub fn last_key_value(&self) -> Option<(&String, &Value)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(self.entries.iter_mut())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = String> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

/// `BTreeMap`'s entry API, the part the engine uses.
pub enum Entry<'a> {
    Occupied(OccupiedEntry<'a>),
    Vacant(VacantEntry<'a>),
}

pub struct OccupiedEntry<'a> {
    map: &'a mut Map,
    index: usize,
}

pub struct VacantEntry<'a> {
    map: &'a mut Map,
    index: usize,
    key: String,
}

impl<'a> Entry<'a> {
    pub fn or_insert(self, default: Value) -> &'a mut Value {
        self.or_insert_with(|| default)
    }

    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }

    pub fn or_insert_with(self, default: impl FnOnce() -> Value) -> &'a mut Value {
        match self {
            Entry::Occupied(OccupiedEntry { map, index }) => &mut map.entries[index].1,
            Entry::Vacant(VacantEntry { map, index, key }) => {
                map.entries.insert(index, (key, default()));
                &mut map.entries[index].1
            }
        }
    }

    pub fn and_modify(self, f: impl FnOnce(&mut Value)) -> Entry<'a> {
        match self {
            Entry::Occupied(o) => {
                f(&mut o.map.entries[o.index].1);
                Entry::Occupied(o)
            }
            vacant => vacant,
        }
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, Value)> for Map {
    /// Sorts once; of repeated keys the last wins, as with `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Map {
        let mut map = Map::new();
        map.extend(iter);
        map
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let sorted_before = self.entries.len();
        self.entries.extend(iter);
        let in_order = self.entries[sorted_before.saturating_sub(1)..]
            .windows(2)
            .all(|w| w[0].0 < w[1].0);
        if in_order {
            return;
        }
        // Stable: of repeated keys, the one added last is last in its run.
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut deduped: Vec<(String, Value)> = Vec::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            match deduped.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => deduped.push(entry),
            }
        }
        self.entries = deduped;
    }
}

impl<const N: usize> From<[(String, Value); N]> for Map {
    fn from(entries: [(String, Value); N]) -> Map {
        entries.into_iter().collect()
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        self.get(key).expect("no entry found for key")
    }
}

pub struct Iter<'a>(std::slice::Iter<'a, (String, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl Clone for Iter<'_> {
    fn clone(&self) -> Self {
        Iter(self.0.clone())
    }
}

pub struct IterMut<'a>(std::slice::IterMut<'a, (String, Value)>);

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a String, &'a mut Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}

impl ExactSizeIterator for IterMut<'_> {}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(map: &Map) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    #[test]
    fn inserts_in_any_order_iterate_sorted() {
        let mut map = Map::new();
        for k in ["m", "a", "z", "c", "b"] {
            assert_eq!(map.insert(k.into(), Value::from(k)), None);
        }
        assert_eq!(keys(&map), ["a", "b", "c", "m", "z"]);
        assert_eq!(map.insert("c".into(), Value::Null), Some(Value::from("c")));
        assert_eq!(map.get("c"), Some(&Value::Null));
        assert_eq!(map.remove("m"), Some(Value::from("m")));
        assert_eq!(keys(&map), ["a", "b", "c", "z"]);
        assert!(!map.contains_key("m"));
    }

    #[test]
    fn collecting_keeps_the_last_of_repeated_keys_like_btreemap() {
        let pairs = [("b", 1.0), ("a", 2.0), ("b", 3.0), ("c", 4.0), ("a", 5.0)];
        let map: Map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Number(*v)))
            .collect();
        let tree: std::collections::BTreeMap<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Number(*v)))
            .collect();
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            tree.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn extending_a_sorted_map_merges_and_replaces() {
        let mut map = Map::from([
            ("a".to_string(), Value::Null),
            ("c".to_string(), Value::Null),
        ]);
        map.extend([
            ("b".to_string(), Value::Bool(true)),
            ("c".to_string(), Value::Bool(false)),
        ]);
        assert_eq!(keys(&map), ["a", "b", "c"]);
        assert_eq!(map.get("c"), Some(&Value::Bool(false)));
    }

    #[test]
    fn entry_inserts_once_in_place() {
        let mut map = Map::from([
            ("a".to_string(), Value::Null),
            ("c".to_string(), Value::Null),
        ]);
        *map.entry("b".into()).or_insert(Value::Number(1.0)) = Value::Number(2.0);
        map.entry("b".into()).or_insert(Value::Number(9.0));
        map.entry("a".into()).and_modify(|v| *v = Value::Bool(true));
        assert_eq!(keys(&map), ["a", "b", "c"]);
        assert_eq!(map.get("b"), Some(&Value::Number(2.0)));
        assert_eq!(map.get("a"), Some(&Value::Bool(true)));
    }
}
