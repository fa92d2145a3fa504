//! Renders the change between two values as Terraform's plan does: one line per
//! attribute with a marker (`+`, `~`, `-`, or blank when unchanged), nested
//! `{ }` and `[ ]` for collections, heredoc line diffs for multi-line strings
//! and `jsonencode(...)` diffs for JSON strings.
//!
//! Layout: a value that starts on a line at depth `d` puts its children at
//! depth `d + 1`. A line at depth `d` is `2 + 4d` spaces, the marker, a space
//! and the text; the closing bracket of a value at depth `d` sits after
//! `4(d + 1)` spaces. The resource body is the value of the `resource` line at
//! depth 0, so its attributes are at depth 1 (`      + id = ...`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use similar::{Algorithm, DiffTag, capture_diff_slices};

use super::style::Palette;
use crate::diff::same;
use crate::value::{Map, Value, format_number};

pub(crate) const SENSITIVE: &str = "(sensitive value)";
pub(crate) const UNKNOWN: &str = "(known after apply)";

/// Attributes Terraform always shows, even when unchanged.
const IMPORTANT: [&str; 3] = ["id", "name", "tags"];

/// Unchanged lines kept around a change in a multi-line string diff.
const CONTEXT_LINES: usize = 3;

static NULL: Value = Value::Null;

/// What happens to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    NoOp,
    Create,
    Update,
    Delete,
}

/// What kind of object a map value is, which decides how its keys print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// The resource's own attributes: bare names, `id`/`name`/`tags` always
    /// shown, `-> null` on removed attributes.
    Attr,
    /// A map (`tags`, `triggers`): quoted keys, "elements".
    Map,
    /// An object inside a list (a nested block): bare names, "attributes".
    Object,
    /// A value decoded from a JSON string: bare names, nulls shown.
    Json,
}

impl Keys {
    fn child_map(self) -> Keys {
        match self {
            Keys::Json => Keys::Json,
            _ => Keys::Map,
        }
    }

    fn list_elem(self) -> Keys {
        match self {
            Keys::Json => Keys::Json,
            _ => Keys::Object,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Keys::Map => "element",
            _ => "attribute",
        }
    }

    fn display(self, key: &str) -> String {
        if self != Keys::Map && is_identifier(key) {
            key.to_owned()
        } else {
            quote(key)
        }
    }
}

/// Per-value rendering switches, as Terraform's RenderHumanOpts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt {
    /// Print ` -> null` after this value when it is removed.
    pub null_suffix: bool,
    /// Print unchanged children instead of counting them.
    pub show_unchanged: bool,
    /// Print `# forces replacement` after this value.
    pub replace: bool,
}

impl Opt {
    pub(crate) const TOP: Opt = Opt {
        null_suffix: false,
        show_unchanged: false,
        replace: false,
    };
}

/// One line of a heredoc diff.
enum HLine<'s> {
    Line(Act, &'s str),
    Fold(usize),
}

pub(crate) struct Differ<'p> {
    pub pal: &'p Palette,
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// Spaces before the marker of a line at `depth`.
fn pad(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n(' ', 2 + 4 * depth));
}

/// Spaces before the closing bracket of a value that starts at `depth`.
fn close(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n(' ', 4 * (depth + 1)));
}

/// A scalar literal. Collections never reach here; sensitive values are masked
/// all the same.
pub(crate) fn literal(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) => quote(s),
        Value::Unknown => UNKNOWN.to_owned(),
        Value::Sensitive(_) => SENSITIVE.to_owned(),
        other => other.to_string(),
    }
}

/// A string holding a JSON object or array, parsed.
fn json_container(s: &str) -> Option<serde_json::Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str(s).ok()
}

fn is_scalar(v: &Value) -> bool {
    matches!(
        v,
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Unknown
    )
}

/// The action of a child of a collection whose own action is `parent`; `None`
/// when the child is null on both sides and so not shown at all.
fn child_action(b: &Value, a: &Value, parent: Act, nulls_visible: bool) -> Option<Act> {
    let (bn, an) = (matches!(b, Value::Null), matches!(a, Value::Null));
    Some(match (bn, an) {
        (true, true) if nulls_visible => match parent {
            Act::Create | Act::Delete => parent,
            _ => Act::NoOp,
        },
        (true, true) => return None,
        (true, false) => Act::Create,
        (false, true) => Act::Delete,
        (false, false) if same(b, a) => Act::NoOp,
        (false, false) => Act::Update,
    })
}

