//! Terraform's JSON configuration syntax (`*.tf.json`), read into the same
//! hcl-edit [`Body`] the native syntax gives, so one loader serves both.
//!
//! How, keeping every position true: serde_json checks the syntax (its
//! messages name line and column); a small reader finds every key and value
//! with its byte range; then one HCL text exactly as long as the file is
//! written, holding, each at its own offset, the keys that become block and
//! argument names and the arguments' values, as one HCL tuple
//! `[name, value, name, ...]`. hcl-edit parses it once and keeps spans, so
//! expressions and diagnostics point into the .tf.json file.
//!
//! Strings are rewritten in place the way Terraform reads them:
//! - as templates (the general rule: `"${var.x}"` interpolates, `"$${x}"` is
//!   the literal `${x}`), in HCL's quoted syntax, which is never longer than
//!   JSON's (each JSON escape is at least as long as HCL's);
//! - as the bare expression where Terraform takes a reference, keyword or type
//!   written as a string (`depends_on`, `provider`, `type`, `ignore_changes`,
//!   `moved.from`, ...);
//! - literally where Terraform takes the JSON value as it is (a variable's
//!   `default`, `description`, a module's `source`, the `terraform` block):
//!   their value is put back after parsing.
//!
//! Which keys are blocks, and how many labels they take, follows Terraform's
//! block types. Inside resource and provider bodies the provider's schema
//! decides: the loader keeps such keys as arguments holding an object or a
//! list of objects and [`blocks_from_arguments`] turns them into blocks when
//! the body is evaluated against the schema.

use std::ops::Range;

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, ObjectValue};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body};
use hcl_edit::{Decorated, Ident};

use super::diagnostics::{Diagnostic, Diagnostics};
use super::source::{SourceMap, Span};

mod reader;
mod rules;
mod schema_blocks;

use reader::{Kind, Member, Node, Reader};
use rules::{Ctx, Mode, argument_mode, nested_block};
pub use schema_blocks::{blocks_from_arguments, mark_from_json};

/// Files in Terraform's JSON syntax.
pub fn is_json_config(name: &str) -> bool {
    name.ends_with(".tf.json")
}

/// Parses one `.tf.json` file into the body its native-syntax twin would
/// have.
pub fn parse_file(sources: &SourceMap, file: u32) -> Result<Body, Diagnostics> {
    let text = sources.get(file).map(|f| &*f.text).unwrap_or("");
    let at = |range: Range<usize>| Some(Span::new(file, range));
    // One character at a byte offset, for errors that point at a position.
    let point = |offset: usize| {
        let mut start = offset.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let len = text[start..].chars().next().map_or(0, char::len_utf8);
        at(start..start + len)
    };
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        let offset = offset_of(text, e.line(), e.column());
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        return Err(Diagnostic::error(
            format!("Invalid JSON syntax: {message}"),
            "Fix the JSON at the marked position; a .tf.json file holds one JSON object.",
            point(offset),
        )
        .into());
    }
    let root = Reader { text, pos: 0 }.value().filter(|n| n.is_object());
    let Some(root) = root else {
        return Err(Diagnostic::error(
            "The root of a .tf.json file must be a JSON object",
            "Write it as { \"resource\": { ... }, \"variable\": { ... } }: each key a top-level block type.",
            at(0..text.len().min(1)),
        )
        .into());
    };
    let mut w = Writer {
        text,
        file,
        out: vec![b' '; text.len()],
        tokens: Vec::new(),
        value_ends: Vec::new(),
        diags: Diagnostics::new(),
    };
    let items = w.body(Ctx::Root, &root);
    let Writer {
        mut out,
        tokens,
        value_ends,
        diags,
        ..
    } = w;
    diags.into_result()?;
    // Each tuple element is followed by one comma: a key's is its colon,
    // a value's the first comma after it.
    for end in value_ends {
        let rest = &text.as_bytes()[end..];
        if let Some(i) = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'}' | b']'))
            && rest[i] == b','
        {
            out[end + i] = b',';
        }
    }
    if let [first, .., last] = out.as_mut_slice() {
        *first = b'[';
        *last = b']';
    }
    let hcl = String::from_utf8(out).map_err(|_| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read this .tf.json file",
            "A string in it could not be rewritten; please report this.",
            at(0..0),
        ))
    })?;
    let parsed = hcl_edit::parser::parse_expr(&hcl).map_err(|e| {
        let offset = e.location().offset();
        Diagnostics::from(Diagnostic::error(
            format!(
                "Invalid expression: {}",
                e.message().lines().next().unwrap_or("")
            ),
            "Strings in a .tf.json file are templates: ${...} interpolates and $${ is a literal ${; depends_on, provider, type and the like hold references written as strings.",
            point(offset),
        ))
    })?;
    let mut elements: Vec<Option<Expression>> = match parsed {
        Expression::Array(a) => a.into_iter().map(Some).collect(),
        _ => Vec::new(),
    };
    // A string read as an expression could reach past its quotes
    // (`"a, b"`): then the elements no longer line up, from the one after.
    for (i, want) in tokens.iter().enumerate() {
        let found = elements
            .get(i)
            .and_then(|e| e.as_ref())
            .and_then(|e| e.span());
        if !found.is_some_and(|r| want.start <= r.start && r.end <= want.end) {
            return Err(Diagnostic::error(
                "Invalid expression in a string",
                "This string must hold one reference or expression, like \"null_resource.a\" or \"list(string)\".",
                at(tokens[i.saturating_sub(1)].clone()),
            )
            .into());
        }
    }
    if elements.len() != tokens.len() {
        return Err(Diagnostic::error(
            "Invalid expression in a string",
            "This string must hold one reference or expression, like \"null_resource.a\" or \"list(string)\".",
            at(tokens.last().cloned().unwrap_or(0..0)),
        )
        .into());
    }
    Ok(build(items, &mut elements))
}

