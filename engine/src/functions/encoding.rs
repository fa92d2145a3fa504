//! Encoding functions: base64decode, base64encode, base64gzip, csvdecode,
//! jsondecode, jsonencode, urlencode (yamldecode and yamlencode have their
//! own files).
//!
//! `base64gzip` writes a valid gzip stream of the text with Go's header
//! (no name, no time); the compressed bytes can differ from Terraform's,
//! whose compressor is Go's own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Args, Arity, Def, FuncContext};
use dumcel_planner::Value;
use dumcel_planner::value::format_number;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("base64decode", Arity::Exactly(1), base64decode),
    Def::new("base64encode", Arity::Exactly(1), base64encode),
    Def::new("base64gzip", Arity::Exactly(1), base64gzip),
    Def::new("csvdecode", Arity::Exactly(1), csvdecode),
    Def::new("jsondecode", Arity::Exactly(1), jsondecode),
    Def::new("jsonencode", Arity::Exactly(1), jsonencode),
    Def::new("urlencode", Arity::Exactly(1), urlencode),
];

fn base64decode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let bytes = STANDARD
        .decode(a.string(0)?.as_bytes())
        .map_err(|e| format!("the given value is not valid base64: {e}"))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "the result of decoding the provided string is not valid UTF-8".into())
}

fn base64encode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::String(STANDARD.encode(a.string(0)?.as_bytes())))
}

fn base64gzip(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    use std::io::Write;
    let mut gz = flate2::GzBuilder::new()
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(a.string(0)?.as_bytes())
        .and_then(|()| gz.finish())
        .map(|bytes| Value::String(STANDARD.encode(bytes)))
        .map_err(|e| format!("failed to compress: {e}"))
}

/// Terraform's `csvdecode`: RFC 4180, the first line names the columns,
/// every row has as many fields as the header, blank lines are skipped.
fn csvdecode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let text = a.string(0)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(csv_error(&e)),
        None => return Err("missing header line".into()),
    };
    let names: Vec<String> = header.iter().map(str::to_owned).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(format!("duplicate column name {name:?}"));
        }
    }
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| csv_error(&e))?;
        if record.len() != names.len() {
            let line = record.position().map_or(0, |p| p.line());
            return Err(format!(
                "CSV parse error on line {line}: wrong number of fields"
            ));
        }
        let row = names
            .iter()
            .zip(record.iter())
            .map(|(k, v)| (k.clone(), Value::String(v.to_owned())))
            .collect();
        rows.push(Value::Map(row));
    }
    Ok(Value::List(rows))
}

fn csv_error(e: &csv::Error) -> String {
    match e.position() {
        Some(p) => format!("CSV parse error on line {}: {e}", p.line()),
        None => format!("CSV parse error: {e}"),
    }
}

fn jsondecode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let json: serde_json::Value = serde_json::from_str(&a.string(0)?)
        .map_err(|e| format!("the given string is not valid JSON: {e}"))?;
    Ok(Value::from_json(&json))
}

fn jsonencode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::String(json_encode(a.get(0))))
}

/// Terraform's `jsonencode`: compact, object keys sorted, whole numbers
/// without a fraction, and `<`, `>`, `&`, U+2028 and U+2029 escaped as
/// `\u003c` and so on. Unknowns (never passed by [`super::call`]) encode as null.
pub(super) fn json_encode(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_finite() => out.push_str(&format_number(*n)),
        Value::Number(_) => out.push_str("null"),
        Value::String(s) => write_json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
        Value::Sensitive(inner) => write_json(inner, out),
    }
}

fn write_json_string(s: &str, out: &mut String) {
    let quoted = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    for c in quoted.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
}

/// Go's `url.QueryEscape`: unreserved characters stay, spaces become `+`,
/// every other byte becomes `%XX`.
fn urlencode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let s = a.string(0)?;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;
    use dumcel_planner::Value;

    #[test]
    fn base64() {
        assert_eq!(
            ok("base64encode", vec![s("Hello World")]),
            s("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]),
            s("Hello World")
        );
        assert_eq!(
            err("base64decode", vec![s("/w==")]),
            "the result of decoding the provided string is not valid UTF-8"
        );
        assert!(err("base64decode", vec![s("!!")]).contains("not valid base64"));
    }

    #[test]
    fn jsonencode_is_compact_and_sorted() {
        assert_eq!(
            ok(
                "jsonencode",
                vec![map(&[
                    ("b", n(1.0)),
                    ("a", list(vec![b(true), Value::Null]))
                ])]
            ),
            s("{\"a\":[true,null],\"b\":1}")
        );
        assert_eq!(
            ok("jsonencode", vec![map(&[("hello", s("world"))])]),
            s("{\"hello\":\"world\"}")
        );
        assert_eq!(ok("jsonencode", vec![n(1.5)]), s("1.5"));
        assert_eq!(ok("jsonencode", vec![n(1e21)]), s("1000000000000000000000"));
        assert_eq!(ok("jsonencode", vec![Value::Null]), s("null"));
        assert_eq!(
            ok("jsonencode", vec![s("<a & b>\u{2028}\n")]),
            s("\"\\u003ca \\u0026 b\\u003e\\u2028\\n\"")
        );
    }

    #[test]
    fn jsondecode_parses() {
        assert_eq!(
            ok("jsondecode", vec![s("{\"hello\": \"world\"}")]),
            map(&[("hello", s("world"))])
        );
        assert_eq!(ok("jsondecode", vec![s("true")]), b(true));
        assert_eq!(
            ok("jsondecode", vec![s("[1, 2.5, null]")]),
            list(vec![n(1.0), n(2.5), Value::Null])
        );
        assert!(err("jsondecode", vec![s("{")]).contains("not valid JSON"));
        let deep = "[".repeat(10_000);
        assert!(err("jsondecode", vec![s(&deep)]).contains("not valid JSON"));
    }

    #[test]
    fn urlencode_like_go() {
        assert_eq!(
            ok("urlencode", vec![s("Hello World!")]),
            s("Hello+World%21")
        );
        assert_eq!(ok("urlencode", vec![s("☃")]), s("%E2%98%83"));
        assert_eq!(
            ok("urlencode", vec![s("foo:bar@localhost?foo=bar&bar=baz")]),
            s("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
        );
        assert_eq!(ok("urlencode", vec![s("a-b_c.d~e")]), s("a-b_c.d~e"));
    }
}
