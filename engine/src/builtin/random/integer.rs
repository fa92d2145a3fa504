//! `random_integer`: a whole number from `min` to `max`, both included;
//! `seed` makes it repeatable.

use rand::RngExt;

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::args::{check, int, object, rng, string};

pub(crate) struct RandomInteger;

fn bounds(v: &Value) -> Result<(i64, i64), String> {
    let min = int(v, "min")?.ok_or("min is required")?;
    let max = int(v, "max")?.ok_or("max is required")?;
    Ok((min, max))
}

impl Generator for RandomInteger {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed())
            .attr(
                "min",
                Attribute::required()
                    .force_new()
                    .describe("The smallest value."),
            )
            .attr(
                "max",
                Attribute::required()
                    .force_new()
                    .describe("The largest value."),
            )
            .attr(
                "seed",
                Attribute::optional()
                    .force_new()
                    .describe("Makes the result repeatable."),
            )
            .attr("result", Attribute::computed())
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        check(&mut errors, "min", int(config, "min"));
        check(&mut errors, "max", int(config, "max"));
        check(&mut errors, "seed", string(config, "seed"));
        if let (Ok(Some(min)), Ok(Some(max))) = (int(config, "min"), int(config, "max"))
            && min > max
        {
            errors.push((
                "max".to_owned(),
                "must be greater than or equal to min".to_owned(),
            ));
        }
        errors
    }

    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let (min, max) = bounds(planned)?;
        if min > max {
            return Err("max must be greater than or equal to min".to_owned());
        }
        let seed = string(planned, "seed")?;
        let n = rng(seed.as_deref()).random_range(min..=max);
        let out = super::with_attr(planned, "result", Value::Number(n as f64));
        Ok(super::with_attr(&out, "id", Value::string(n.to_string())))
    }

    /// `value,min,max` or `value,min,max,seed`, as the provider imports.
    fn import(&self, id: &str) -> Result<Value, String> {
        let parts: Vec<&str> = id.splitn(4, ',').collect();
        let usage = || {
            format!(
                "import random_integer as \"value,min,max\" or \"value,min,max,seed\", got {id:?}"
            )
        };
        if parts.len() < 3 {
            return Err(usage());
        }
        let num = |s: &str| s.trim().parse::<i64>().map_err(|_| usage());
        let (value, min, max) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
        if !(min..=max).contains(&value) {
            return Err(format!(
                "{value} is not between min {min} and max {max} (importing {id:?})"
            ));
        }
        Ok(object(vec![
            ("id", Value::string(value.to_string())),
            ("result", Value::Number(value as f64)),
            ("min", Value::Number(min as f64)),
            ("max", Value::Number(max as f64)),
            (
                "seed",
                parts.get(3).map_or(Value::Null, |s| Value::string(*s)),
            ),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_stay_in_bounds_and_a_seed_repeats() {
        let planned = object(vec![
            ("min", Value::Number(3.0)),
            ("max", Value::Number(5.0)),
        ]);
        for _ in 0..50 {
            let n = RandomInteger.generate(&planned).unwrap();
            let n = n.get("result").and_then(Value::as_f64).unwrap();
            assert!((3.0..=5.0).contains(&n), "{n}");
        }
        let seeded = super::super::with_attr(
            &object(vec![
                ("min", Value::Number(1.0)),
                ("max", Value::Number(1_000_000.0)),
            ]),
            "seed",
            Value::string("abc"),
        );
        let a = RandomInteger.generate(&seeded).unwrap();
        let b = RandomInteger.generate(&seeded).unwrap();
        assert_eq!(a.get("result"), b.get("result"));
    }

    #[test]
    fn imports_value_min_max() {
        let v = RandomInteger.import("7,1,10").unwrap();
        assert_eq!(v.get("result"), Some(&Value::Number(7.0)));
        assert_eq!(v.get("id"), Some(&Value::string("7")));
        assert!(RandomInteger.import("11,1,10").is_err());
        assert!(
            RandomInteger
                .import("7")
                .unwrap_err()
                .contains("value,min,max")
        );
    }
}
