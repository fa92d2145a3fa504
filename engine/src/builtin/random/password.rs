//! `random_password`: `random_string` whose `result` is sensitive, so it
//! never shows in plans, `show` or logs. (The provider's `bcrypt_hash` is
//! not offered: no bcrypt crate is in this workspace.)

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::string::{defaults, generate_string, imported, schema, validate, with_numeric};

pub(crate) struct RandomPassword;

impl Generator for RandomPassword {
    fn schema(&self) -> Schema {
        schema().attr(
            "result",
            Attribute::computed()
                .sensitive()
                .describe("The generated password."),
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
        let out = super::with_attr(planned, "result", Value::String(s));
        Ok(super::with_attr(&out, "id", Value::string("none")))
    }

    fn import(&self, id: &str) -> Result<Value, String> {
        if id.is_empty() {
            // Never echo the id: it is the password.
            return Err("import random_password by its value; the id given is empty".to_owned());
        }
        Ok(imported(id))
    }
}
