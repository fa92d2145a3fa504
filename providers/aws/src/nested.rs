//! Nested blocks in one shape: every object of a block with every attribute
//! of its schema (null when the configuration leaves it out) and every
//! sub-block (an empty list when absent). A plan hook fills the
//! configuration this way, and a read builds AWS's answer the same way, so
//! an imported object compares key by key with its configuration instead of
//! differing in which keys are present.

use dumcel_planner::{Schema, Value};

/// `v` (an object) with the blocks of `schema` filled, recursively.
pub fn fill(schema: &Schema, v: Value) -> Value {
    let Value::Map(mut m) = v else {
        return v;
    };
    for (name, block) in &schema.blocks {
        let filled = match m.remove(name) {
            Some(Value::List(items)) => Value::List(
                items
                    .into_iter()
                    .map(|item| fill_object(&block.schema, item))
                    .collect(),
            ),
            Some(Value::Null) | None => Value::List(Vec::new()),
            Some(other) => other,
        };
        m.insert(name.clone(), filled);
    }
    Value::Map(m)
}

/// One object of a block: its attributes filled with null, its blocks filled.
pub fn fill_object(schema: &Schema, v: Value) -> Value {
    let Value::Map(mut m) = v else {
        return v;
    };
    for name in schema.attributes.keys() {
        m.entry(name.clone()).or_insert(Value::Null);
    }
    fill(schema, Value::Map(m))
}

/// The object of a block at `key` with `attr` set to `default` where the
/// configuration left it null (Terraform's `Default` inside a block).
pub fn default_in(v: Value, key: &str, attr: &str, default: Value) -> Value {
    let Value::Map(mut m) = v else {
        return v;
    };
    if let Some(Value::List(items)) = m.get_mut(key) {
        for item in items.iter_mut() {
            if let Value::Map(o) = item
                && o.get(attr).is_none_or(Value::is_null)
            {
                o.insert(attr.to_owned(), default.clone());
            }
        }
    }
    Value::Map(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{n, obj};
    use dumcel_planner::{Attribute, NestedBlock};

    #[test]
    fn blocks_get_every_key() {
        let inner = Schema::new().attr("a", Attribute::required());
        let outer = Schema::new()
            .attr("x", Attribute::optional())
            .attr("y", Attribute::optional())
            .block(
                "inner",
                NestedBlock {
                    schema: inner,
                    ..NestedBlock::default()
                },
            );
        let top = Schema::new().block(
            "outer",
            NestedBlock {
                schema: outer,
                ..NestedBlock::default()
            },
        );
        let v = obj([("outer", Value::List(vec![obj([("x", n(1))])]))]);
        let got = fill(&top, v);
        let want = obj([(
            "outer",
            Value::List(vec![obj([
                ("x", n(1)),
                ("y", Value::Null),
                ("inner", Value::List(Vec::new())),
            ])]),
        )]);
        assert_eq!(got, want);
        let d = default_in(got, "outer", "y", Value::Bool(false));
        assert_eq!(
            d.get("outer").and_then(Value::as_list).unwrap()[0].get("y"),
            Some(&Value::Bool(false))
        );
    }
}
