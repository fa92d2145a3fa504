//! The per-attribute diff: from recorded (refreshed) values and evaluated
//! configuration to a planned value and an action, as the schema directs.

use crate::plan::Action;
use crate::schema::Schema;
use crate::value::{Map, Value};

/// The outcome of diffing one resource instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub action: Action,
    /// The proposed new value: configuration, plus computed values carried from
    /// the prior object or unknown.
    pub after: Value,
    /// Attributes whose change forces replacement.
    pub replace_because: Vec<String>,
}

/// Diffs one instance. `config` is the evaluated object of what the
/// configuration sets (nested blocks as lists of objects); `prior` is the
/// refreshed recorded value, if any. `force_replace` covers tainted instances and
/// `-replace`.
pub fn diff_resource(
    schema: &Schema,
    prior: Option<&Value>,
    config: &Value,
    force_replace: bool,
) -> Planned {
    let mut identity = |v: Value| Ok::<Value, String>(v);
    match diff_resource_with(schema, prior, config, force_replace, &mut identity) {
        Ok(p) => p,
        Err(never) => unreachable!("{never}"),
    }
}

/// Like [`diff_resource`], with the provider's plan-time hook: `customize`
/// receives each proposed new value (configuration plus carried computed
/// values) and may fill in what it can tell now, such as the hash of a build
/// context, before changes are detected.
pub fn diff_resource_with(
    schema: &Schema,
    prior: Option<&Value>,
    config: &Value,
    force_replace: bool,
    customize: &mut dyn FnMut(Value) -> Result<Value, String>,
) -> Result<Planned, String> {
    let empty = Map::new();
    let config_map = config.as_map().unwrap_or(&empty);
    let prior_map = prior.and_then(Value::as_map);

    let mut after = customize(proposed(schema, config_map, prior_map))?;
    let Some(prior_map) = prior_map else {
        return Ok(Planned {
            action: Action::Create,
            after: mark_sensitive(schema, after),
            replace_because: Vec::new(),
        });
    };

    let changed = changed_names(&after, prior_map);
    let replace_because: Vec<String> = changed
        .iter()
        .filter(|name| schema.forces_new(name))
        .cloned()
        .collect();
    let action = if force_replace || !replace_because.is_empty() {
        // A replacement is a new object: what the provider computes is unknown again.
        after = customize(proposed(schema, config_map, None))?;
        Action::Replace
    } else if changed.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    };
    Ok(Planned {
        action,
        after: mark_sensitive(schema, after),
        replace_because,
    })
}

/// Configuration where set; computed attributes from the prior object, or
/// unknown when there is none; everything else null.
fn proposed(schema: &Schema, config: &Map, prior: Option<&Map>) -> Value {
    // Sized once: the planned value of every resource is kept to the end of
    // the plan, and a map grown one insert at a time had room for twice its
    // entries (bench/README.md, "Fifth pass").
    let mut out = Map::with_capacity(schema.attributes.len() + schema.blocks.len());
    for (name, attr) in &schema.attributes {
        let configured = config.get(name).filter(|v| !v.is_null());
        let value = match (configured, attr.computed) {
            (Some(v), _) => v.clone(),
            (None, true) => match prior.and_then(|p| p.get(name)) {
                Some(v) => v.clone(),
                None => Value::Unknown,
            },
            (None, false) => Value::Null,
        };
        out.insert(name.clone(), value);
    }
    for name in schema.blocks.keys() {
        let value = config
            .get(name)
            .cloned()
            .unwrap_or_else(|| Value::List(Vec::new()));
        out.insert(name.clone(), value);
    }
    Value::Map(out)
}

fn mark_sensitive(schema: &Schema, mut value: Value) -> Value {
    if let Value::Map(map) = &mut value {
        for (name, v) in map.iter_mut() {
            if schema.is_sensitive(name) {
                *v = std::mem::take(v).sensitive();
            }
        }
    }
    value
}

/// Top-level names whose planned value differs from the prior one (marks ignored).
pub fn changed_names(after: &Value, prior: &Map) -> Vec<String> {
    let Some(after) = after.as_map() else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for (name, new) in after {
        let old = prior.get(name).unwrap_or(&Value::Null);
        if !same(new, old) {
            names.push(name.clone());
        }
    }
    names
}

/// Equality that ignores sensitive marks and treats an empty list and null alike
/// (an absent nested block reads back as either).
pub fn same(a: &Value, b: &Value) -> bool {
    let (a, _) = a.unmark();
    let (b, _) = b.unmark();
    match (a, b) {
        (Value::Unknown, _) | (_, Value::Unknown) => false,
        (Value::List(x), Value::Null) | (Value::Null, Value::List(x)) => x.is_empty(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    fn schema() -> Schema {
        Schema::new()
            .attr("id", Attribute::computed())
            .attr("filename", Attribute::required().force_new())
            .attr("mode", Attribute::optional())
            .attr("secret", Attribute::optional().sensitive())
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn create_has_unknown_computed() {
        let p = diff_resource(&schema(), None, &obj(&[("filename", "a".into())]), false);
        assert_eq!(p.action, Action::Create);
        assert_eq!(p.after.get("id"), Some(&Value::Unknown));
        assert_eq!(p.after.get("mode"), Some(&Value::Null));
    }

    #[test]
    fn update_keeps_computed_and_replace_names_the_cause() {
        let prior = obj(&[
            ("id", "x".into()),
            ("filename", "a".into()),
            ("mode", "1".into()),
            ("secret", Value::Null),
        ]);
        let same_cfg = obj(&[("filename", "a".into()), ("mode", "1".into())]);
        assert_eq!(
            diff_resource(&schema(), Some(&prior), &same_cfg, false).action,
            Action::NoOp
        );
        let upd = obj(&[("filename", "a".into()), ("mode", "2".into())]);
        let p = diff_resource(&schema(), Some(&prior), &upd, false);
        assert_eq!(p.action, Action::Update);
        assert_eq!(p.after.get("id"), Some(&Value::string("x")));
        let rep = obj(&[("filename", "b".into()), ("mode", "1".into())]);
        let p = diff_resource(&schema(), Some(&prior), &rep, false);
        assert_eq!(p.action, Action::Replace);
        assert_eq!(p.replace_because, vec!["filename".to_string()]);
        assert_eq!(p.after.get("id"), Some(&Value::Unknown));
        let tainted = diff_resource(&schema(), Some(&prior), &same_cfg, true);
        assert_eq!(tainted.action, Action::Replace);
    }

    #[test]
    fn sensitive_schema_attributes_are_marked() {
        let cfg = obj(&[("filename", "a".into()), ("secret", "pw".into())]);
        let p = diff_resource(&schema(), None, &cfg, false);
        assert!(p.after.get("secret").unwrap().is_sensitive());
    }
}
