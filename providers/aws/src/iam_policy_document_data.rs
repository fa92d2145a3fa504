//! `data "aws_iam_policy_document"`: an IAM policy document rendered from
//! `statement` blocks, with no API call, as the Terraform AWS provider v5
//! renders it, byte for byte: Go's `json.MarshalIndent` with two spaces (and
//! Go's escaping of `<`, `>` and `&`), the statement fields in the order Sid,
//! Effect, Action, NotAction, Resource, NotResource, Principal, NotPrincipal,
//! Condition, an empty Sid left out (v5), `Effect` "Allow" by default,
//! `Version` "2012-10-17" by default; a single action, resource, identifier
//! or condition value as a string, several as a list in reverse sorted order
//! (condition values keep their order); `Principal` "*" for `type = "*"`,
//! `identifiers = ["*"]`; `&{...}` written as `${...}` (AWS's policy
//! variables). `source_policy_documents` are merged first (their Sids must be
//! unique), then the statements (replacing a source statement of the same
//! Sid), then `override_policy_documents` in order (replacing by Sid).
//! `json`, `minified_json`, and `id` (the CRC-32 of `json`, as Terraform's).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use dumcel_engine::provider::{DataSource, ProviderError, ProviderResult};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{blocks, opt_str, s, with_all};

pub struct IamPolicyDocumentData {
    schema: Schema,
}

fn block(schema: Schema) -> NestedBlock {
    NestedBlock {
        schema,
        min_items: 0,
        max_items: None,
        force_new: false,
    }
}

impl Default for IamPolicyDocumentData {
    fn default() -> Self {
        Self::new()
    }
}

impl IamPolicyDocumentData {
    pub fn new() -> IamPolicyDocumentData {
        let principals = Schema::new()
            .attr("type", Attribute::required())
            .attr("identifiers", Attribute::required());
        let condition = Schema::new()
            .attr("test", Attribute::required())
            .attr("variable", Attribute::required())
            .attr("values", Attribute::required());
        let statement = Schema::new()
            .attr("sid", Attribute::optional())
            .attr(
                "effect",
                Attribute::optional().describe("Allow (default) or Deny"),
            )
            .attr("actions", Attribute::optional())
            .attr("not_actions", Attribute::optional())
            .attr("resources", Attribute::optional())
            .attr("not_resources", Attribute::optional())
            .block("principals", block(principals.clone()))
            .block("not_principals", block(principals))
            .block("condition", block(condition));
        IamPolicyDocumentData {
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("policy_id", Attribute::optional())
                .attr(
                    "version",
                    Attribute::optional().describe("2012-10-17 (default) or 2008-10-17"),
                )
                .attr("source_policy_documents", Attribute::optional())
                .attr("override_policy_documents", Attribute::optional())
                .attr("json", Attribute::computed())
                .attr("minified_json", Attribute::computed())
                .block("statement", block(statement)),
        }
    }
}

#[async_trait]
impl DataSource for IamPolicyDocumentData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let doc = document(config).map_err(ProviderError::new)?;
        let json = render(&doc.to_json(), true);
        let minified = render(&doc.to_json(), false);
        let id = crate::ec2::crc32(json.as_bytes()).to_string();
        Ok(with_all(
            config,
            [
                ("id", s(id)),
                ("json", s(json)),
                ("minified_json", s(minified)),
            ],
        ))
    }
}

// ---------------------------------------------------------------------------
// The document model, as the provider's Go types hold it.

