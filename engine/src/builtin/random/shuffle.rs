//! `random_shuffle`: the `input` list in a random order, `result_count`
//! items long; `seed` makes it repeatable.

use rand::seq::SliceRandom;

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::args::{check, int, rng, string};

pub(crate) struct RandomShuffle;

fn input(v: &Value) -> Result<Option<Vec<Value>>, String> {
    match v.get("input") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Unknown) => Ok(None),
        Some(Value::List(items)) => Ok(Some(items.clone())),
        Some(other) => Err(format!(
            "must be a list of strings, got {}",
            other.type_name()
        )),
    }
}

impl Generator for RandomShuffle {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed())
            .attr(
                "input",
                Attribute::required()
                    .force_new()
                    .describe("The list to shuffle."),
            )
            .attr(
                "result_count",
                Attribute::optional()
                    .force_new()
                    .describe("How many items to return; the length of input by default."),
            )
            .attr(
                "seed",
                Attribute::optional()
                    .force_new()
                    .describe("Makes the order repeatable."),
            )
            .attr("result", Attribute::computed())
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        check(&mut errors, "input", input(config));
        check(&mut errors, "seed", string(config, "seed"));
        match int(config, "result_count") {
            Ok(Some(n)) if n < 0 => {
                errors.push(("result_count".to_owned(), "must be 0 or more".to_owned()))
            }
            r => check(&mut errors, "result_count", r),
        }
        errors
    }

    /// Like the provider: asking for more than the input holds repeats
    /// items, each at most once per pass over the input.
    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let items = input(planned)?.unwrap_or_default();
        let count = match int(planned, "result_count")? {
            Some(n) => n.max(0) as usize,
            None => items.len(),
        };
        let seed = string(planned, "seed")?;
        let mut rng = rng(seed.as_deref());
        let mut result = Vec::with_capacity(count);
        while result.len() < count && !items.is_empty() {
            let mut pass = items.clone();
            pass.shuffle(&mut rng);
            let take = (count - result.len()).min(pass.len());
            result.extend(pass.into_iter().take(take));
        }
        let out = super::with_attr(planned, "result", Value::List(result));
        Ok(super::with_attr(&out, "id", Value::string("-")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::args::object;
    use super::*;

    fn planned(count: Option<f64>) -> Value {
        let list = Value::List(["a", "b", "c"].map(Value::string).to_vec());
        let mut pairs = vec![("input", list)];
        if let Some(n) = count {
            pairs.push(("result_count", Value::Number(n)));
        }
        object(pairs)
    }

    fn result(v: &Value) -> Vec<String> {
        v.get("result")
            .and_then(Value::as_list)
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_shuffle_is_a_permutation_and_counts_are_honoured() {
        let mut all = result(&RandomShuffle.generate(&planned(None)).unwrap());
        all.sort();
        assert_eq!(all, ["a", "b", "c"]);
        assert_eq!(
            result(&RandomShuffle.generate(&planned(Some(2.0))).unwrap()).len(),
            2
        );
        let five = result(&RandomShuffle.generate(&planned(Some(5.0))).unwrap());
        assert_eq!(five.len(), 5);
        assert!(
            ["a", "b", "c"]
                .iter()
                .all(|x| five.contains(&x.to_string()))
        );
    }
}
