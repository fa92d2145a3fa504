//! `random_pet`: a readable name of `length` words joined by `separator`,
//! such as "happy-otter"; three words or more start with adverbs
//! ("quickly-happy-otter"), as the random provider's names do.

use rand::seq::IndexedRandom;

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::args::{check, int, rng, string};
use super::words::{ADJECTIVES, ADVERBS, NAMES};

pub(crate) struct RandomPet;

/// `length` words: [adverbs...] adjective name.
fn pet_name<R: rand::Rng + ?Sized>(length: usize, separator: &str, rng: &mut R) -> String {
    let pick = |words: &[&'static str], rng: &mut R| words.choose(rng).copied().unwrap_or("pet");
    let mut words: Vec<&str> = Vec::with_capacity(length);
    for _ in 0..length.saturating_sub(2) {
        words.push(pick(ADVERBS, rng));
    }
    if length >= 2 {
        words.push(pick(ADJECTIVES, rng));
    }
    words.push(pick(NAMES, rng));
    words.join(separator)
}

impl Generator for RandomPet {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed().describe("The pet name."))
            .attr(
                "length",
                Attribute::optional()
                    .force_new()
                    .describe("How many words; 2 by default."),
            )
            .attr(
                "separator",
                Attribute::optional()
                    .force_new()
                    .describe("Between words; \"-\" by default."),
            )
            .attr(
                "prefix",
                Attribute::optional()
                    .force_new()
                    .describe("A first word, before the separator."),
            )
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        match int(config, "length") {
            Ok(Some(n)) if !(1..=1000).contains(&n) => errors.push((
                "length".to_owned(),
                "must be at least 1 (and at most 1000)".to_owned(),
            )),
            r => check(&mut errors, "length", r),
        }
        check(&mut errors, "separator", string(config, "separator"));
        check(&mut errors, "prefix", string(config, "prefix"));
        errors
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("length", Value::Number(2.0)),
            ("separator", Value::string("-")),
        ]
    }

    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let length = int(planned, "length")?.unwrap_or(2).max(1) as usize;
        let separator = string(planned, "separator")?.unwrap_or_else(|| "-".to_owned());
        let mut name = pet_name(length, &separator, &mut rng(None));
        if let Some(prefix) = string(planned, "prefix")?.filter(|p| !p.is_empty()) {
            name = format!("{prefix}{separator}{name}");
        }
        Ok(super::with_attr(planned, "id", Value::String(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_length_words_in_order() {
        let mut r = rng(Some("pets"));
        let one = pet_name(1, "-", &mut r);
        assert!(NAMES.contains(&one.as_str()), "{one}");
        let four = pet_name(4, ".", &mut r);
        let words: Vec<&str> = four.split('.').collect();
        assert_eq!(words.len(), 4, "{four}");
        assert!(ADVERBS.contains(&words[0]) && ADVERBS.contains(&words[1]));
        assert!(ADJECTIVES.contains(&words[2]) && NAMES.contains(&words[3]));
    }

    #[test]
    fn word_lists_are_single_lowercase_words() {
        for w in ADVERBS.iter().chain(ADJECTIVES).chain(NAMES) {
            assert!(
                !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()),
                "{w:?}"
            );
        }
    }
}
