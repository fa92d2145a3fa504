//! The dynamic value every expression evaluates to.
//!
//! Two marks ride on top of plain data, as in Terraform: *unknown* (a value that
//! will only exist after apply, printed `(known after apply)`) and *sensitive*
//! (printed `(sensitive value)`, and carried through every expression that
//! touches it). State stores only known values, as JSON, so the conversions to
//! and from `serde_json::Value` live here too.

use std::fmt;

/// Objects and maps share one representation. Keys are kept sorted, which is
/// the iteration order Terraform users expect from `keys()`, `for` and `for_each`.
pub use crate::map::Map;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// Lists, tuples and sets (sets are kept sorted and without duplicates by
    /// the functions that make them).
    List(Vec<Value>),
    Map(Map),
    /// Not known until apply.
    Unknown,
    /// A value marked sensitive; never nested directly inside another mark.
    Sensitive(Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// Marks a value sensitive (idempotent).
    pub fn sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// Marks the value sensitive when `yes`; leaves it alone otherwise.
    pub fn mark_if(self, yes: bool) -> Value {
        if yes { self.sensitive() } else { self }
    }

    /// The value without its top-level sensitive mark, and whether it had one.
    pub fn unmark(&self) -> (&Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner, true),
            other => (other, false),
        }
    }

    /// Consumes the value and returns it without its top-level mark.
    pub fn into_unmarked(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => (*inner, true),
            other => (other, false),
        }
    }

    /// Removes sensitive marks at every depth.
    pub fn deep_unmark(mut self) -> Value {
        self.unmark_in_place();
        self
    }

    /// [`Value::deep_unmark`] in place: a value without marks is walked,
    /// never rebuilt.
    fn unmark_in_place(&mut self) {
        while let Value::Sensitive(inner) = self {
            let unmarked = std::mem::replace(inner.as_mut(), Value::Null);
            *self = unmarked;
        }
        match self {
            Value::List(items) => items.iter_mut().for_each(Value::unmark_in_place),
            Value::Map(map) => map.values_mut().for_each(Value::unmark_in_place),
            _ => {}
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when a sensitive mark sits anywhere inside.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(map) => map.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmark().0, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unmark().0, Value::Unknown)
    }

    /// True when no unknown sits anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Sensitive(inner) => inner.is_wholly_known(),
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(map) => map.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// A short type name for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "object",
            Value::Unknown => "unknown",
            Value::Sensitive(inner) => inner.type_name(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmark().0 {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.unmark().0 {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmark().0 {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unmark().0 {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self.unmark().0 {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// An attribute of an object value (`None` when absent or not an object).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// The string form used by templates and `tostring`: numbers without a
    /// trailing `.0`, bools as `true`/`false`. `None` for collections, null and
    /// unknown, which have no string form.
    pub fn to_template_string(&self) -> Option<String> {
        match self.unmark().0 {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Converts known data to JSON. Unknowns have no JSON form: `None`.
    /// Sensitive marks are dropped (use [`Value::sensitive_paths`] first).
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(Value::to_json)
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Map(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), v.to_json()?)))
                    .collect::<Option<serde_json::Map<_, _>>>()?,
            ),
            Value::Unknown => return None,
            Value::Sensitive(inner) => return inner.to_json(),
        })
    }

    /// Like [`Value::to_json`], but unknowns become JSON null.
    pub fn to_json_lossy(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json_lossy).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_lossy()))
                    .collect(),
            ),
            Value::Sensitive(inner) => inner.to_json_lossy(),
        }
    }

    /// The known part, as JSON: object attributes whose value is unknown are
    /// left out (not the whole object nulled, as [`Value::to_json`] does),
    /// unknown list elements become null. What a crash-cut create journals
    /// before the call, so the object can be looked up by what was known.
    pub fn to_json_known(&self) -> serde_json::Value {
        match self {
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json_known).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter()
                    .filter(|(_, v)| !v.is_unknown())
                    .map(|(k, v)| (k.clone(), v.to_json_known()))
                    .collect(),
            ),
            Value::Sensitive(inner) => inner.to_json_known(),
            other => other.to_json_lossy(),
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Names of the top-level attributes of an object that carry a sensitive
    /// mark anywhere inside; this is what the state records.
    pub fn sensitive_attributes(&self) -> Vec<String> {
        match self.as_map() {
            Some(map) => map
                .iter()
                .filter(|(_, v)| v.contains_sensitive())
                .map(|(k, _)| k.clone())
                .collect(),
            None => Vec::new(),
        }
    }

    /// Re-applies the marks recorded by [`Value::sensitive_attributes`].
    pub fn with_sensitive_attributes(self, names: &[String]) -> Value {
        if names.is_empty() {
            return self;
        }
        match self {
            Value::Map(mut map) => {
                for name in names {
                    if let Some(v) = map.remove(name) {
                        map.insert(name.clone(), v.sensitive());
                    }
                }
                Value::Map(map)
            }
            other => other,
        }
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::Number((n as i64).into())
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Numbers print like Terraform's: whole numbers without a fraction.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl fmt::Display for Value {
    /// HCL-like literal syntax, used in diagnostics and `console`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?} = {v}")?;
                }
                f.write_str("}")
            }
            Value::Unknown => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive value)"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_json_leaves_out_unknown_attributes_only() {
        let mut m = Map::new();
        m.insert("id".into(), Value::Unknown);
        m.insert("name".into(), Value::string("web"));
        m.insert(
            "ports".into(),
            Value::List(vec![Value::Number(80.0), Value::Unknown]),
        );
        m.insert("token".into(), Value::string("s").sensitive());
        assert_eq!(Value::Map(m.clone()).to_json(), None);
        assert_eq!(
            Value::Map(m).to_json_known(),
            serde_json::json!({"name": "web", "ports": [80, null], "token": "s"})
        );
    }

    use super::*;

    #[test]
    fn numbers_print_without_fraction_when_whole() {
        assert_eq!(Value::Number(3.0).to_string(), "3");
        assert_eq!(Value::Number(2.5).to_string(), "2.5");
        assert_eq!(Value::from_json(&serde_json::json!(7)), Value::Number(7.0));
        assert_eq!(Value::Number(7.0).to_json(), Some(serde_json::json!(7)));
    }

    #[test]
    fn unknown_has_no_json_and_sensitive_prints_masked() {
        let v = Value::List(vec![Value::Unknown]);
        assert_eq!(v.to_json(), None);
        assert!(!v.is_wholly_known());
        let s = Value::string("hunter2").sensitive();
        assert_eq!(s.to_string(), "(sensitive value)");
        assert_eq!(s.clone().sensitive(), s);
    }

    #[test]
    fn sensitive_attributes_round_trip() {
        let mut m = Map::new();
        m.insert("a".into(), Value::string("x").sensitive());
        m.insert("b".into(), Value::string("y"));
        let v = Value::Map(m);
        let names = v.sensitive_attributes();
        assert_eq!(names, vec!["a".to_string()]);
        let plain = v.clone().deep_unmark();
        assert_eq!(plain.with_sensitive_attributes(&names), v);
    }

    #[test]
    fn deep_unmark_removes_marks_at_every_depth() {
        let mut inner = Map::new();
        inner.insert("password".into(), Value::string("hunter2").sensitive());
        inner.insert("user".into(), Value::string("admin"));
        let marked = Value::List(vec![
            Value::Sensitive(Box::new(Value::Map(inner).sensitive())),
            Value::Number(1.0).sensitive(),
        ]);
        let mut plain_inner = Map::new();
        plain_inner.insert("password".into(), Value::string("hunter2"));
        plain_inner.insert("user".into(), Value::string("admin"));
        let plain = Value::List(vec![Value::Map(plain_inner), Value::Number(1.0)]);
        assert!(marked.contains_sensitive());
        assert_eq!(marked.deep_unmark(), plain);
        assert_eq!(plain.clone().deep_unmark(), plain);
    }
}
