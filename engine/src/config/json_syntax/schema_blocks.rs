//! Blocks that only the provider's schema can tell from arguments: in JSON,
//! `"ingress": {...}` might be a map argument or an `ingress` block. The
//! loader keeps it an argument and marks the body; evaluation, which has the
//! schema, turns it into blocks.

use dumcel_planner::{Schema, Value};

use crate::config::ast::{Expr, ExprKind, ObjectKey};
use crate::config::model::{AttrDecl, BlockDecl, BodyDecl, DynamicBlock, Module};

/// Marks the bodies a JSON file declared, so that evaluation reads their
/// schema blocks from arguments ([`blocks_from_arguments`]).
pub fn mark_from_json(module: &mut Module, file: u32) {
    fn mark(body: &mut BodyDecl) {
        body.from_json = true;
        for b in &mut body.blocks {
            mark(&mut b.body);
        }
    }
    for r in module.resources.values_mut() {
        if r.span.file == file {
            mark(&mut r.body);
        }
    }
    for p in module.providers.values_mut() {
        if p.span.file == file {
            mark(&mut p.body);
        }
    }
    if let Some(b) = module.backend.as_mut()
        && b.span.file == file
    {
        mark(&mut b.body);
    }
}

/// A body from JSON with the arguments the schema calls blocks turned into
/// those blocks: `"ingress": {...}` is one block, `"ingress": [{...}, ...]`
/// several, `null` none (Terraform decides the same way, from the schema).
/// What is neither stays an argument, for the usual error.
pub fn blocks_from_arguments(schema: &Schema, body: &BodyDecl) -> BodyDecl {
    let mut out = body.clone();
    for (name, attr) in &body.attributes {
        if schema.attributes.contains_key(name) || !schema.blocks.contains_key(name) {
            continue;
        }
        if let Some(blocks) = blocks_of(name, &attr.expr) {
            out.attributes.shift_remove(name);
            out.blocks.extend(blocks);
        }
    }
    out
}

fn blocks_of(name: &str, e: &Expr) -> Option<Vec<BlockDecl>> {
    let block = |e: &Expr| {
        Some(BlockDecl {
            name: name.to_owned(),
            labels: Vec::new(),
            body: body_of(e)?,
            span: e.span,
            dynamic: None,
        })
    };
    match &e.kind {
        ExprKind::Object(_) => Some(vec![block(e)?]),
        ExprKind::Array(items) => items.iter().map(block).collect(),
        ExprKind::Literal(Value::Null) => Some(Vec::new()),
        _ => None,
    }
}

/// A JSON object as a block body. `"//"` keys are comments, and
/// `"dynamic": { "NAME": { "for_each": ..., "content": {...} } }` generates
/// blocks, as in the native syntax.
fn body_of(e: &Expr) -> Option<BodyDecl> {
    let ExprKind::Object(items) = &e.kind else {
        return None;
    };
    let mut out = BodyDecl {
        from_json: true,
        ..BodyDecl::default()
    };
    for (key, value) in items {
        let name = key_name(key)?;
        match name.as_str() {
            "//" => {}
            "dynamic" => {
                let ExprKind::Object(kinds) = &value.kind else {
                    return None;
                };
                for (kind, spec) in kinds {
                    let kind = key_name(kind)?;
                    let specs = match &spec.kind {
                        ExprKind::Array(specs) => specs.iter().collect(),
                        _ => vec![spec],
                    };
                    for spec in specs {
                        out.blocks.push(dynamic_of(&kind, spec)?);
                    }
                }
            }
            _ => {
                out.attributes.insert(
                    name.clone(),
                    AttrDecl {
                        name,
                        expr: value.clone(),
                        span: value.span,
                    },
                );
            }
        }
    }
    Some(out)
}

fn dynamic_of(kind: &str, spec: &Expr) -> Option<BlockDecl> {
    let ExprKind::Object(items) = &spec.kind else {
        return None;
    };
    let get = |want: &str| {
        items
            .iter()
            .find(|(k, _)| key_name(k).as_deref() == Some(want))
            .map(|(_, v)| v)
    };
    let iterator = match get("iterator") {
        Some(e) => match &e.kind {
            ExprKind::Literal(Value::String(s)) => s.clone(),
            ExprKind::Variable(s) => s.clone(),
            _ => return None,
        },
        None => kind.to_owned(),
    };
    Some(BlockDecl {
        name: kind.to_owned(),
        labels: Vec::new(),
        body: body_of(get("content")?)?,
        span: spec.span,
        dynamic: Some(DynamicBlock {
            for_each: get("for_each")?.clone(),
            iterator,
        }),
    })
}

fn key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Name(n) => Some(n.clone()),
        ObjectKey::Expr(e) => e.as_literal()?.as_str().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source::SourceMap;

    #[test]
    fn schema_blocks_come_from_arguments() {
        use dumcel_planner::{Attribute as SchemaAttr, NestedBlock};
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("main.tf.json"),
            r#"{"resource": {"t": {"a": {
                "name": "x",
                "rule": [{"port": 1}, {"port": "${2 + 1}", "//": "ignored"}],
                "dynamic": {"rule": {"for_each": [7], "iterator": "r", "content": {"port": "${r.value}"}}},
                "setting": {"dynamic": {"rule": {"for_each": [8], "content": {"port": "${rule.value}"}}}}
            }}}}"#,
        )
        .unwrap();
        let mut sources = SourceMap::default();
        let module = crate::config::load::load_module(dir.path(), &mut sources).expect("loads");
        let decl = &module.resources["t.a"];
        assert!(decl.body.from_json);
        let rule = NestedBlock {
            schema: Schema::new().attr("port", SchemaAttr::required()),
            ..NestedBlock::default()
        };
        let schema = Schema::new()
            .attr("name", SchemaAttr::optional())
            .block("rule", rule.clone())
            .block(
                "setting",
                NestedBlock {
                    schema: Schema::new().block("rule", rule),
                    ..NestedBlock::default()
                },
            );
        let v = crate::body::eval_body(
            &schema,
            &decl.body,
            &crate::eval::Scope::default(),
            "t",
            decl.span,
        )
        .expect("evaluates");
        let port = |n: f64| {
            Value::Map(
                [("port".to_owned(), Value::Number(n))]
                    .into_iter()
                    .collect(),
            )
        };
        assert_eq!(
            v.get("rule"),
            Some(&Value::List(vec![port(7.0), port(1.0), port(3.0)]))
        );
        let setting = v.get("setting").and_then(|s| match s {
            Value::List(l) => l.first().and_then(|s| s.get("rule")).cloned(),
            _ => None,
        });
        assert_eq!(setting, Some(Value::List(vec![port(8.0)])));
        // Not JSON: an argument for a block stays an error.
        let mut native = decl.body.clone();
        native.from_json = false;
        assert!(
            crate::body::eval_body(
                &schema,
                &native,
                &crate::eval::Scope::default(),
                "t",
                decl.span
            )
            .is_err()
        );
    }
}