/// The byte offset of serde_json's 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// An argument's `name = value` range, for arguments built here, which have
/// none of their own: from the name (or the value) to the value's end.
pub fn attribute_range(a: &Attribute) -> Option<Range<usize>> {
    let value = a.value.span()?;
    let start = a.key.span().map_or(value.start, |k| k.start);
    Some(start..value.end)
}

// --- Writing the HCL text ----------------------------------------------------

/// What the body will hold, with the tuple elements that give its names and
/// values their spans.
enum Item<'n> {
    Attr {
        name: String,
        key: Option<usize>,
        value: usize,
        literal: Option<&'n Node>,
    },
    Block {
        ident: String,
        at: Option<usize>,
        labels: Vec<String>,
        body: Vec<Item<'n>>,
    },
}

struct Writer<'a> {
    text: &'a str,
    file: u32,
    /// The HCL text, exactly as long as `text`.
    out: Vec<u8>,
    /// Where each tuple element must lie.
    tokens: Vec<Range<usize>>,
    /// Where each value element ends (a comma follows it).
    value_ends: Vec<usize>,
    diags: Diagnostics,
}

impl<'n> Writer<'_> {
    fn span(&self, r: &Range<usize>) -> Option<Span> {
        Some(Span::new(self.file, r.clone()))
    }

    fn put(&mut self, at: usize, s: &[u8]) {
        if let Some(dst) = self.out.get_mut(at..at + s.len()) {
            dst.copy_from_slice(s);
        }
    }

    /// A key as a name element (a bare identifier at the key's offset, its
    /// colon turned into the comma), when it can be one.
    fn name(&mut self, m: &Member) -> Option<usize> {
        let inner = m.key_span.start + 1..m.key_span.end - 1;
        let raw = self.text.get(inner.clone())?;
        if raw != m.key || !is_plain_identifier(raw) {
            return None;
        }
        self.put(inner.start, raw.as_bytes());
        self.out[m.colon] = b',';
        self.tokens.push(inner);
        Some(self.tokens.len() - 1)
    }

    fn value(&mut self, node: &Node, mode: Mode) -> usize {
        self.write(node, mode);
        self.tokens.push(node.span.clone());
        self.value_ends.push(node.span.end);
        self.tokens.len() - 1
    }

    fn write(&mut self, node: &Node, mode: Mode) {
        let span = node.span.clone();
        match &node.kind {
            Kind::Scalar => {
                let raw = self.text.as_bytes()[span.clone()].to_vec();
                self.put(span.start, &raw);
            }
            Kind::String(s) => self.string(s, &span, mode),
            Kind::Array(items) => {
                self.out[span.start] = b'[';
                self.out[span.end - 1] = b']';
                for (i, item) in items.iter().enumerate() {
                    self.write(item, mode);
                    if i + 1 < items.len() {
                        self.comma_after(item.span.end);
                    }
                }
            }
            Kind::Object(members) => {
                self.out[span.start] = b'{';
                self.out[span.end - 1] = b'}';
                for (i, m) in members.iter().enumerate() {
                    // Keys are read as the values are; a literal key is put
                    // back after parsing, so here it only needs to stay
                    // apart from the others: no `${` in it.
                    if mode == Mode::Literal {
                        self.string(&m.key.replace(['$', '%'], "_"), &m.key_span, Mode::Template);
                    } else {
                        self.string(&m.key, &m.key_span, mode);
                    }
                    self.out[m.colon] = b':';
                    self.write(&m.value, mode);
                    if i + 1 < members.len() {
                        self.comma_after(m.value.span.end);
                    }
                }
            }
        }
    }

