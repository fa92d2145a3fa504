//! `random_string`: a string of `length` characters from the enabled
//! classes, with at least `min_*` of each. Shared with `random_password`.

use rand::RngExt;
use rand::seq::SliceRandom;

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::args::{boolean, check, int, object, rng, string};

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC: &str = "0123456789";
/// The random provider's special characters, unless `override_special`.
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

const CLASSES: [&str; 4] = ["upper", "lower", "numeric", "special"];
const MINIMUMS: [&str; 4] = ["min_upper", "min_lower", "min_numeric", "min_special"];

/// The arguments both types take; `result` is added by each.
pub(crate) fn schema() -> Schema {
    let mut s = Schema::new().attr("id", Attribute::computed()).attr(
        "length",
        Attribute::required()
            .force_new()
            .describe("How many characters."),
    );
    for class in CLASSES {
        s = s.attr(class, Attribute::optional().force_new());
    }
    // hashicorp/random v3 still accepts `number`, the old name of `numeric`.
    s = s.attr("number", Attribute::optional().force_new());
    for min in MINIMUMS {
        s = s.attr(min, Attribute::optional().force_new());
    }
    s.attr(
        "override_special",
        Attribute::optional()
            .force_new()
            .describe("The special characters to use instead of the default ones."),
    )
}

