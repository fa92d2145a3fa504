//! Reading attributes out of the plain `Value` objects the engine hands a
//! provider, and building the objects it returns. Configuration is checked in
//! `validate`, but values from state or an old version may still be anything,
//! so nothing here panics: a wrong type is a typed error.

use std::collections::HashMap;

use dumcel_planner::{Map, Value};

use crate::error::DockerError;

/// A string attribute; `None` when null or absent.
pub fn opt_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// A string attribute that must be set.
pub fn req_str<'a>(v: &'a Value, name: &str) -> Result<&'a str, DockerError> {
    opt_str(v, name).ok_or_else(|| DockerError::Invalid(format!("\"{name}\" must be a string")))
}

pub fn bool_or(v: &Value, name: &str, default: bool) -> bool {
    v.get(name).and_then(Value::as_bool).unwrap_or(default)
}

pub fn opt_num(v: &Value, name: &str) -> Option<f64> {
    v.get(name).and_then(Value::as_f64)
}

/// A list of strings (null: empty).
pub fn string_list(v: &Value, name: &str) -> Result<Vec<String>, DockerError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|i| {
                i.to_template_string().ok_or_else(|| {
                    DockerError::Invalid(format!(
                        "\"{name}\" must be a list of strings, found a {}",
                        i.type_name()
                    ))
                })
            })
            .collect(),
        Some(other) => Err(DockerError::Invalid(format!(
            "\"{name}\" must be a list of strings, got {}",
            other.type_name()
        ))),
    }
}

/// A map of strings (null: empty). Numbers and bools are written as text.
pub fn string_map(v: &Value, name: &str) -> Result<HashMap<String, String>, DockerError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(HashMap::new()),
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, i)| {
                i.to_template_string()
                    .map(|s| (k.clone(), s))
                    .ok_or_else(|| {
                        DockerError::Invalid(format!(
                            "\"{name}\".{k} must be a string, got {}",
                            i.type_name()
                        ))
                    })
            })
            .collect(),
        Some(other) => Err(DockerError::Invalid(format!(
            "\"{name}\" must be a map of strings, got {}",
            other.type_name()
        ))),
    }
}

/// The objects of a nested block (absent: none).
pub fn blocks<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.get(name).and_then(Value::as_list).unwrap_or(&[])
}

/// `v` with the given attributes set.
pub fn with(v: &Value, pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut map: Map = v.as_map().cloned().unwrap_or_default();
    for (k, val) in pairs {
        map.insert(k.to_owned(), val);
    }
    Value::Map(map)
}

pub fn string_map_value<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// A Docker duration (nanoseconds) from text like `"5s"` or `"1m30s"`.
pub fn duration_nanos(text: &str) -> Result<i64, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration such as \"5s\": {e}"))
        .and_then(|d| {
            i64::try_from(d.as_nanos()).map_err(|_| format!("{text:?} is too long a duration"))
        })
}

/// Checks that `name` holds a string when set (configuration checks).
pub fn check_string(config: &Value, name: &str, errors: &mut Vec<(String, String)>) {
    match config.get(name) {
        None | Some(Value::Null) | Some(Value::Unknown) | Some(Value::String(_)) => {}
        Some(other) => errors.push((
            name.to_owned(),
            format!("must be a string, got {}", other.type_name()),
        )),
    }
}

/// Checks that `name` holds a bool when set.
pub fn check_bool(config: &Value, name: &str, errors: &mut Vec<(String, String)>) {
    match config.get(name) {
        None | Some(Value::Null) | Some(Value::Unknown) | Some(Value::Bool(_)) => {}
        Some(other) => errors.push((
            name.to_owned(),
            format!("must be true or false, got {}", other.type_name()),
        )),
    }
}

/// Checks that `name` holds a map whose values are strings, numbers or bools.
pub fn check_string_map(config: &Value, name: &str, errors: &mut Vec<(String, String)>) {
    if config.get(name).is_some_and(|v| !v.is_wholly_known()) {
        return;
    }
    if let Err(e) = string_map(config, name) {
        errors.push((name.to_owned(), e.to_string()));
    }
}

/// Checks that `name` holds a list of strings.
pub fn check_string_list(config: &Value, name: &str, errors: &mut Vec<(String, String)>) {
    if config.get(name).is_some_and(|v| !v.is_wholly_known()) {
        return;
    }
    if let Err(e) = string_list(config, name) {
        errors.push((name.to_owned(), e.to_string()));
    }
}
