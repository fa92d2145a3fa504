//! Reading configuration values and building result objects. Values arrive as
//! objects keyed by attribute name; nested blocks as lists of objects.

use dumcel_planner::{Map, Value};

use crate::error::{AwsError, AwsResult};

/// A set, non-null string attribute.
pub fn opt_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A string attribute that must be set.
pub fn req_str<'a>(v: &'a Value, key: &str) -> AwsResult<&'a str> {
    opt_str(v, key).ok_or_else(|| AwsError::invalid(format!("\"{key}\" must be a string")))
}

pub fn opt_bool(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// A whole number attribute, checked to fit an `i32` (AWS's ports, counts and sizes).
pub fn opt_i32(v: &Value, key: &str) -> AwsResult<Option<i32>> {
    match v.get(key).and_then(Value::as_f64) {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) => {
            Ok(Some(n as i32))
        }
        Some(n) => Err(AwsError::invalid(format!(
            "\"{key}\" must be a whole number, got {n}"
        ))),
    }
}

pub fn opt_i64(v: &Value, key: &str) -> AwsResult<Option<i64>> {
    Ok(opt_i32(v, key)?.map(i64::from))
}

/// A list of strings (null or absent: empty).
pub fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A map of strings, in key order (null or absent: empty).
pub fn str_map(v: &Value, key: &str) -> Vec<(String, String)> {
    v.get(key)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.to_template_string().map(|s| (k.clone(), s)))
                .collect()
        })
        .unwrap_or_default()
}

/// The objects of a nested block (absent: none).
pub fn blocks<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_list).unwrap_or(&[])
}

/// The one object of a `max_items = 1` block, if present.
pub fn block<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    blocks(v, key).first()
}

/// Builds an object from pairs.
pub fn obj<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The object with `key` set.
pub fn with(v: &Value, key: &str, value: Value) -> Value {
    let mut m = v.as_map().cloned().unwrap_or_default();
    m.insert(key.to_owned(), value);
    Value::Map(m)
}

/// The object with every pair set.
pub fn with_all<'a>(v: &Value, pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let mut m = v.as_map().cloned().unwrap_or_default();
    for (k, x) in pairs {
        m.insert(k.to_owned(), x);
    }
    Value::Map(m)
}

pub fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

/// An optional string as a value (None: null).
pub fn os(text: Option<&str>) -> Value {
    text.map(Value::string).unwrap_or(Value::Null)
}

pub fn n(x: impl Into<f64>) -> Value {
    Value::Number(x.into())
}

pub fn strings<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::List(items.into_iter().map(|x| Value::String(x.into())).collect())
}

pub fn string_map<I>(pairs: I) -> Value
where
    I: IntoIterator<Item = (String, String)>,
{
    Value::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// What a read reports for a nested block: AWS's view, narrowed to what the
/// configuration set. AWS fills in defaults (a health check's interval) that
/// the configuration never named; reporting them would show a change on every
/// plan. So each object keeps only the keys its recorded counterpart has
/// (non-null), with AWS's values; objects beyond the recorded ones are kept
/// whole, so added blocks still show as drift.
pub fn narrow_blocks(prior: &[Value], actual: Vec<Value>) -> Value {
    Value::List(
        actual
            .into_iter()
            .enumerate()
            .map(|(i, a)| match prior.get(i).and_then(Value::as_map) {
                Some(p) => narrow(p, a),
                None => a,
            })
            .collect(),
    )
}

fn narrow(prior: &Map, actual: Value) -> Value {
    let Value::Map(actual) = actual else {
        return actual;
    };
    let mut out = Map::new();
    for (k, pv) in prior {
        if pv.is_null() {
            out.insert(k.clone(), Value::Null);
            continue;
        }
        let av = actual.get(k).cloned().unwrap_or(Value::Null);
        let av = match (pv, av) {
            // Nested blocks inside blocks narrow the same way.
            (Value::List(pl), Value::List(al))
                if pl.iter().all(|x| x.as_map().is_some()) && !pl.is_empty() =>
            {
                narrow_blocks(pl, al)
            }
            (_, av) => av,
        };
        out.insert(k.clone(), av);
    }
    Value::Map(out)
}

/// `proposed` with `key` set to `default` when the configuration leaves it
/// out (a plan hook's way of showing AWS's default before apply).
pub fn or_default(proposed: Value, key: &str, default: Value) -> Value {
    if proposed
        .get(key)
        .is_none_or(|v| v.is_null() || v.is_unknown())
    {
        with(&proposed, key, default)
    } else {
        proposed
    }
}

/// A list AWS treats as a set (subnets, security groups, host names): the
/// recorded order when it holds the same members, else AWS's, sorted.
pub fn set_like(prior: Option<&Value>, mut actual: Vec<String>) -> Value {
    actual.sort();
    if let Some(p) = prior.and_then(Value::as_list) {
        let mut had: Vec<String> = p
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect();
        had.sort();
        if had.len() == p.len() && had == actual {
            return Value::List(p.to_vec());
        }
    }
    strings(actual)
}

/// AWS answers some numbers as text (a health check's port, a status code);
/// where the recorded value was written as the same number, report a number.
pub fn numbers_like(prior: &Value, actual: Value) -> Value {
    match (prior, actual) {
        (Value::Number(p), Value::String(a)) if a.trim().parse::<f64>().ok() == Some(*p) => {
            Value::Number(*p)
        }
        (Value::Map(p), Value::Map(a)) => Value::Map(
            a.into_iter()
                .map(|(k, v)| {
                    let v = match p.get(&k) {
                        Some(pv) => numbers_like(pv, v),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (Value::List(p), Value::List(a)) => Value::List(
            a.into_iter()
                .enumerate()
                .map(|(i, v)| match p.get(i) {
                    Some(pv) => numbers_like(pv, v),
                    None => v,
                })
                .collect(),
        ),
        (_, a) => a,
    }
}

/// A string or number attribute as text (`status_code = 404` or `"404"`).
pub fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::to_template_string)
}