pub(crate) fn defaults() -> Vec<(&'static str, Value)> {
    let mut d: Vec<(&'static str, Value)> =
        CLASSES.iter().map(|c| (*c, Value::Bool(true))).collect();
    d.extend(MINIMUMS.iter().map(|m| (*m, Value::Number(0.0))));
    d
}

/// Planned `number` and `numeric` agree: whichever is set gives both.
pub(crate) fn with_numeric(mut proposed: Value) -> Value {
    let set = |v: &Value, n: &str| v.get(n).filter(|x| !x.is_null()).cloned();
    let numeric = set(&proposed, "numeric").or_else(|| set(&proposed, "number"));
    let numeric = numeric.unwrap_or(Value::Bool(true));
    for name in ["numeric", "number"] {
        if proposed.get(name).is_none_or(Value::is_null) {
            proposed = super::with_attr(&proposed, name, numeric.clone());
        }
    }
    proposed
}

pub(crate) fn validate(config: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let length = int(config, "length");
    if let Ok(Some(n)) = length
        && n < 1
    {
        errors.push(("length".to_owned(), "must be at least 1".to_owned()));
    }
    check(&mut errors, "length", length.clone());
    for class in CLASSES.iter().chain(["number"].iter()) {
        check(&mut errors, class, boolean(config, class));
    }
    let mut sum = Some(0i64);
    for min in MINIMUMS {
        match int(config, min) {
            Ok(Some(n)) if n < 0 => {
                errors.push((min.to_owned(), "must be 0 or more".to_owned()));
            }
            Ok(Some(n)) => sum = sum.map(|s| s + n),
            Ok(None) if config.get(min).is_some_and(Value::is_unknown) => sum = None,
            Ok(None) => {}
            Err(e) => errors.push((min.to_owned(), e)),
        }
    }
    if let (Ok(Some(n)), Some(sum)) = (length, sum)
        && n < sum
    {
        errors.push((
            "length".to_owned(),
            format!("must be at least the sum of min_upper, min_lower, min_numeric and min_special ({sum})"),
        ));
    }
    if let (Ok(Some(a)), Ok(Some(b))) = (boolean(config, "numeric"), boolean(config, "number"))
        && a != b
    {
        errors.push((
            "number".to_owned(),
            "is the old name of numeric; set only numeric".to_owned(),
        ));
    }
    check(
        &mut errors,
        "override_special",
        string(config, "override_special"),
    );
    errors
}

/// Makes the string: the minimums first, the rest from every enabled
/// class, then shuffled (the random provider's method).
pub(crate) fn generate_string(planned: &Value) -> Result<String, String> {
    let length = int(planned, "length")?.ok_or("length is required")?;
    let flag = |n: &str| boolean(planned, n).map(|b| b.unwrap_or(true));
    let min = |n: &str| int(planned, n).map(|m| m.unwrap_or(0).max(0) as usize);
    let special = string(planned, "override_special")?.unwrap_or_else(|| SPECIAL.to_owned());
    let sets: [(Vec<char>, bool, usize); 4] = [
        (UPPER.chars().collect(), flag("upper")?, min("min_upper")?),
        (LOWER.chars().collect(), flag("lower")?, min("min_lower")?),
        (
            NUMERIC.chars().collect(),
            flag("numeric")?,
            min("min_numeric")?,
        ),
        (
            special.chars().collect(),
            flag("special")?,
            min("min_special")?,
        ),
    ];
    let mut rng = rng(None);
    let mut out: Vec<char> = Vec::with_capacity(length as usize);
    for (chars, _, min) in &sets {
        if *min > 0 && chars.is_empty() {
            return Err("min_special is set but override_special is empty".to_owned());
        }
        for _ in 0..*min {
            out.push(chars[rng.random_range(0..chars.len())]);
        }
    }
    let pool: Vec<char> = sets
        .iter()
        .filter(|(_, on, _)| *on)
        .flat_map(|(chars, _, _)| chars.iter().copied())
        .collect();
    let rest = (length as usize).saturating_sub(out.len());
    if rest > 0 && pool.is_empty() {
        return Err(
            "no characters to choose from: enable at least one of upper, lower, numeric and special"
                .to_owned(),
        );
    }
    for _ in 0..rest {
        out.push(pool[rng.random_range(0..pool.len())]);
    }
    out.shuffle(&mut rng);
    Ok(out.into_iter().collect())
}

/// What importing a value makes: the provider's defaults, and the value.
pub(crate) fn imported(value: &str) -> Value {
    let mut pairs = vec![
        ("id", Value::string("none")),
        ("result", Value::string(value)),
        ("length", Value::Number(value.chars().count() as f64)),
        ("number", Value::Bool(true)),
        ("override_special", Value::Null),
    ];
    pairs.extend(defaults());
    object(pairs)
}

pub(crate) struct RandomString;

impl Generator for RandomString {
    fn schema(&self) -> Schema {
        schema().attr(
            "result",
            Attribute::computed().describe("The generated string."),
        )
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        validate(config)
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        defaults()
    }

    fn plan(&self, proposed: Value) -> Value {
        with_numeric(proposed)
    }

    /// As in the random provider, a random_string's `id` is its value.
    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let s = generate_string(planned)?;
        let out = super::with_attr(planned, "result", Value::String(s.clone()));
        Ok(super::with_attr(&out, "id", Value::String(s)))
    }

    fn import(&self, id: &str) -> Result<Value, String> {
        if id.is_empty() {
            return Err("import random_string by its value; the id given is empty".to_owned());
        }
        Ok(super::with_attr(&imported(id), "id", Value::string(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: Vec<(&str, Value)>) -> Value {
        let mut v = object(pairs);
        for (name, d) in defaults() {
            if v.get(name).is_none() {
                v = super::super::with_attr(&v, name, d);
            }
        }
        v
    }

    #[test]
    fn minimums_are_met_and_disabled_classes_are_absent() {
        for _ in 0..50 {
            let s = generate_string(&config(vec![
                ("length", Value::Number(12.0)),
                ("upper", Value::Bool(false)),
                ("special", Value::Bool(false)),
                ("min_numeric", Value::Number(5.0)),
            ]))
            .unwrap();
            assert_eq!(s.chars().count(), 12);
            assert!(s.chars().filter(char::is_ascii_digit).count() >= 5, "{s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{s}"
            );
        }
    }

    #[test]
    fn override_special_replaces_the_special_characters() {
        let s = generate_string(&config(vec![
            ("length", Value::Number(20.0)),
            ("upper", Value::Bool(false)),
            ("lower", Value::Bool(false)),
            ("numeric", Value::Bool(false)),
            ("override_special", Value::string("^")),
        ]))
        .unwrap();
        assert_eq!(s, "^".repeat(20));
    }

    #[test]
    fn validation_names_the_sum_of_minimums() {
        let errors = validate(&object(vec![
            ("length", Value::Number(3.0)),
            ("min_upper", Value::Number(2.0)),
            ("min_lower", Value::Number(2.0)),
        ]));
        assert!(
            errors
                .iter()
                .any(|(a, m)| a == "length" && m.contains("sum") && m.contains("(4)")),
            "{errors:?}"
        );
        let none = generate_string(&config(vec![
            ("length", Value::Number(3.0)),
            ("upper", Value::Bool(false)),
            ("lower", Value::Bool(false)),
            ("numeric", Value::Bool(false)),
            ("special", Value::Bool(false)),
        ]));
        assert!(none.unwrap_err().contains("enable at least one"));
    }
}