/// A JSON value as Go marshals it: objects keep the given field order (Go
/// sorts map keys; callers build maps sorted).
#[derive(Clone, Debug, PartialEq)]
enum J {
    Str(String),
    Raw(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// One identifier or several.
#[derive(Clone, Debug, PartialEq)]
enum Strs {
    One(String),
    Many(Vec<String>),
}

impl Strs {
    fn to_json(&self) -> J {
        match self {
            Strs::One(x) => J::Str(x.clone()),
            Strs::Many(xs) => J::Arr(xs.iter().cloned().map(J::Str).collect()),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Doc {
    version: String,
    id: String,
    statements: Vec<Stmt>,
}

#[derive(Clone, Debug, Default)]
struct Stmt {
    sid: String,
    effect: String,
    action: Option<J>,
    not_action: Option<J>,
    resource: Option<J>,
    not_resource: Option<J>,
    principals: Vec<(String, Strs)>,
    not_principals: Vec<(String, Strs)>,
    conditions: Vec<(String, String, Strs)>,
}

impl Doc {
    /// Terraform's `Merge`: the newer version and a set Id win; statements
    /// with a Sid replace those with the same Sid, others are appended.
    fn merge(&mut self, new: Doc) {
        if !new.id.is_empty() {
            self.id = new.id;
        }
        if new.version > self.version {
            self.version = new.version;
        }
        for st in new.statements {
            if st.sid.is_empty() {
                self.statements.push(st);
                continue;
            }
            match self.statements.iter_mut().find(|x| x.sid == st.sid) {
                Some(x) => *x = st,
                None => self.statements.push(st),
            }
        }
    }

    fn to_json(&self) -> J {
        let mut o = Vec::new();
        if !self.version.is_empty() {
            o.push(("Version".to_owned(), J::Str(self.version.clone())));
        }
        if !self.id.is_empty() {
            o.push(("Id".to_owned(), J::Str(self.id.clone())));
        }
        if !self.statements.is_empty() {
            o.push((
                "Statement".to_owned(),
                J::Arr(self.statements.iter().map(Stmt::to_json).collect()),
            ));
        }
        J::Obj(o)
    }
}

impl Stmt {
    fn to_json(&self) -> J {
        let mut o = Vec::new();
        let mut put = |k: &str, v: J| o.push((k.to_owned(), v));
        if !self.sid.is_empty() {
            put("Sid", J::Str(self.sid.clone()));
        }
        if !self.effect.is_empty() {
            put("Effect", J::Str(self.effect.clone()));
        }
        for (k, v) in [
            ("Action", &self.action),
            ("NotAction", &self.not_action),
            ("Resource", &self.resource),
            ("NotResource", &self.not_resource),
        ] {
            // Go's `omitempty` on an `interface{}`: only nil is left out.
            if let Some(v) = v {
                put(k, v.clone());
            }
        }
        if !self.principals.is_empty() {
            put("Principal", principals_json(&self.principals));
        }
        if !self.not_principals.is_empty() {
            put("NotPrincipal", principals_json(&self.not_principals));
        }
        if !self.conditions.is_empty() {
            put("Condition", conditions_json(&self.conditions));
        }
        J::Obj(o)
    }
}

/// `IAMPolicyStatementPrincipalSet.MarshalJSON`.
fn principals_json(ps: &[(String, Strs)]) -> J {
    if let [(kind, ids)] = ps
        && kind == "*"
    {
        let star = match ids {
            Strs::One(x) => x == "*",
            Strs::Many(xs) => xs.len() == 1 && xs[0] == "*",
        };
        if star {
            return J::Str("*".to_owned());
        }
    }
    let mut raw: BTreeMap<String, Strs> = BTreeMap::new();
    for (kind, ids) in ps {
        match ids {
            Strs::Many(i) => {
                let mut i = i.clone();
                i.sort();
                i.reverse();
                let entry = raw.remove(kind);
                let mut list = match entry {
                    None => Vec::new(),
                    Some(Strs::One(v)) => vec![v],
                    Some(Strs::Many(v)) => v,
                };
                list.extend(i);
                raw.insert(kind.clone(), Strs::Many(list));
            }
            Strs::One(i) => {
                let next = match raw.remove(kind) {
                    None => Strs::One(i.clone()),
                    Some(Strs::One(v)) => Strs::Many(vec![v, i.clone()]),
                    Some(Strs::Many(mut v)) => {
                        v.push(i.clone());
                        Strs::Many(v)
                    }
                };
                raw.insert(kind.clone(), next);
            }
        }
    }
    J::Obj(raw.into_iter().map(|(k, v)| (k, v.to_json())).collect())
}

/// `IAMPolicyStatementConditionSet.MarshalJSON`: values of the same test and
/// variable appended in order, a single one flattened to a string.
fn conditions_json(cs: &[(String, String, Strs)]) -> J {
    let mut raw: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (test, var, values) in cs {
        let slot = raw
            .entry(test.clone())
            .or_default()
            .entry(var.clone())
            .or_default();
        match values {
            Strs::One(v) => slot.push(v.clone()),
            Strs::Many(vs) => slot.extend(vs.iter().cloned()),
        }
    }
    J::Obj(
        raw.into_iter()
            .map(|(test, vars)| {
                let vars = vars
                    .into_iter()
                    .map(|(var, mut vals)| {
                        let v = if vals.len() == 1 {
                            J::Str(vals.remove(0))
                        } else {
                            J::Arr(vals.into_iter().map(J::Str).collect())
                        };
                        (var, v)
                    })
                    .collect();
                (test, J::Obj(vars))
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// From the configuration.

/// A set of strings as the provider decodes it: one as a string, several
/// (without duplicates) in reverse sorted order; none as `None`.
fn config_strings(v: &Value, key: &str) -> Option<Strs> {
    let set: BTreeSet<String> = crate::attrs::str_list(v, key).into_iter().collect();
    match set.len() {
        0 => None,
        1 => set.into_iter().next().map(Strs::One),
        _ => Some(Strs::Many(set.into_iter().rev().collect())),
    }
}

/// `&{` becomes `${`; version 2008-10-17 has no policy variables.
fn replace_vars(x: Strs, version: &str) -> Result<Strs, String> {
    let one = |s: String| -> Result<String, String> {
        if version == "2008-10-17" && s.contains("&{") {
            return Err(format!(
                "found &{{ sequence in ({s}), which is not supported in document version 2008-10-17"
            ));
        }
        Ok(s.replace("&{", "${"))
    };
    Ok(match x {
        Strs::One(s) => Strs::One(one(s)?),
        Strs::Many(v) => Strs::Many(v.into_iter().map(one).collect::<Result<_, _>>()?),
    })
}

fn config_principals(
    stmt: &Value,
    key: &str,
    version: &str,
) -> Result<Vec<(String, Strs)>, String> {
    let mut out = Vec::new();
    for p in blocks(stmt, key) {
        let kind = opt_str(p, "type").unwrap_or_default().to_owned();
        let Some(ids) = config_strings(p, "identifiers") else {
            return Err(format!("{key}: identifiers must not be empty"));
        };
        out.push((kind, replace_vars(ids, version)?));
    }
    Ok(out)
}

fn config_conditions(stmt: &Value, version: &str) -> Result<Vec<(String, String, Strs)>, String> {
    let mut out = Vec::new();
    for c in blocks(stmt, "condition") {
        let mut values = crate::attrs::str_list(c, "values");
        let values = if values.len() == 1 {
            Strs::One(values.remove(0))
        } else {
            Strs::Many(values)
        };
        out.push((
            opt_str(c, "test").unwrap_or_default().to_owned(),
            opt_str(c, "variable").unwrap_or_default().to_owned(),
            replace_vars(values, version)?,
        ));
    }
    Ok(out)
}

/// The merged document the configuration describes.
fn document(config: &Value) -> Result<Doc, String> {
    let mut merged = Doc::default();
    let mut sids = BTreeSet::new();
    for (i, text) in crate::attrs::str_list(config, "source_policy_documents")
        .iter()
        .enumerate()
    {
        let src = parse(text).map_err(|e| format!("merging source document {i}: {e}"))?;
        for (n, st) in src.statements.iter().enumerate() {
            if !st.sid.is_empty() && !sids.insert(st.sid.clone()) {
                return Err(format!(
                    "merging source document {i}: duplicate Sid ({}) in source_policy_documents (statement {n}). Remove the Sid or ensure Sids are unique.",
                    st.sid
                ));
            }
        }
        merged.merge(src);
    }
    let version = opt_str(config, "version")
        .unwrap_or("2012-10-17")
        .to_owned();
    if version != "2012-10-17" && version != "2008-10-17" {
        return Err(format!(
            "version must be 2012-10-17 or 2008-10-17, got {version:?}"
        ));
    }
    let mut doc = Doc {
        version: version.clone(),
        id: opt_str(config, "policy_id").unwrap_or_default().to_owned(),
        statements: Vec::new(),
    };
    let mut own = BTreeSet::new();
    for st in blocks(config, "statement") {
        let sid = opt_str(st, "sid").unwrap_or_default().to_owned();
        if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "statement sid {sid:?} must only include alphanumeric characters"
            ));
        }
        if !sid.is_empty() && !own.insert(sid.clone()) {
            return Err(format!(
                "duplicate Sid ({sid}). Remove the Sid or ensure the Sid is unique."
            ));
        }
        let effect = opt_str(st, "effect").unwrap_or("Allow").to_owned();
        if effect != "Allow" && effect != "Deny" {
            return Err(format!(
                "statement effect must be Allow or Deny, got {effect:?}"
            ));
        }
        let vars = |k: &str| -> Result<Option<J>, String> {
            config_strings(st, k)
                .map(|x| replace_vars(x, &version).map(|x| x.to_json()))
                .transpose()
        };
        doc.statements.push(Stmt {
            sid,
            effect,
            action: config_strings(st, "actions").map(|x| x.to_json()),
            not_action: config_strings(st, "not_actions").map(|x| x.to_json()),
            resource: vars("resources")?,
            not_resource: vars("not_resources")?,
            principals: config_principals(st, "principals", &version)?,
            not_principals: config_principals(st, "not_principals", &version)?,
            conditions: config_conditions(st, &version)?,
        });
    }
    merged.merge(doc);
    for (i, text) in crate::attrs::str_list(config, "override_policy_documents")
        .iter()
        .enumerate()
    {
        let o = parse(text).map_err(|e| format!("merging override document {i}: {e}"))?;
        merged.merge(o);
    }
    Ok(merged)
}

// ---------------------------------------------------------------------------
// From JSON (source and override documents), as Go's `json.Unmarshal` into
// the provider's types reads it: field names matched case-insensitively,
// unknown fields dropped.

fn field<'a>(
    m: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn json_string(v: Option<&serde_json::Value>, what: &str) -> Result<String, String> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("{what} must be a string, got {other}")),
    }
}

/// An `interface{}` field: whatever JSON it holds, re-marshalled.
fn any_json(v: &serde_json::Value) -> J {
    use serde_json::Value as V;
    match v {
        V::String(s) => J::Str(s.clone()),
        V::Array(xs) => J::Arr(xs.iter().map(any_json).collect()),
        V::Object(m) => {
            let mut pairs: Vec<(String, J)> =
                m.iter().map(|(k, v)| (k.clone(), any_json(v))).collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            J::Obj(pairs)
        }
        other => J::Raw(other.to_string()),
    }
}

fn parse_principals(v: Option<&serde_json::Value>) -> Result<Vec<(String, Strs)>, String> {
    use serde_json::Value as V;
    match v {
        None | Some(V::Null) => Ok(Vec::new()),
        Some(V::String(_)) => Ok(vec![("*".to_owned(), Strs::Many(vec!["*".to_owned()]))]),
        Some(V::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                V::String(s) => Ok((k.clone(), Strs::One(s.clone()))),
                V::Array(xs) => xs
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("principal {k:?} identifiers must be strings"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|mut ids| {
                        ids.sort();
                        (k.clone(), Strs::Many(ids))
                    }),
                other => Err(format!("unsupported principal identifiers {other}")),
            })
            .collect(),
        Some(other) => Err(format!("unsupported Principal {other}")),
    }
}

fn parse_conditions(v: Option<&serde_json::Value>) -> Result<Vec<(String, String, Strs)>, String> {
    use serde_json::Value as V;
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let tests = v
        .as_object()
        .ok_or_else(|| format!("Condition must be an object, got {v}"))?;
    let mut out = Vec::new();
    for (test, vars) in tests {
        let vars = vars
            .as_object()
            .ok_or_else(|| format!("Condition {test:?} must be an object"))?;
        for (var, values) in vars {
            let values = match values {
                V::String(s) => Strs::Many(vec![s.clone()]),
                V::Bool(b) => Strs::One(b.to_string()),
                V::Array(xs) => Strs::Many(
                    xs.iter()
                        .map(|x| match x {
                            V::String(s) => Ok(s.clone()),
                            other => Err(format!("condition values must be strings, got {other}")),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => continue,
            };
            out.push((test.clone(), var.clone(), values));
        }
    }
    Ok(out)
}

fn parse(text: &str) -> Result<Doc, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let m = v
        .as_object()
        .ok_or_else(|| "a policy document must be a JSON object".to_owned())?;
    let statements = match field(m, "Statement") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(xs)) => xs
            .iter()
            .map(|x| {
                let st = x
                    .as_object()
                    .ok_or_else(|| format!("a statement must be an object, got {x}"))?;
                let any = |k: &str| field(st, k).filter(|v| !v.is_null()).map(any_json);
                Ok(Stmt {
                    sid: json_string(field(st, "Sid"), "Sid")?,
                    effect: json_string(field(st, "Effect"), "Effect")?,
                    action: any("Action"),
                    not_action: any("NotAction"),
                    resource: any("Resource"),
                    not_resource: any("NotResource"),
                    principals: parse_principals(field(st, "Principal"))?,
                    not_principals: parse_principals(field(st, "NotPrincipal"))?,
                    conditions: parse_conditions(field(st, "Condition"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
        Some(other) => return Err(format!("Statement must be a list, got {other}")),
    };
    Ok(Doc {
        version: json_string(field(m, "Version"), "Version")?,
        id: json_string(field(m, "Id"), "Id")?,
        statements,
    })
}

// ---------------------------------------------------------------------------
// Go's encoder.

/// A string as Go's `encoding/json` writes it (HTML-safe).
fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.MarshalIndent(doc, "", "  ")` when `indent`, else `json.Marshal`.
fn render(j: &J, indent: bool) -> String {
    let mut out = String::new();
    write(j, indent, 0, &mut out);
    out
}

fn write(j: &J, indent: bool, depth: usize, out: &mut String) {
    let nl = |out: &mut String, d: usize| {
        if indent {
            out.push('\n');
            out.push_str(&"  ".repeat(d));
        }
    };
    match j {
        J::Str(s) => go_string(s, out),
        J::Raw(r) => out.push_str(r),
        J::Arr(xs) if xs.is_empty() => out.push_str("[]"),
        J::Obj(xs) if xs.is_empty() => out.push_str("{}"),
        J::Arr(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                write(x, indent, depth + 1, out);
            }
            nl(out, depth);
            out.push(']');
        }
        J::Obj(xs) => {
            out.push('{');
            for (i, (k, v)) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                go_string(k, out);
                out.push(':');
                if indent {
                    out.push(' ');
                }
                write(v, indent, depth + 1, out);
            }
            nl(out, depth);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{obj, strings};

    fn stmt(pairs: Vec<(&str, Value)>) -> Value {
        obj(pairs)
    }

    fn json_of(config: Value) -> String {
        render(&document(&config).unwrap().to_json(), true)
    }

    fn doc(statements: Vec<Value>) -> Value {
        obj([("statement", Value::List(statements))])
    }

    /// The Terraform docs' "Example Multiple Condition Keys", with v5's
    /// rendering (no empty Sid; the docs page predates v5).
    #[test]
    fn multiple_condition_keys_render_as_terraform_does() {
        let cond = |var: &str, val: &str| {
            obj([
                ("test", s("ForAnyValue:StringEquals")),
                ("variable", s(var)),
                ("values", strings([val])),
            ])
        };
        let got = json_of(doc(vec![stmt(vec![
            ("actions", strings(["kms:Decrypt", "kms:GenerateDataKey"])),
            ("resources", strings(["*"])),
            (
                "condition",
                Value::List(vec![
                    cond("kms:EncryptionContext:service", "pi"),
                    cond("kms:EncryptionContext:aws:pi:service", "rds"),
                ]),
            ),
        ])]));
        let want = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "kms:GenerateDataKey",
        "kms:Decrypt"
      ],
      "Resource": "*",
      "Condition": {
        "ForAnyValue:StringEquals": {
          "kms:EncryptionContext:aws:pi:service": "rds",
          "kms:EncryptionContext:service": "pi"
        }
      }
    }
  ]
}"#;
        assert_eq!(got, want);
    }

    /// The docs' "Example Using A Source Document".
    #[test]
    fn a_source_document_is_merged_by_sid() {
        let source = json_of(doc(vec![
            stmt(vec![
                ("actions", strings(["ec2:*"])),
                ("resources", strings(["*"])),
            ]),
            stmt(vec![
                ("sid", s("SidToOverride")),
                ("actions", strings(["s3:*"])),
                ("resources", strings(["*"])),
            ]),
        ]));
        let got = json_of(obj([
            ("source_policy_documents", strings([source])),
            (
                "statement",
                Value::List(vec![stmt(vec![
                    ("sid", s("SidToOverride")),
                    ("actions", strings(["s3:*"])),
                    (
                        "resources",
                        strings(["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"]),
                    ),
                ])]),
            ),
        ]));
        let want = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ec2:*",
      "Resource": "*"
    },
    {
      "Sid": "SidToOverride",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::somebucket/*",
        "arn:aws:s3:::somebucket"
      ]
    }
  ]
}"#;
        assert_eq!(got, want);
    }

    /// The docs' "Example with Both Source and Override Documents".
    #[test]
    fn override_documents_replace_by_sid() {
        let one = |action: &str| {
            json_of(doc(vec![stmt(vec![
                ("sid", s("OverridePlaceholder")),
                ("actions", strings([action])),
                ("resources", strings(["*"])),
            ])]))
        };
        let got = json_of(obj([
            (
                "source_policy_documents",
                strings([one("ec2:DescribeAccountAttributes")]),
            ),
            ("override_policy_documents", strings([one("s3:GetObject")])),
        ]));
        let want = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "OverridePlaceholder",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    }
  ]
}"#;
        assert_eq!(got, want);
    }

    #[test]
    fn assume_role_principals_variables_and_escaping() {
        let principal = |t: &str, ids: &[&str]| {
            obj([
                ("type", s(t)),
                ("identifiers", strings(ids.iter().copied())),
            ])
        };
        let got = json_of(doc(vec![stmt(vec![
            ("actions", strings(["sts:AssumeRole"])),
            (
                "principals",
                Value::List(vec![
                    principal("Service", &["firehose.amazonaws.com"]),
                    principal("AWS", &["arn:aws:iam::123456789012:root", "111122223333"]),
                ]),
            ),
            (
                "condition",
                Value::List(vec![obj([
                    ("test", s("StringLike")),
                    ("variable", s("s3:prefix")),
                    ("values", strings(["", "home/&{aws:username}/", "a<b"])),
                ])]),
            ),
        ])]));
        let want = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Principal": {
        "AWS": [
          "arn:aws:iam::123456789012:root",
          "111122223333"
        ],
        "Service": "firehose.amazonaws.com"
      },
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "",
            "home/${aws:username}/",
            "a\u003cb"
          ]
        }
      }
    }
  ]
}"#;
        assert_eq!(got, want);
        let star = json_of(doc(vec![stmt(vec![
            ("actions", strings(["s3:GetObject"])),
            ("principals", Value::List(vec![principal("*", &["*"])])),
        ])]));
        assert!(star.contains(r#""Principal": "*""#), "{star}");
        let minified = render(
            &document(&doc(vec![stmt(vec![("actions", strings(["s3:*"]))])]))
                .unwrap()
                .to_json(),
            false,
        );
        assert_eq!(
            minified,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#
        );
    }

    #[test]
    fn bad_configurations_are_errors() {
        let dup = doc(vec![
            stmt(vec![("sid", s("A")), ("actions", strings(["s3:*"]))]),
            stmt(vec![("sid", s("A")), ("actions", strings(["s3:*"]))]),
        ]);
        assert!(document(&dup).unwrap_err().contains("duplicate Sid"));
        let effect = doc(vec![stmt(vec![("effect", s("Maybe"))])]);
        assert!(document(&effect).is_err());
        let old = obj([
            ("version", s("2008-10-17")),
            (
                "statement",
                Value::List(vec![stmt(vec![("resources", strings(["a/&{x}"]))])]),
            ),
        ]);
        assert!(document(&old).is_err());
        let src = obj([("source_policy_documents", strings(["not json"]))]);
        assert!(document(&src).is_err());
    }
}
