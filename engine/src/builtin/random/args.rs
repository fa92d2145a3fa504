//! Reading arguments the way Terraform converts them (a number may be
//! written as a string, and so may a bool), and the random source.

use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

use dumcel_planner::Value;

/// A known whole-number argument; `None` when null, absent or unknown.
pub(crate) fn int(config: &Value, name: &str) -> Result<Option<i64>, String> {
    let n = match config.get(name) {
        None | Some(Value::Null) | Some(Value::Unknown) => return Ok(None),
        Some(Value::Number(n)) => Some(*n),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n.fract() == 0.0 && n.abs() <= 9.0e15 => Ok(Some(n as i64)),
        _ => Err(format!(
            "must be a whole number, got {}",
            config.get(name).map_or("nothing", Value::type_name)
        )),
    }
}

/// A known bool argument; `None` when null, absent or unknown.
pub(crate) fn boolean(config: &Value, name: &str) -> Result<Option<bool>, String> {
    match config.get(name) {
        None | Some(Value::Null) | Some(Value::Unknown) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(v) => Err(format!("must be true or false, got {}", v.type_name())),
    }
}

/// A known string argument (a number or bool is written as Terraform
/// writes it); `None` when null, absent or unknown.
pub(crate) fn string(config: &Value, name: &str) -> Result<Option<String>, String> {
    match config.get(name) {
        None | Some(Value::Null) | Some(Value::Unknown) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(v @ Value::Number(_)) => Ok(v.to_template_string()),
        Some(v) => Err(format!("must be a string, got {}", v.type_name())),
    }
}

/// Collects an argument's error, if any, as a validation message.
pub(crate) fn check<T>(errors: &mut Vec<(String, String)>, name: &str, r: Result<T, String>) {
    if let Err(e) = r {
        errors.push((name.to_owned(), e));
    }
}

/// The random source: seeded from `seed` (the same seed gives the same
/// result, as in the random provider, though not the same one as its Go
/// generator), or from the operating system.
pub(crate) fn rng(seed: Option<&str>) -> StdRng {
    match seed {
        Some(s) => {
            let mut bytes = [0u8; 32];
            bytes.copy_from_slice(&Sha256::digest(s.as_bytes()));
            StdRng::from_seed(bytes)
        }
        None => StdRng::from_rng(&mut rand::rng()),
    }
}

/// An object from (attribute, value) pairs.
pub(crate) fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn numbers_and_bools_convert_from_strings() {
        let v = object(vec![
            ("n", Value::string("16")),
            ("b", Value::string("false")),
            ("x", Value::Number(1.5)),
        ]);
        assert_eq!(int(&v, "n"), Ok(Some(16)));
        assert_eq!(boolean(&v, "b"), Ok(Some(false)));
        assert!(int(&v, "x").unwrap_err().contains("whole number"));
        assert_eq!(int(&v, "missing"), Ok(None));
    }

    #[test]
    fn a_seed_repeats_its_sequence() {
        let a: u64 = rng(Some("s")).random();
        let b: u64 = rng(Some("s")).random();
        let c: u64 = rng(Some("t")).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
