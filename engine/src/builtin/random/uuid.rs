//! `random_uuid`: a random (version 4) UUID.

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;

pub(crate) struct RandomUuid;

impl Generator for RandomUuid {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed())
            .attr("result", Attribute::computed().describe("The UUID."))
    }

    fn validate(&self, _config: &Value) -> Vec<(String, String)> {
        Vec::new()
    }

    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let id = Value::string(::uuid::Uuid::new_v4().to_string());
        let out = super::with_attr(planned, "result", id.clone());
        Ok(super::with_attr(&out, "id", id))
    }

    fn import(&self, id: &str) -> Result<Value, String> {
        let parsed = ::uuid::Uuid::parse_str(id)
            .map_err(|e| format!("import random_uuid by its UUID; {id:?} is not one ({e})"))?;
        let id = Value::string(parsed.hyphenated().to_string());
        Ok(super::args::object(vec![
            ("id", id.clone()),
            ("result", id),
        ]))
    }
}
