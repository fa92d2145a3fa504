//! Operators on values: arithmetic, comparison, logic, with Terraform's
//! conversions (a numeric string is a number, "true" is a bool).

use dumcel_planner::Value;

use crate::config::ast::{BinaryOp, UnaryOp};

pub fn to_number(v: &Value) -> Option<f64> {
    match v.unmark().0 {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn to_bool(v: &Value) -> Option<bool> {
    match v.unmark().0 {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Deep equality ignoring marks; numbers compare by value.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a.unmark().0, b.unmark().0) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        (a, b) => a == b,
    }
}

pub fn unary(op: UnaryOp, v: &Value) -> Result<Value, String> {
    let (inner, sensitive) = v.unmark();
    if inner.is_unknown() {
        return Ok(Value::Unknown);
    }
    let out = match op {
        UnaryOp::Neg => Value::Number(-to_number(inner).ok_or_else(|| {
            format!(
                "Unsuitable value for unary operand: a number is required, got {}",
                inner.type_name()
            )
        })?),
        UnaryOp::Not => Value::Bool(!to_bool(inner).ok_or_else(|| {
            format!(
                "Unsuitable value for unary operand: a bool is required, got {}",
                inner.type_name()
            )
        })?),
    };
    Ok(out.mark_if(sensitive))
}

pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, String> {
    let sensitive = a.contains_sensitive() || b.contains_sensitive();
    let (a, _) = a.unmark();
    let (b, _) = b.unmark();
    let result = match op {
        BinaryOp::Eq | BinaryOp::NotEq => {
            if !a.is_wholly_known() || !b.is_wholly_known() {
                return Ok(Value::Unknown);
            }
            let eq = equal(a, b);
            Value::Bool(if op == BinaryOp::Eq { eq } else { !eq })
        }
        BinaryOp::And | BinaryOp::Or => {
            if a.is_unknown() || b.is_unknown() {
                return Ok(Value::Unknown);
            }
            let x = to_bool(a).ok_or_else(|| operand_error("bool", a, sensitive))?;
            let y = to_bool(b).ok_or_else(|| operand_error("bool", b, sensitive))?;
            Value::Bool(if op == BinaryOp::And { x && y } else { x || y })
        }
        _ => {
            if a.is_unknown() || b.is_unknown() {
                return Ok(Value::Unknown);
            }
            let x = to_number(a).ok_or_else(|| operand_error("number", a, sensitive))?;
            let y = to_number(b).ok_or_else(|| operand_error("number", b, sensitive))?;
            match op {
                BinaryOp::Add => Value::Number(x + y),
                BinaryOp::Sub => Value::Number(x - y),
                BinaryOp::Mul => Value::Number(x * y),
                BinaryOp::Div => {
                    if y == 0.0 {
                        return Err("Division by zero".into());
                    }
                    Value::Number(x / y)
                }
                BinaryOp::Mod => {
                    if y == 0.0 {
                        return Err("Modulo by zero".into());
                    }
                    Value::Number(x % y)
                }
                BinaryOp::Less => Value::Bool(x < y),
                BinaryOp::LessEq => Value::Bool(x <= y),
                BinaryOp::Greater => Value::Bool(x > y),
                BinaryOp::GreaterEq => Value::Bool(x >= y),
                BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::And | BinaryOp::Or => Value::Null,
            }
        }
    };
    Ok(result.mark_if(sensitive))
}

/// Never shows a value from an expression that involved a sensitive one.
fn operand_error(want: &str, got: &Value, sensitive: bool) -> String {
    let shown = if sensitive {
        "(sensitive value)".to_owned()
    } else {
        got.to_string()
    };
    format!(
        "Unsuitable value for operand: a {want} is required, got {} {shown}",
        got.type_name()
    )
}
