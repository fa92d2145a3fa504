//! Values without a diff: `output`, `console`, `show` and `state show`.

use super::RenderOptions;
use super::diff::{SENSITIVE, UNKNOWN, is_identifier, literal, quote};
use super::style::Palette;
use crate::address::{InstanceAddr, Mode};
use crate::value::Value;

/// How the keys of a map print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    /// Always quoted: maps.
    Quoted,
    /// Bare when a valid identifier: resource attributes and nested blocks.
    Bare,
}

struct Layout {
    /// Spaces added per nesting level.
    unit: usize,
    /// Key style of maps inside lists (for nested blocks in `show`).
    list_objects: KeyStyle,
}

pub(crate) fn value(value: &Value, indent: usize) -> String {
    let layout = Layout {
        unit: 2,
        list_objects: KeyStyle::Quoted,
    };
    render(value, indent, &layout, KeyStyle::Quoted)
}

pub(crate) fn resource(
    address: &str,
    resource_type: &str,
    value: &Value,
    opts: &RenderOptions,
) -> String {
    let pal = Palette::new(opts.color);
    let (keyword, name) = match address.parse::<InstanceAddr>() {
        Ok(addr) => (
            match addr.resource.mode {
                Mode::Managed => "resource",
                Mode::Data => "data",
            },
            addr.resource.name,
        ),
        Err(_) => ("resource", address.to_owned()),
    };
    let layout = Layout {
        unit: 4,
        list_objects: KeyStyle::Bare,
    };
    let mut out = format!(
        "{}\n{keyword} {} {} ",
        pal.bold(&format!("# {address}:")),
        quote(resource_type),
        quote(&name)
    );
    let (inner, sensitive) = value.unmark();
    let attributes: Vec<(String, Value)> = match inner {
        Value::Map(map) => map
            .iter()
            .filter(|(_, v)| match v {
                Value::Null => false,
                Value::List(items) => !items.is_empty(),
                _ => true,
            })
            .map(|(k, v)| (k.clone(), v.clone().mark_if(sensitive)))
            .collect(),
        Value::Null => Vec::new(),
        other => vec![("value".to_owned(), other.clone().mark_if(sensitive))],
    };
    out.push_str(&entries(&attributes, 0, &layout, KeyStyle::Bare));
    out.push('\n');
    out
}

fn key(k: &str, style: KeyStyle) -> String {
    if style == KeyStyle::Bare && is_identifier(k) {
        k.to_owned()
    } else {
        quote(k)
    }
}

/// `{`, aligned `key = value` lines, `}`; `{}` when empty.
fn entries(pairs: &[(String, Value)], indent: usize, layout: &Layout, style: KeyStyle) -> String {
    if pairs.is_empty() {
        return "{}".to_owned();
    }
    let keys: Vec<String> = pairs.iter().map(|(k, _)| key(k, style)).collect();
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
    let inner = indent + layout.unit;
    let mut out = "{\n".to_owned();
    for (k, (_, v)) in keys.iter().zip(pairs) {
        out.push_str(&format!(
            "{}{k:<width$} = {}\n",
            " ".repeat(inner),
            render(v, inner, layout, KeyStyle::Quoted)
        ));
    }
    out.push_str(&" ".repeat(indent));
    out.push('}');
    out
}

fn render(value: &Value, indent: usize, layout: &Layout, style: KeyStyle) -> String {
    match value {
        Value::Sensitive(_) => SENSITIVE.to_owned(),
        Value::Unknown => UNKNOWN.to_owned(),
        Value::String(s) if s.contains('\n') => {
            let inner = " ".repeat(indent + layout.unit);
            let mut out = "<<-EOT\n".to_owned();
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{inner}{line}\n"));
                }
            }
            out.push_str(&" ".repeat(indent));
            out.push_str("EOT");
            out
        }
        Value::List(items) if items.is_empty() => "[]".to_owned(),
        Value::List(items) => {
            let inner = indent + layout.unit;
            let mut out = "[\n".to_owned();
            for item in items {
                out.push_str(&format!(
                    "{}{},\n",
                    " ".repeat(inner),
                    render(item, inner, layout, layout.list_objects)
                ));
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
            out
        }
        Value::Map(map) => {
            let pairs: Vec<(String, Value)> =
                map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            entries(&pairs, indent, layout, style)
        }
        scalar => literal(scalar),
    }
}
