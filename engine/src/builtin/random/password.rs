//! `random_password`: `random_string` whose `result` is sensitive, so it
//! never shows in plans, `show` or logs; `bcrypt_hash` is the bcrypt hash
//! of the result (also sensitive), made once with the password.

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::string::{defaults, generate_string, imported, schema, validate, with_numeric};

pub(crate) struct RandomPassword;

impl Generator for RandomPassword {
    fn schema(&self) -> Schema {
        schema()
            .attr(
                "result",
                Attribute::computed()
                    .sensitive()
                    .describe("The generated password."),
            )
            .attr(
                "bcrypt_hash",
                Attribute::computed()
                    .sensitive()
                    .describe("A bcrypt hash of the password (cost 10)."),
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

    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let s = generate_string(planned)?;
        let out = super::with_attr(planned, "result", Value::String(s.clone()));
        let out = super::with_attr(&out, "bcrypt_hash", Value::String(hash_of(&s)?));
        Ok(super::with_attr(&out, "id", Value::string("none")))
    }

    fn import(&self, id: &str) -> Result<Value, String> {
        if id.is_empty() {
            // Never echo the id: it is the password.
            return Err("import random_password by its value; the id given is empty".to_owned());
        }
        Ok(super::with_attr(
            &imported(id),
            "bcrypt_hash",
            Value::String(hash_of(id)?),
        ))
    }
}

/// bcrypt reads at most 72 bytes; a longer password is hashed by its first
/// 72, as the random provider's hash covers them.
fn hash_of(password: &str) -> Result<String, String> {
    let mut end = password.len().min(72);
    while !password.is_char_boundary(end) {
        end -= 1;
    }
    crate::functions::bcrypt_hash(&password[..end], 10)
}
