//! Evaluating a block's body against a schema: its attributes, and its nested
//! blocks as lists of objects. Unknown arguments and missing required ones are
//! diagnostics pointing at the block.

use dumcel_planner::{Map, Schema, Value};

use crate::config::{BlockDecl, BodyDecl, Diagnostic, Diagnostics, DynamicBlock, Span};
use crate::eval::{Scope, eval, suggest};

/// Evaluates `body` in `scope`. `what` names the block in messages
/// (`local_file`, `provider "docker"`); `span` is its header.
pub fn eval_body(
    schema: &Schema,
    body: &BodyDecl,
    scope: &Scope,
    what: &str,
    span: Span,
) -> Result<Value, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut obj = Map::new();
    let from_json;
    let body = if body.from_json {
        from_json = crate::config::json_syntax::blocks_from_arguments(schema, body);
        &from_json
    } else {
        body
    };
    for (name, attr) in &body.attributes {
        match schema.attributes.get(name) {
            Some(a) if a.settable() => {}
            Some(_) => {
                diags.error(
                    format!("Cannot set computed attribute \"{name}\""),
                    format!("\"{name}\" of {what} is set by the provider, not by configuration; remove it."),
                    Some(attr.span),
                );
                continue;
            }
            None => {
                let known: Vec<&str> = schema
                    .attributes
                    .iter()
                    .filter(|(_, a)| a.settable())
                    .map(|(k, _)| k.as_str())
                    .collect();
                let hint = if schema.blocks.contains_key(name) {
                    format!("\"{name}\" is a block: write it as {name} {{ ... }}.")
                } else {
                    match suggest(name, &known) {
                        Some(s) => {
                            format!("{what} has no argument \"{name}\". Did you mean \"{s}\"?")
                        }
                        None => format!(
                            "{what} has no argument \"{name}\"; it takes: {}.",
                            known.join(", ")
                        ),
                    }
                };
                diags.error(
                    format!("Unsupported argument \"{name}\""),
                    hint,
                    Some(attr.span),
                );
                continue;
            }
        }
        match eval(&attr.expr, scope) {
            Ok(v) => {
                obj.insert(name.clone(), v);
            }
            Err(e) => diags.push(e.into()),
        }
    }
    for (name, nested) in &schema.blocks {
        let blocks: Vec<_> = body.blocks.iter().filter(|b| &b.name == name).collect();
        if let Some(max) = nested.max_items
            && blocks.len() > max
        {
            diags.error(
                format!("Too many \"{name}\" blocks"),
                format!("{what} takes at most {max} \"{name}\" block(s)."),
                blocks.get(max).map(|b| b.span),
            );
        }
        if blocks.len() < nested.min_items {
            diags.error(
                format!("Missing \"{name}\" block"),
                format!(
                    "{what} needs at least {} \"{name}\" block(s).",
                    nested.min_items
                ),
                Some(span),
            );
        }
        let mut items = Vec::new();
        let mut unknown = false;
        for b in blocks {
            let what = format!("the {name} block");
            match &b.dynamic {
                None => match eval_body(&nested.schema, &b.body, scope, &what, b.span) {
                    Ok(v) => items.push(v),
                    Err(d) => diags.extend(d),
                },
                Some(d) => match dynamic_items(&nested.schema, b, d, scope, &what) {
                    Ok(Some(generated)) => items.extend(generated),
                    // Unknown for_each: how many blocks is known only at apply.
                    Ok(None) => unknown = true,
                    Err(e) => diags.extend(e),
                },
            }
        }
        let value = if unknown {
            Value::Unknown
        } else {
            Value::List(items)
        };
        obj.insert(name.clone(), value);
    }
    for b in &body.blocks {
        if !schema.blocks.contains_key(&b.name) {
            let hint = if schema.attributes.contains_key(&b.name) {
                format!(
                    "\"{}\" is an argument: write it as {} = ....",
                    b.name, b.name
                )
            } else {
                format!("{what} takes no \"{}\" block.", b.name)
            };
            diags.error(
                format!("Unsupported block type \"{}\"", b.name),
                hint,
                Some(b.span),
            );
        }
    }
    for (name, a) in &schema.attributes {
        if a.required && obj.get(name).is_none_or(Value::is_null) {
            diags.error(
                format!("Missing required argument \"{name}\""),
                format!("{what} needs \"{name}\"; add `{name} = ...` to the block."),
                Some(span),
            );
        }
    }
    diags.into_result()?;
    Ok(Value::Map(obj))
}

/// The blocks a `dynamic` block generates: one per element of `for_each`, with
/// the iterator bound to `{ key, value }`. `None` when `for_each` is unknown.
fn dynamic_items(
    schema: &Schema,
    block: &BlockDecl,
    dynamic: &DynamicBlock,
    scope: &Scope,
    what: &str,
) -> Result<Option<Vec<Value>>, Diagnostics> {
    let coll =
        eval(&dynamic.for_each, scope).map_err(|e| Diagnostics::from(Diagnostic::from(e)))?;
    let (coll, sensitive) = coll.into_unmarked();
    let pairs: Vec<(Value, Value)> = match coll {
        Value::Unknown => return Ok(None),
        Value::Null => Vec::new(),
        Value::List(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Map(map) => map
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect(),
        other => {
            return Err(Diagnostic::error(
                "Invalid dynamic for_each value",
                format!(
                    "for_each in a dynamic block takes a list, set or map, got {}.",
                    other.type_name()
                ),
                Some(dynamic.for_each.span),
            )
            .into());
        }
    };
    let mut out = Vec::new();
    let mut diags = Diagnostics::new();
    for (key, value) in pairs {
        let mut inner = scope.clone();
        let mut it = Map::new();
        it.insert("key".into(), key);
        it.insert("value".into(), value.mark_if(sensitive));
        inner.set(&dynamic.iterator, Value::Map(it));
        match eval_body(schema, &block.body, &inner, what, block.span) {
            Ok(v) => out.push(v),
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result()?;
    Ok(Some(out))
}