/// The lines of a heredoc: one trailing newline is dropped.
fn lines_of(s: &str) -> Vec<&str> {
    s.strip_suffix('\n').unwrap_or(s).split('\n').collect()
}

// Every part is written into one buffer, `out`: a plan of 1,000 changes was
// spending a quarter of its time allocating and copying the pieces.
impl Differ<'_> {
    pub(crate) fn sym(&self, out: &mut String, act: Act) {
        match act {
            Act::NoOp => out.push(' '),
            Act::Create => out.push_str(&self.pal.green("+")),
            Act::Update => out.push_str(&self.pal.yellow("~")),
            Act::Delete => out.push_str(&self.pal.red("-")),
        }
    }

    fn rep(&self, out: &mut String, replace: bool) {
        if replace {
            out.push(' ');
            out.push_str(&self.pal.red("# forces replacement"));
        }
    }

    fn null_suffix(&self, out: &mut String, act: Act, o: Opt) {
        if act == Act::Delete && o.null_suffix {
            out.push(' ');
            out.push_str(&self.pal.dim("-> null"));
        }
    }

    fn hidden_line(&self, out: &mut String, depth: usize, count: usize, noun: &str) {
        let plural = if count == 1 { "" } else { "s" };
        pad(out, depth);
        out.push_str("  ");
        out.push_str(
            &self
                .pal
                .dim(&format!("# ({count} unchanged {noun}{plural} hidden)")),
        );
        out.push('\n');
    }

    /// Writes the text after `name = ` for a change from `b` to `a` (null
    /// when absent).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rhs(
        &self,
        out: &mut String,
        b: &Value,
        a: &Value,
        act: Act,
        depth: usize,
        o: Opt,
        keys: Keys,
    ) {
        let o = if act == Act::NoOp {
            Opt {
                show_unchanged: true,
                ..o
            }
        } else {
            o
        };
        // A part of this value's text: its suffixes belong to the whole.
        let bare = Opt {
            null_suffix: false,
            replace: false,
            ..o
        };
        // The mark is checked before anything looks inside the value.
        if b.is_sensitive() || a.is_sensitive() {
            out.push_str(SENSITIVE);
            if act == Act::Update && matches!(a, Value::Unknown) {
                out.push_str(" -> ");
                out.push_str(UNKNOWN);
            } else {
                self.null_suffix(out, act, o);
            }
            self.rep(out, o.replace);
            return;
        }
        if matches!(a, Value::Unknown) {
            if !matches!(b, Value::Null) {
                self.rhs(out, b, &NULL, Act::Delete, depth, bare, keys);
                out.push_str(" -> ");
            }
            out.push_str(UNKNOWN);
            self.rep(out, o.replace);
            return;
        }
        match (b, a) {
            (Value::Null, Value::Null) => self.primitive(out, b, a, act, depth, o),
            (Value::Map(_) | Value::Null, Value::Map(_) | Value::Null) => {
                self.map(out, b.as_map(), a.as_map(), act, depth, o, keys, &[])
            }
            (Value::List(_) | Value::Null, Value::List(_) | Value::Null) => self.list(
                out,
                b.as_list().unwrap_or_default(),
                a.as_list().unwrap_or_default(),
                act,
                depth,
                o,
                keys,
            ),
            _ if is_scalar(b) && is_scalar(a) => self.primitive(out, b, a, act, depth, o),
            _ => {
                // A change of type: the old value removed, then the new one.
                self.rhs(out, b, &NULL, Act::Delete, depth, bare, keys);
                out.push_str(" -> ");
                self.rhs(out, &NULL, a, Act::Create, depth, bare, keys);
                self.rep(out, o.replace);
            }
        }
    }

    /// An object or map: `{`, one line per key, `}`. `replace_keys` names the
    /// keys whose change forces replacement (only for the resource itself).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn map(
        &self,
        out: &mut String,
        b: Option<&Map>,
        a: Option<&Map>,
        act: Act,
        depth: usize,
        o: Opt,
        keys: Keys,
        replace_keys: &[String],
    ) {
        let empty = Map::new();
        let (bm, am) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
        let names: BTreeSet<&String> = bm.keys().chain(am.keys()).collect();
        let mut entries = Vec::new();
        for name in names {
            let bv = bm.get(name).unwrap_or(&NULL);
            let av = am.get(name).unwrap_or(&NULL);
            if let Some(child) = child_action(bv, av, act, keys == Keys::Json) {
                entries.push((name.as_str(), keys.display(name), child, bv, av));
            }
        }
        if entries.is_empty() {
            out.push_str("{}");
            self.null_suffix(out, act, o);
            self.rep(out, o.replace);
            return;
        }
        let width = entries
            .iter()
            .map(|e| e.1.chars().count())
            .max()
            .unwrap_or(0);
        let child_null_suffix = match keys {
            Keys::Attr => true,
            Keys::Json => false,
            Keys::Map | Keys::Object => act != Act::Delete,
        };
        out.push('{');
        self.rep(out, o.replace);
        out.push('\n');
        let mut hidden = 0;
        for (name, shown, child, bv, av) in &entries {
            let important = matches!(keys, Keys::Attr | Keys::Object) && IMPORTANT.contains(name);
            if *child == Act::NoOp && !o.show_unchanged && !important {
                hidden += 1;
                continue;
            }
            let co = Opt {
                null_suffix: child_null_suffix,
                show_unchanged: o.show_unchanged,
                replace: replace_keys.iter().any(|k| k == name),
            };
            pad(out, depth + 1);
            self.sym(out, *child);
            let _ = write!(out, " {shown:<width$} = ");
            self.rhs(out, bv, av, *child, depth + 1, co, keys.child_map());
            out.push('\n');
        }
        if hidden > 0 {
            self.hidden_line(out, depth + 1, hidden, keys.noun());
        }
        close(out, depth);
        out.push('}');
        self.null_suffix(out, act, o);
    }

    #[allow(clippy::too_many_arguments)]
    fn list(
        &self,
        out: &mut String,
        b: &[Value],
        a: &[Value],
        act: Act,
        depth: usize,
        o: Opt,
        keys: Keys,
    ) {
        let elems: Vec<(Act, &Value, &Value)> = match act {
            Act::Create => a.iter().map(|v| (Act::Create, &NULL, v)).collect(),
            Act::Delete => b.iter().map(|v| (Act::Delete, v, &NULL)).collect(),
            Act::NoOp => a.iter().map(|v| (Act::NoOp, v, v)).collect(),
            Act::Update => list_ops(b, a),
        };
        if elems.is_empty() {
            out.push_str("[]");
            self.null_suffix(out, act, o);
            self.rep(out, o.replace);
            return;
        }
        // Lists of scalars show the unchanged neighbours of each change, since
        // order matters there; lists of objects (blocks) only count them.
        let context = b.iter().chain(a).all(|v| is_scalar(v.unmark().0));
        let eo = Opt {
            null_suffix: false,
            show_unchanged: o.show_unchanged,
            replace: false,
        };
        let uo = Opt {
            show_unchanged: true,
            ..eo
        };
        let ek = keys.list_elem();
        let line = |out: &mut String, (ea, bv, av): (Act, &Value, &Value), opt: Opt| {
            pad(out, depth + 1);
            self.sym(out, ea);
            out.push(' ');
            self.rhs(out, bv, av, ea, depth + 1, opt, ek);
            out.push_str(",\n");
        };
        out.push('[');
        self.rep(out, o.replace);
        out.push('\n');
        let mut unchanged: Vec<(Act, &Value, &Value)> = Vec::new();
        let mut render_next = false;
        for el in elems {
            if el.0 == Act::NoOp && !render_next && !o.show_unchanged {
                unchanged.push(el);
                continue;
            }
            render_next = false;
            let mut opt = eo;
            if context {
                if unchanged.len() > 1 {
                    self.hidden_line(out, depth + 1, unchanged.len() - 1, "element");
                }
                if let Some(last) = unchanged.last() {
                    line(out, *last, uo);
                }
                unchanged.clear();
                if el.0 == Act::NoOp {
                    opt = uo;
                } else {
                    render_next = true;
                }
            }
            line(out, el, opt);
        }
        if !unchanged.is_empty() {
            self.hidden_line(out, depth + 1, unchanged.len(), "element");
        }
        close(out, depth);
        out.push(']');
        self.null_suffix(out, act, o);
    }

    fn primitive(&self, out: &mut String, b: &Value, a: &Value, act: Act, depth: usize, o: Opt) {
        let str_or_null = |v: &Value| matches!(v, Value::String(_) | Value::Null);
        if str_or_null(b) && str_or_null(a) && (b.as_str().is_some() || a.as_str().is_some()) {
            return self.string(out, b.as_str(), a.as_str(), act, depth, o);
        }
        match act {
            Act::Create | Act::NoOp => out.push_str(&literal(a)),
            Act::Delete => {
                out.push_str(&literal(b));
                self.null_suffix(out, act, o);
            }
            Act::Update => {
                out.push_str(&literal(b));
                out.push_str(" -> ");
                out.push_str(&literal(a));
            }
        }
        self.rep(out, o.replace);
    }

    fn string(
        &self,
        out: &mut String,
        b: Option<&str>,
        a: Option<&str>,
        act: Act,
        depth: usize,
        o: Opt,
    ) {
        match act {
            Act::Create | Act::NoOp | Act::Delete => {
                let s = if act == Act::Delete { b } else { a.or(b) }.unwrap_or_default();
                if let Some(j) = json_container(s) {
                    let (bj, aj) = match act {
                        Act::Create => (None, Some(j)),
                        Act::Delete => (Some(j), None),
                        _ => (Some(j.clone()), Some(j)),
                    };
                    return self.json(out, bj, aj, act, depth, o);
                }
                if s.contains('\n') {
                    let lines = lines_of(s)
                        .into_iter()
                        .map(|l| HLine::Line(Act::NoOp, l))
                        .collect();
                    return self.heredoc(out, lines, act, depth, o);
                }
                out.push_str(&quote(s));
                if act == Act::Delete {
                    self.null_suffix(out, act, o);
                }
                self.rep(out, o.replace);
            }
            Act::Update => {
                let (bs, as_) = (b.unwrap_or_default(), a.unwrap_or_default());
                if let (Some(bj), Some(aj)) = (json_container(bs), json_container(as_)) {
                    return self.json(out, Some(bj), Some(aj), act, depth, o);
                }
                if !bs.contains('\n') && !as_.contains('\n') {
                    out.push_str(&quote(bs));
                    out.push_str(" -> ");
                    out.push_str(&quote(as_));
                    self.rep(out, o.replace);
                    return;
                }
                let (bs, as_) = match (bs.strip_suffix('\n'), as_.strip_suffix('\n')) {
                    (Some(x), Some(y)) => (x, y),
                    _ => (bs, as_),
                };
                let bl: Vec<&str> = bs.split('\n').collect();
                let al: Vec<&str> = as_.split('\n').collect();
                let mut lines = Vec::new();
                for op in capture_diff_slices(Algorithm::Myers, &bl, &al) {
                    let (tag, old, new) = op.as_tag_tuple();
                    match tag {
                        DiffTag::Equal => lines.extend(bl[old].iter().map(|l| (Act::NoOp, *l))),
                        _ => {
                            lines.extend(bl[old].iter().map(|l| (Act::Delete, *l)));
                            lines.extend(al[new].iter().map(|l| (Act::Create, *l)));
                        }
                    }
                }
                self.heredoc(out, fold(lines), act, depth, o)
            }
        }
    }

    fn heredoc(&self, out: &mut String, lines: Vec<HLine<'_>>, act: Act, depth: usize, o: Opt) {
        out.push_str("<<-EOT");
        self.rep(out, o.replace);
        out.push('\n');
        for line in lines {
            match line {
                HLine::Line(la, text) => {
                    let start = out.len();
                    pad(out, depth + 1);
                    self.sym(out, la);
                    out.push(' ');
                    out.push_str(text);
                    // An empty line has no trailing spaces.
                    let kept = out[start..].trim_end().len();
                    out.truncate(start + kept);
                    out.push('\n');
                }
                HLine::Fold(n) => self.hidden_line(out, depth + 1, n, "line"),
            }
        }
        close(out, depth);
        out.push_str("EOT");
        self.null_suffix(out, act, o);
    }

    fn json(
        &self,
        out: &mut String,
        b: Option<serde_json::Value>,
        a: Option<serde_json::Value>,
        act: Act,
        depth: usize,
        o: Opt,
    ) {
        let bv = b.as_ref().map(Value::from_json).unwrap_or_default();
        let av = a.as_ref().map(Value::from_json).unwrap_or_default();
        let inner_act = match act {
            Act::Update if same(&bv, &av) => Act::NoOp,
            other => other,
        };
        let whitespace = act == Act::Update && inner_act == Act::NoOp;
        let note = match (whitespace, o.replace) {
            (false, _) => "",
            (true, true) => " # whitespace changes force replacement",
            (true, false) => " # whitespace changes",
        };
        let replace = o.replace && !whitespace;
        let sym_act = if act == Act::Update && !whitespace {
            Act::Update
        } else {
            Act::NoOp
        };
        let io = Opt {
            null_suffix: false,
            show_unchanged: o.show_unchanged || whitespace,
            replace: false,
        };
        // Rendered apart first: its shape decides the layout around it.
        let mut inner = String::new();
        self.rhs(&mut inner, &bv, &av, inner_act, depth + 1, io, Keys::Json);
        out.push_str("jsonencode(");
        if inner.contains('\n') {
            out.push_str(note);
            out.push('\n');
            pad(out, depth + 1);
            self.sym(out, sym_act);
            out.push(' ');
            out.push_str(&inner);
            self.rep(out, replace);
            out.push('\n');
            close(out, depth);
            out.push(')');
        } else {
            out.push_str(&inner);
            out.push(')');
            out.push_str(note);
            self.rep(out, replace);
        }
        self.null_suffix(out, act, o);
    }
}

