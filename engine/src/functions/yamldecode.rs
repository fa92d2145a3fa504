//! `yamldecode`, as Terraform decodes YAML (its go-cty-yaml): YAML 1.1's
//! resolution of plain scalars (`yes`, `on`, `y` are true; `0x10` is 16;
//! `010` is ten; dates become RFC 3339 strings), quoted scalars always
//! strings, anchors and aliases, `<<` merge keys, mapping keys turned into
//! strings, and exactly one document. yaml-rust2 parses; this file only
//! turns its events into values, with an explicit stack so deep input cannot
//! overflow ours.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{Args, Arity, Def, FuncContext};
use dumcel_planner::{Map, Value};

pub(super) const FUNCTIONS: &[Def] = &[Def::new("yamldecode", Arity::Exactly(1), yamldecode)];

fn yamldecode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    decode(&a.string(0)?)
}

const CORE: &str = "tag:yaml.org,2002:";

/// A collection being filled while its events arrive.
enum Open {
    Seq {
        anchor: usize,
        items: Vec<Value>,
    },
    Map {
        anchor: usize,
        entries: Map,
        /// The key read, waiting for its value.
        key: Option<Key>,
    },
}

enum Key {
    Name(String),
    /// `<<`: the value is merged into the mapping.
    Merge,
}

pub(super) fn decode(text: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            format!(
                "on line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            )
        })?;
        let done = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => None,
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(at(mark, "unexpected extra content after value"));
                }
                None
            }
            Event::Alias(id) => Some(
                anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(mark, "alias refers to an anchor that is not complete"))?,
            ),
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Open::Map {
                    key: key @ None, ..
                }) = stack.last_mut()
                {
                    *key = Some(map_key(&text, style, tag.as_ref(), mark)?);
                    continue;
                }
                let v = scalar(&text, style, tag.as_ref()).map_err(|e| at(mark, &e))?;
                if anchor != 0 {
                    anchors.insert(anchor, v.clone());
                }
                Some(v)
            }
            Event::SequenceStart(anchor, tag) => {
                collection_tag(tag.as_ref(), "seq", "sequence", mark)?;
                key_position_is_scalar(&stack, mark)?;
                stack.push(Open::Seq {
                    anchor,
                    items: Vec::new(),
                });
                None
            }
            Event::MappingStart(anchor, tag) => {
                collection_tag(tag.as_ref(), "map", "mapping", mark)?;
                key_position_is_scalar(&stack, mark)?;
                stack.push(Open::Map {
                    anchor,
                    entries: Map::new(),
                    key: None,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, v) = match stack.pop() {
                    Some(Open::Seq { anchor, items }) => (anchor, Value::List(items)),
                    Some(Open::Map {
                        anchor, entries, ..
                    }) => (anchor, Value::Map(entries)),
                    None => return Err(at(mark, "unbalanced collection end")),
                };
                if anchor != 0 {
                    anchors.insert(anchor, v.clone());
                }
                Some(v)
            }
        };
        let Some(v) = done else { continue };
        match stack.last_mut() {
            None => root = Some(v),
            Some(Open::Seq { items, .. }) => items.push(v),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                Some(Key::Name(k)) => {
                    entries.insert(k, v);
                }
                Some(Key::Merge) => merge(entries, v).map_err(|e| at(mark, &e))?,
                None => return Err(at(mark, "only strings are allowed as mapping keys")),
            },
        }
    }
    root.ok_or_else(|| "on line 1, column 1: missing start of document".to_string())
}

fn at(mark: Marker, message: &str) -> String {
    format!(
        "on line {}, column {}: {message}",
        mark.line(),
        mark.col() + 1
    )
}

/// A collection where a mapping expects its key: YAML allows it, Terraform
/// does not.
fn key_position_is_scalar(stack: &[Open], mark: Marker) -> Result<(), String> {
    match stack.last() {
        Some(Open::Map { key: None, .. }) => {
            Err(at(mark, "only strings are allowed as mapping keys"))
        }
        _ => Ok(()),
    }
}

fn collection_tag(tag: Option<&Tag>, core: &str, what: &str, mark: Marker) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if t.handle == CORE && t.suffix == core => Ok(()),
        Some(t) => Err(at(
            mark,
            &format!("can't interpret {what} as {}", tag_name(t)),
        )),
    }
}

fn tag_name(t: &Tag) -> String {
    if t.handle == CORE {
        format!("!!{}", t.suffix)
    } else {
        format!("{}{}", t.handle, t.suffix)
    }
}

fn map_key(
    text: &str,
    style: TScalarStyle,
    tag: Option<&Tag>,
    mark: Marker,
) -> Result<Key, String> {
    let untagged_merge = tag.is_none() && text == "<<";
    if untagged_merge || tag.is_some_and(|t| t.handle == CORE && t.suffix == "merge") {
        return Ok(Key::Merge);
    }
    match scalar(text, style, tag).map_err(|e| at(mark, &e))? {
        Value::Null => Err(at(mark, "mapping key cannot be null")),
        Value::String(s) => Ok(Key::Name(s)),
        Value::Bool(b) => Ok(Key::Name(b.to_string())),
        Value::Number(n) => Ok(Key::Name(
            super::to_str(&Value::Number(n))
                .unwrap_or_default()
                .into_owned(),
        )),
        _ => Err(at(mark, "only strings are allowed as mapping keys")),
    }
}

