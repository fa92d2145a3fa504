//! Terraform's `timeouts { create = "20m" update = "20m" delete = "20m" }`
//! block: how long a type may wait for AWS to settle. The durations are Go's
//! (`"90s"`, `"10m"`, `"1h30m"`); a missing one is the type's default, which
//! `DUMCEL_AWS_WAIT_SECONDS` overrides (see [`crate::wait::limit`]).

use std::time::Duration;

use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{block, opt_str};
use crate::error::{AwsError, AwsResult};

const OPERATIONS: [&str; 3] = ["create", "update", "delete"];

/// Adds the `timeouts` block to a schema.
pub fn add(schema: Schema) -> Schema {
    let mut timeouts = Schema::new();
    for op in OPERATIONS {
        timeouts = timeouts.attr(op, Attribute::optional());
    }
    schema.block(
        "timeouts",
        NestedBlock {
            schema: timeouts,
            min_items: 0,
            max_items: Some(1),
            force_new: false,
        },
    )
}

/// How long `operation` may wait: the block's duration, or `default_secs`.
pub fn of(v: &Value, operation: &str, default_secs: u64) -> AwsResult<Duration> {
    match block(v, "timeouts").and_then(|t| opt_str(t, operation)) {
        Some(text) => parse(text)
            .map_err(|e| AwsError::invalid(format!("timeouts.{operation} = {text:?}: {e}"))),
        None => Ok(crate::wait::limit(default_secs)),
    }
}

/// Plan-time check of every duration set: `(attribute, message)` pairs.
pub fn validate(config: &Value) -> Vec<(String, String)> {
    let Some(t) = block(config, "timeouts") else {
        return Vec::new();
    };
    OPERATIONS
        .iter()
        .filter_map(|op| {
            let text = opt_str(t, op)?;
            let e = parse(text).err()?;
            Some((
                format!("timeouts.{op}"),
                format!(
                    "{text:?} is not a duration ({e}); write it as \"90s\", \"10m\" or \"1h30m\""
                ),
            ))
        })
        .collect()
}

fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{obj, s};

    fn with_timeouts(update: &str) -> Value {
        obj([("timeouts", Value::List(vec![obj([("update", s(update))])]))])
    }

    #[test]
    fn go_durations_are_read_and_bad_ones_named() {
        let v = with_timeouts("1h30m");
        assert_eq!(of(&v, "update", 5).unwrap(), Duration::from_secs(5400));
        assert_eq!(
            of(&with_timeouts("4s"), "update", 5).unwrap(),
            Duration::from_secs(4)
        );
        let bad = with_timeouts("soon");
        let errors = validate(&bad);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "timeouts.update");
        assert!(of(&bad, "update", 5).is_err());
        assert!(validate(&with_timeouts("10m")).is_empty());
    }
}