/// Element-wise changes between two lists, diffed over the elements' rendered
/// keys. Objects replaced at the same position are shown as updated in place.
fn list_ops<'v>(b: &'v [Value], a: &'v [Value]) -> Vec<(Act, &'v Value, &'v Value)> {
    let key = |v: &Value| format!("{v:?}");
    let bk: Vec<String> = b.iter().map(key).collect();
    let ak: Vec<String> = a.iter().map(key).collect();
    let mut out = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &bk, &ak) {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => out.extend(old.zip(new).map(|(i, j)| (Act::NoOp, &b[i], &a[j]))),
            DiffTag::Delete => out.extend(old.map(|i| (Act::Delete, &b[i], &NULL))),
            DiffTag::Insert => out.extend(new.map(|j| (Act::Create, &NULL, &a[j]))),
            DiffTag::Replace => {
                let paired = old
                    .clone()
                    .zip(new.clone())
                    .take_while(|(i, j)| {
                        matches!(b[*i], Value::Map(_)) && matches!(a[*j], Value::Map(_))
                    })
                    .count();
                out.extend(
                    old.clone()
                        .zip(new.clone())
                        .take(paired)
                        .map(|(i, j)| (Act::Update, &b[i], &a[j])),
                );
                out.extend(old.skip(paired).map(|i| (Act::Delete, &b[i], &NULL)));
                out.extend(new.skip(paired).map(|j| (Act::Create, &NULL, &a[j])));
            }
        }
    }
    out
}

/// Folds long runs of unchanged lines, keeping a few around each change.
fn fold(lines: Vec<(Act, &str)>) -> Vec<HLine<'_>> {
    if lines.iter().all(|(act, _)| *act == Act::NoOp) {
        return lines.into_iter().map(|(a, l)| HLine::Line(a, l)).collect();
    }
    let n = lines.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if lines[i].0 != Act::NoOp {
            out.push(HLine::Line(lines[i].0, lines[i].1));
            i += 1;
            continue;
        }
        let start = i;
        while i < n && lines[i].0 == Act::NoOp {
            i += 1;
        }
        let end = i;
        let head = if start == 0 { 0 } else { CONTEXT_LINES };
        let tail = if end == n { 0 } else { CONTEXT_LINES };
        let run = &lines[start..end];
        if run.len() > head + tail + 1 {
            out.extend(run[..head].iter().map(|(a, l)| HLine::Line(*a, l)));
            out.push(HLine::Fold(run.len() - head - tail));
            out.extend(
                run[run.len() - tail..]
                    .iter()
                    .map(|(a, l)| HLine::Line(*a, l)),
            );
        } else {
            out.extend(run.iter().map(|(a, l)| HLine::Line(*a, l)));
        }
    }
    out
}
