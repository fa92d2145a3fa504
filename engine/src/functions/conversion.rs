//! Type conversion functions: tobool, tolist, tomap, tonumber, toset,
//! tostring, the mark functions sensitive, nonsensitive and issensitive,
//! and ephemeralasnull.
//!
//! Collections convert with Terraform's unification of primitive element
//! types: when strings, numbers and bools meet, they all become strings.
//! `nonsensitive` removes the top-level mark only (like Terraform), and does
//! not complain about values that were not sensitive (Terraform 1.6+).

use super::{Args, Arity, Def, FuncContext, invalid, make_set, parse_number, to_str, unify};
use dumcel_planner::{Map, Value};

pub(super) const FUNCTIONS: &[Def] = &[
    Def::raw("ephemeralasnull", Arity::Exactly(1), ephemeralasnull),
    Def::raw("issensitive", Arity::Exactly(1), issensitive),
    Def::raw("nonsensitive", Arity::Exactly(1), nonsensitive),
    Def::raw("sensitive", Arity::Exactly(1), sensitive),
    Def::new("tobool", Arity::Exactly(1), tobool),
    Def::new("tolist", Arity::Exactly(1), tolist),
    Def::new("tomap", Arity::Exactly(1), tomap),
    Def::new("tonumber", Arity::Exactly(1), tonumber),
    Def::new("toset", Arity::Exactly(1), toset),
    Def::new("tostring", Arity::Exactly(1), tostring),
];

fn cannot(v: &Value, to: &str) -> String {
    invalid("v", format!("cannot convert {} to {to}", v.type_name()))
}

fn sensitive(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(a.take(0).sensitive())
}

fn nonsensitive(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(a.take(0).into_unmarked().0)
}

/// Terraform: true for a value marked sensitive itself (not one that only
/// holds sensitive elements); unknown for an unmarked unknown.
fn issensitive(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let v = a.get(0);
    Ok(if v.is_sensitive() {
        Value::Bool(true)
    } else if matches!(v, Value::Unknown) {
        Value::Unknown
    } else {
        Value::Bool(false)
    })
}

/// Dumcel has no ephemeral values, so every value is returned as it is (with
/// its marks), which is what Terraform does with a non-ephemeral value.
fn ephemeralasnull(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(a.take(0))
}

fn tobool(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    match a.take(0) {
        v @ (Value::Null | Value::Bool(_)) => Ok(v),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        Value::String(s) => Err(invalid(
            "v",
            format!(
                "cannot convert {s:?} to bool; only the strings \"true\" or \"false\" are allowed"
            ),
        )),
        other => Err(cannot(&other, "bool")),
    }
}

fn tonumber(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    match a.take(0) {
        v @ (Value::Null | Value::Number(_)) => Ok(v),
        Value::String(s) => parse_number(&s)
            .map(Value::Number)
            .ok_or_else(|| invalid("v", format!("cannot convert {s:?} to number; given string must be a decimal representation of a number"))),
        other => Err(cannot(&other, "number")),
    }
}

fn tostring(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let v = a.take(0);
    if v.is_null() {
        return Ok(Value::Null);
    }
    match to_str(&v) {
        Some(s) => Ok(Value::String(s.into_owned())),
        None => Err(cannot(&v, "string")),
    }
}

fn tolist(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    match a.take(0) {
        Value::Null => Ok(Value::Null),
        Value::List(items) => Ok(Value::List(unify(items))),
        other => Err(cannot(&other, "list")),
    }
}

fn toset(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    match a.take(0) {
        Value::Null => Ok(Value::Null),
        Value::List(items) => Ok(Value::List(make_set(items))),
        other => Err(cannot(&other, "set")),
    }
}

fn tomap(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    match a.take(0) {
        Value::Null => Ok(Value::Null),
        Value::Map(map) => {
            let (keys, values): (Vec<String>, Vec<Value>) = map.into_iter().unzip();
            Ok(Value::Map(
                keys.into_iter().zip(unify(values)).collect::<Map>(),
            ))
        }
        other => Err(cannot(&other, "map")),
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;
    use dumcel_planner::Value;

    #[test]
    fn primitives() {
        assert_eq!(ok("tobool", vec![b(true)]), b(true));
        assert_eq!(ok("tobool", vec![s("false")]), b(false));
        assert_eq!(ok("tobool", vec![Value::Null]), Value::Null);
        assert!(err("tobool", vec![s("no")]).contains("\"no\""));
        assert!(err("tobool", vec![n(1.0)]).contains("cannot convert number to bool"));
        assert_eq!(ok("tonumber", vec![n(1.0)]), n(1.0));
        assert_eq!(ok("tonumber", vec![s("1")]), n(1.0));
        assert_eq!(ok("tonumber", vec![s("-2.5e1")]), n(-25.0));
        assert_eq!(ok("tonumber", vec![Value::Null]), Value::Null);
        assert!(err("tonumber", vec![s("no")]).contains("cannot convert \"no\" to number"));
        assert!(err("tonumber", vec![s("inf")]).contains("cannot convert"));
        assert!(err("tonumber", vec![s(" 1")]).contains("cannot convert"));
        assert_eq!(ok("tostring", vec![s("hello")]), s("hello"));
        assert_eq!(ok("tostring", vec![n(1.0)]), s("1"));
        assert_eq!(ok("tostring", vec![n(2.5)]), s("2.5"));
        assert_eq!(ok("tostring", vec![b(true)]), s("true"));
        assert_eq!(ok("tostring", vec![Value::Null]), Value::Null);
        assert_eq!(
            err("tostring", vec![strs(&["a"])]),
            "Invalid value for \"v\" parameter: cannot convert list to string"
        );
    }

    #[test]
    fn collections() {
        assert_eq!(ok("tolist", vec![strs(&["a", "b"])]), strs(&["a", "b"]));
        assert_eq!(
            ok("tolist", vec![list(vec![s("a"), b(true), n(5.0)])]),
            strs(&["a", "true", "5"])
        );
        assert!(err("tolist", vec![map(&[])]).contains("cannot convert object to list"));
        assert_eq!(ok("toset", vec![strs(&["c", "b", "b"])]), strs(&["b", "c"]));
        assert_eq!(
            ok("toset", vec![list(vec![s("a"), b(true), n(5.0), s("a")])]),
            strs(&["5", "a", "true"])
        );
        assert_eq!(
            ok("toset", vec![nums(&[10.0, 2.0, 2.0])]),
            nums(&[2.0, 10.0])
        );
        assert_eq!(
            ok("tomap", vec![map(&[("a", n(1.0)), ("b", b(true))])]),
            map(&[("a", s("1")), ("b", s("true"))])
        );
        assert!(err("tomap", vec![strs(&[])]).contains("cannot convert list to map"));
    }
}