/// `<<: *base` or `<<: [*a, *b]`: later keys win, as in go-cty-yaml.
fn merge(entries: &mut Map, v: Value) -> Result<(), String> {
    match v {
        Value::Map(m) => entries.extend(m),
        Value::List(items) => {
            for item in items {
                match item {
                    Value::Map(m) => entries.extend(m),
                    _ => {
                        return Err(
                            "cannot merge a non-mapping (from sequence) into mapping".into()
                        );
                    }
                }
            }
        }
        _ => return Err("cannot merge a non-mapping into mapping".into()),
    }
    Ok(())
}

/// Resolves one scalar as go-cty-yaml's `resolveScalar` does.
fn scalar(src: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let tag = match tag {
        None => "",
        Some(t) if t.handle == CORE => match t.suffix.as_str() {
            s @ ("str" | "bool" | "int" | "float" | "null" | "timestamp" | "binary") => s,
            _ => return Err(format!("unsupported tag \"{}\"", tag_name(t))),
        },
        // `!` alone is the non-specific tag: a string.
        Some(t) if t.handle == "!" && t.suffix.is_empty() => "str",
        Some(t) => return Err(format!("unsupported tag \"{}\"", tag_name(t))),
    };
    let quoted = matches!(
        style,
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
    );
    let mut tag = tag;
    let hint = src.as_bytes().first().copied();
    let hinted = match hint {
        None => true,
        Some(c) => matches!(
            c,
            b'+' | b'-' | b'0'
                ..=b'9'
                    | b'.'
                    | b'y'
                    | b'Y'
                    | b'n'
                    | b'N'
                    | b't'
                    | b'T'
                    | b'f'
                    | b'F'
                    | b'o'
                    | b'O'
                    | b'~'
        ),
    };
    // Block scalars (`|`, `>`) are resolved like plain ones by go-yaml.
    if hinted && tag != "str" && tag != "binary" {
        if quoted {
            return Ok(Value::String(src.to_owned()));
        }
        if let Some(v) = well_known(src) {
            return Ok(v);
        }
        if tag.is_empty() && matches!(src, ".nan" | ".NaN" | ".NAN") {
            return Err("floating point NaN is not supported".into());
        }
        match hint {
            Some(b'.') => {
                if let Some(n) = decimal(src) {
                    return Ok(Value::Number(n));
                }
            }
            Some(b'+' | b'-' | b'0'..=b'9') => {
                if (tag.is_empty() || tag == "timestamp")
                    && let Some(t) = timestamp(src)
                {
                    return Ok(Value::String(t));
                }
                if is_integer_literal(src) {
                    tag = "int";
                } else if is_float_literal(src) {
                    tag = "float";
                }
            }
            _ => {}
        }
    }
    match tag {
        "str" => Ok(Value::String(src.to_owned())),
        "binary" => {
            let compact: String = src.chars().filter(|c| !c.is_whitespace()).collect();
            STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| format!("cannot parse {src:?} as !!binary: not valid base64"))?;
            Ok(Value::String(src.to_owned()))
        }
        "bool" => match well_known(src) {
            Some(b @ Value::Bool(_)) => Ok(b),
            _ => Err(format!("cannot parse {src:?} as !!bool")),
        },
        "int" | "float" => number(src).ok_or_else(|| format!("cannot parse {src:?} as !!{tag}")),
        "timestamp" => timestamp(src)
            .map(Value::String)
            .ok_or_else(|| format!("cannot parse {src:?} as !!timestamp")),
        "null" => Ok(Value::Null),
        _ => Ok(Value::String(src.to_owned())),
    }
}

/// go-yaml's table of YAML 1.1 booleans, nulls and infinities.
fn well_known(src: &str) -> Option<Value> {
    Some(match src {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Number(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Number(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// `[-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+`, YAML 1.2's integers.
fn is_integer_literal(s: &str) -> bool {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(rest) = s.strip_prefix("0o") {
        return digits(rest, 8);
    }
    if let Some(rest) = s.strip_prefix("0x") {
        return digits(rest, 16);
    }
    digits(s.strip_prefix(['-', '+']).unwrap_or(s), 10)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float_literal(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let all_digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && all_digits(frac),
        Some((int, frac)) => !int.is_empty() && all_digits(int) && all_digits(frac),
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A decimal number as cty parses one (no hex, no underscores).
fn decimal(s: &str) -> Option<f64> {
    if !is_float_literal(s) {
        return None;
    }
    s.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() || s.contains(['e', 'E']))
}

/// A number tagged or resolved as int/float: decimal first, then Go's
/// base prefixes (`0x`, `0o`, and a leading `0` read as decimal by cty
/// before the octal reading is tried). Underscores are dropped.
fn number(src: &str) -> Option<Value> {
    let plain: String = src.chars().filter(|&c| c != '_').collect();
    if let Some(n) = decimal(&plain) {
        return Some(Value::Number(n));
    }
    let (negative, body) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else {
            return None;
        };
    let n = u64::from_str_radix(digits, radix).ok()? as f64;
    Some(Value::Number(if negative { -n } else { n }))
}

/// The timestamp forms go-cty-yaml accepts, as RFC 3339 (whole seconds,
/// as Go's `time.RFC3339` prints them).
fn timestamp(s: &str) -> Option<String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits != 4 || s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && !s.contains(['T', 't', ' '])
    {
        return Some(format!("{}T00:00:00Z", d.format("%Y-%m-%d")));
    }
    let upper = s.replacen('t', "T", 1);
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(&upper.replace('z', "Z")) {
        return Some(if t.offset().local_minus_utc() == 0 {
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        } else {
            t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
        });
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
    None
}