    fn comma_after(&mut self, end: usize) {
        if let Some(i) = self.text.as_bytes()[end..].iter().position(|b| *b == b',') {
            self.out[end + i] = b',';
        }
    }

    fn string(&mut self, s: &str, span: &Range<usize>, mode: Mode) {
        let room = span.len();
        let hcl = match mode {
            Mode::Template => quote_template(s),
            Mode::Reference => format!(" {s}"),
            // A placeholder; the value is put back after parsing.
            Mode::Literal => format!("\"{}\"", "_".repeat(room.saturating_sub(2))),
        };
        if hcl.len() > room {
            self.diags.error(
                "Cannot read this string",
                "It could not be rewritten in HCL's string syntax; please report this.",
                self.span(span),
            );
            return;
        }
        self.put(span.start, hcl.as_bytes());
    }

    /// The items of a body object.
    fn body(&mut self, ctx: Ctx, obj: &'n Node) -> Vec<Item<'n>> {
        let mut items = Vec::new();
        let Kind::Object(members) = &obj.kind else {
            return items;
        };
        for m in members {
            if m.key == "//" {
                continue;
            }
            match nested_block(ctx, &m.key) {
                Some((labels, inner)) => {
                    let at = self.name(m);
                    if inner == Ctx::Unknown {
                        items.push(Item::Block {
                            ident: m.key.clone(),
                            at,
                            labels: Vec::new(),
                            body: Vec::new(),
                        });
                        continue;
                    }
                    let kind = BlockKind {
                        ident: &m.key,
                        labels,
                        ctx: inner,
                    };
                    self.blocks(&kind, &m.value, Vec::new(), at, &mut items);
                }
                None => {
                    let key = self.name(m);
                    let mode = argument_mode(ctx, &m.key);
                    let value = self.value(&m.value, mode);
                    items.push(Item::Attr {
                        name: m.key.clone(),
                        key,
                        value,
                        literal: (mode == Mode::Literal).then_some(&m.value),
                    });
                }
            }
        }
        items
    }

    /// The blocks `node` holds once `labels` are read: an object per label
    /// level, then the body; at any level an array of several.
    fn blocks(
        &mut self,
        kind: &BlockKind,
        node: &'n Node,
        labels: Vec<String>,
        at: Option<usize>,
        out: &mut Vec<Item<'n>>,
    ) {
        match &node.kind {
            Kind::Array(items) => {
                for item in items {
                    self.blocks(kind, item, labels.clone(), at, out);
                }
            }
            // `"//"` is a comment only in bodies: here it is a label.
            Kind::Object(members) if labels.len() < kind.labels => {
                for m in members {
                    let mut labels = labels.clone();
                    labels.push(m.key.clone());
                    let at = self.name(m).or(at);
                    self.blocks(kind, &m.value, labels, at, out);
                }
            }
            Kind::Object(_) => {
                let body = self.body(kind.ctx, node);
                out.push(Item::Block {
                    ident: kind.ident.to_owned(),
                    at,
                    labels,
                    body,
                });
            }
            _ => {
                let want = if labels.len() < kind.labels {
                    format!(
                        "an object whose keys are its {} label(s), like \"{}\": {{ \"LABEL\": {{ ... }} }}",
                        kind.labels - labels.len(),
                        kind.ident
                    )
                } else {
                    "an object (one block) or an array of objects (several)".to_owned()
                };
                self.diags.error(
                    format!("Invalid {} block", kind.ident),
                    format!("In JSON, a {} block is {want}.", kind.ident),
                    self.span(&node.span),
                );
            }
        }
    }
}

struct BlockKind<'k> {
    ident: &'k str,
    labels: usize,
    ctx: Ctx,
}

/// A name hcl-edit surely reads back as a bare variable: an identifier
/// without dashes (`a-b` could read as a subtraction) that is not a keyword.
fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(s, "true" | "false" | "null" | "for" | "in" | "if")
}

/// A decoded JSON string, which Terraform reads as a template, in HCL's
/// quoted template syntax. Only the template's own literal text needs
/// escaping; what is inside `${...}` and `%{...}` is HCL already.
fn quote_template(s: &str) -> String {
    enum In {
        Text,
        Interp(u32),
        Str,
    }
    let mut stack = vec![In::Text];
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let mut take = c.len_utf8();
        match stack.last() {
            Some(In::Interp(depth)) => {
                let depth = *depth;
                match c {
                    '{' => {
                        stack.pop();
                        stack.push(In::Interp(depth + 1));
                    }
                    '}' => {
                        stack.pop();
                        if depth > 0 {
                            stack.push(In::Interp(depth - 1));
                        }
                    }
                    '"' => stack.push(In::Str),
                    _ => {}
                }
                out.push(c);
            }
            top => {
                let nested = matches!(top, Some(In::Str));
                if rest.starts_with("$${") || rest.starts_with("%%{") {
                    take = 3;
                    out.push_str(&rest[..3]);
                } else if rest.starts_with("${") || rest.starts_with("%{") {
                    take = 2;
                    out.push_str(&rest[..2]);
                    stack.push(In::Interp(0));
                } else if nested {
                    // A string inside an interpolation: HCL text as written.
                    if c == '\\' {
                        if let Some(next) = rest[1..].chars().next() {
                            take += next.len_utf8();
                        }
                        out.push_str(&rest[..take]);
                    } else {
                        if c == '"' {
                            stack.pop();
                        }
                        out.push(c);
                    }
                } else {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        // Other control characters stand as they are: HCL
                        // takes them raw, and `\\u0008` would not fit.
                        c => out.push(c),
                    }
                }
            }
        }
        rest = &rest[take..];
    }
    out.push('"');
    out
}

// --- Building the body ---------------------------------------------------------

fn build(items: Vec<Item>, elements: &mut [Option<Expression>]) -> Body {
    let mut body = Body::new();
    for item in items {
        match item {
            Item::Attr {
                name,
                key,
                value,
                literal,
            } => {
                let Some(mut expr) = elements.get_mut(value).and_then(Option::take) else {
                    continue;
                };
                if let Some(node) = literal {
                    put_back_literals(&mut expr, node);
                }
                body.push(Attribute::new(ident(elements, key, &name), expr));
            }
            Item::Block {
                ident: name,
                at,
                labels,
                body: items,
            } => {
                let mut block = Block::new(ident(elements, at, &name));
                block.labels = labels
                    .into_iter()
                    .map(|l| BlockLabel::String(Decorated::new(l)))
                    .collect();
                block.body = build(items, elements);
                body.push(block);
            }
        }
    }
    body
}

/// A name with the span of the tuple element at `at`.
fn ident(elements: &[Option<Expression>], at: Option<usize>, name: &str) -> Decorated<Ident> {
    let mut id = match at.and_then(|i| elements.get(i)).and_then(Option::as_ref) {
        Some(Expression::Variable(v)) => v.clone(),
        _ => Decorated::new(Ident::new_unchecked(name)),
    };
    *id.value_mut() = Ident::new_unchecked(name);
    id
}

/// The strings of a literal value, which were parsed as placeholders.
fn put_back_literals(expr: &mut Expression, node: &Node) {
    match (expr, &node.kind) {
        (Expression::String(s), Kind::String(v)) => *s.value_mut() = v.clone(),
        (Expression::Array(a), Kind::Array(items)) => {
            for (e, n) in a.iter_mut().zip(items) {
                put_back_literals(e, n);
            }
        }
        (Expression::Object(o), Kind::Object(members)) if o.len() == members.len() => {
            let keys: Vec<ObjectKey> = o.iter().map(|(k, _)| k.clone()).collect();
            let values: Vec<ObjectValue> = keys.iter().filter_map(|k| o.remove(k)).collect();
            for (mut value, m) in values.into_iter().zip(members) {
                put_back_literals(value.expr_mut(), &m.value);
                let key = Expression::String(Decorated::new(m.key.clone()));
                o.insert(ObjectKey::Expression(key), value);
            }
        }
        _ => {}
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::ExprKind;
    use crate::config::lower::Lowerer;
    use hcl_edit::structure::Structure;

    fn parse(text: &str) -> Result<Body, Diagnostics> {
        let mut sources = SourceMap::default();
        let file = sources.add(
            std::path::Path::new("main.tf.json"),
            "main.tf.json".into(),
            text.into(),
        );
        parse_file(&sources, file)
    }

    fn blocks(body: &Body) -> Vec<&Block> {
        body.iter()
            .filter_map(|s| match s {
                Structure::Block(b) => Some(b),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn blocks_labels_and_arguments_keep_their_positions() {
        let text = r#"{
  "//": "generated",
  "resource": {
    "null_resource": {
      "a": { "count": 2, "triggers": { "k": "${var.x}" } },
      "b": [{ "lifecycle": { "ignore_changes": ["triggers"] } }]
    }
  },
  "variable": { "v": { "type": "list(string)", "default": ["${x}"] } }
}"#;
        let body = parse(text).expect("parses");
        let bs = blocks(&body);
        assert_eq!(bs.len(), 3);
        let labels = |b: &Block| {
            b.labels
                .iter()
                .map(|l| l.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(bs[0].ident.value().as_str(), "resource");
        assert_eq!(labels(bs[0]), ["null_resource", "a"]);
        // The header points at the block's name.
        let at = bs[0].ident.span().expect("span");
        assert_eq!(&text[at], "a");
        let count = bs[0].body.get_attribute("count").expect("count");
        assert_eq!(&text[attribute_range(count).unwrap()], "count\": 2");
        assert!(matches!(
            bs[0].body.get_attribute("triggers").unwrap().value,
            Expression::Object(_)
        ));
        assert_eq!(labels(bs[1]), ["null_resource", "b"]);
        let lifecycle = blocks(&bs[1].body);
        assert_eq!(lifecycle[0].ident.value().as_str(), "lifecycle");
        let ignore = lifecycle[0].body.get_attribute("ignore_changes").unwrap();
        let Expression::Array(items) = &ignore.value else {
            panic!("{ignore:?}")
        };
        assert!(
            matches!(items.get(0), Some(Expression::Variable(v)) if v.value().as_str() == "triggers")
        );
        // type is an expression; default's strings are literal.
        let ty = bs[2].body.get_attribute("type").unwrap();
        assert!(matches!(&ty.value, Expression::FuncCall(_)), "{ty:?}");
        let default = bs[2].body.get_attribute("default").unwrap();
        let Expression::Array(items) = &default.value else {
            panic!()
        };
        assert!(matches!(items.get(0), Some(Expression::String(s)) if s.value() == "${x}"));
    }

    #[test]
    fn strings_are_templates_with_json_escapes() {
        let body = parse(
            r#"{"locals": {"a": "${lookup(var.m, \"k\")}", "b": "say \"hi\"\\\/ $${lit}", "c": "%{ if true }y%{ endif }"}}"#,
        )
        .expect("parses");
        let locals = blocks(&body)[0];
        let lower = Lowerer::new(0);
        let a = lower.expr(&locals.body.get_attribute("a").unwrap().value);
        assert!(matches!(a.kind, ExprKind::Template(_)), "{a:?}");
        let b = lower.expr(&locals.body.get_attribute("b").unwrap().value);
        assert_eq!(
            b.as_literal().and_then(|v| v.as_str()),
            Some("say \"hi\"\\/ ${lit}")
        );
        let c = lower.expr(&locals.body.get_attribute("c").unwrap().value);
        assert!(matches!(c.kind, ExprKind::Template(_)), "{c:?}");
    }

    #[test]
    fn errors_point_into_the_file() {
        let line = |text: &str| {
            let d = parse(text).expect_err("fails");
            let span = d.0[0].span.expect("span");
            text[..span.start as usize].matches('\n').count() + 1
        };
        assert_eq!(line("{\n\"locals\": {\n\"a\": 1,\n}\n}"), 4);
        assert_eq!(line("{\n\"locals\": {\n\"a\": \"${var.}\"\n}\n}"), 3);
        assert_eq!(line("{\n\"resource\": {\n\"x\": true\n}\n}"), 3);
        for more in ["", ", \"count\": 1"] {
            let text = format!(
                "{{\n\"resource\": {{\"null_resource\": {{\"a\": {{\n\"provider\": \"aws.west, x\"{more}}}}}}}\n}}"
            );
            assert_eq!(line(&text), 3, "{text}");
        }
        assert!(parse("[1]").is_err());
    }
}
