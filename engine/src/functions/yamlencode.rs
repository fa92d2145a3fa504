//! `yamlencode`, byte for byte as Terraform writes YAML (go-cty-yaml on
//! libyaml's emitter): block style, keys and strings double-quoted, strings
//! with a newline as literal blocks (`|`, `|-`, `|+`, `|2`), long quoted
//! strings folded at column 80, and a plain scalar document closed by `...`.
//! Only the emitter paths those choices reach are written here.

use super::{Args, Arity, Def, FuncContext};
use dumcel_planner::{Map, Value};

pub(super) const FUNCTIONS: &[Def] = &[Def::new("yamlencode", Arity::Exactly(1), yamlencode)];

fn yamlencode(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::String(encode(a.get(0))))
}

/// libyaml's line width and indentation step.
const WIDTH: usize = 80;
const STEP: usize = 2;

pub(super) fn encode(v: &Value) -> String {
    let mut e = Emitter::default();
    match v.unmark().0 {
        Value::List(items) if !items.is_empty() => e.sequence(items, 0),
        Value::Map(map) if !map.is_empty() => e.mapping(map, 0),
        Value::String(s) => e.string(s, STEP, true),
        other => {
            e.put(&plain(other));
            // libyaml ends a document whose root is a plain scalar explicitly.
            if !matches!(other, Value::List(_) | Value::Map(_)) {
                e.put("\n...");
            }
        }
    }
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

#[derive(Default)]
struct Emitter {
    out: String,
    /// Characters on the current line.
    column: usize,
}

impl Emitter {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            self.out.push(c);
            self.column = if c == '\n' { 0 } else { self.column + 1 };
        }
    }

    /// A new line at `indent` (none when the cursor already starts one, as
    /// after a literal block's last line break).
    fn line(&mut self, indent: usize) {
        if self.column > 0 {
            self.put("\n");
        }
        self.put(&" ".repeat(indent));
    }

    /// A block sequence whose dashes are at `indent`; the first dash goes
    /// where the cursor is (after a parent's `- `).
    fn sequence(&mut self, items: &[Value], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.line(indent);
            }
            self.put("- ");
            self.node_inline(item, indent + STEP);
        }
    }

    /// A block mapping whose keys are at `indent`; the first key goes where
    /// the cursor is.
    fn mapping(&mut self, map: &Map, indent: usize) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 {
                self.line(indent);
            }
            if is_simple_key(key) {
                self.double_quoted(key, indent + STEP, false);
                self.put(":");
                self.value_after_key(value, indent);
            } else {
                // libyaml's explicit key: `? key` then `: value`.
                self.put("? ");
                self.string(key, indent + STEP, true);
                self.line(indent);
                self.put(": ");
                self.node_inline(value, indent + STEP);
            }
        }
    }

    /// A mapping value after `"key":`: scalars on the same line, a nested
    /// mapping indented on the next, a sequence on the next at the key's
    /// own indentation (libyaml's indentless sequence).
    fn value_after_key(&mut self, value: &Value, indent: usize) {
        match value.unmark().0 {
            Value::Map(m) if !m.is_empty() => {
                self.line(indent + STEP);
                self.mapping(m, indent + STEP);
            }
            Value::List(items) if !items.is_empty() => {
                self.line(indent);
                self.sequence(items, indent);
            }
            other => {
                self.put(" ");
                self.scalar(other, indent + STEP);
            }
        }
    }

    /// A node right after `- ` or `: ` (explicit key), compact: a nested
    /// collection starts on the same line.
    fn node_inline(&mut self, value: &Value, indent: usize) {
        match value.unmark().0 {
            Value::Map(m) if !m.is_empty() => self.mapping(m, indent),
            Value::List(items) if !items.is_empty() => self.sequence(items, indent),
            other => self.scalar(other, indent),
        }
    }

    fn scalar(&mut self, v: &Value, indent: usize) {
        match v {
            Value::String(s) => self.string(s, indent, true),
            other => self.put(&plain(other)),
        }
    }

    /// A string: a literal block when it has a newline and libyaml allows
    /// a block there, else double-quoted. `indent` is where block lines and
    /// folded continuation lines start.
    fn string(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        if s.contains('\n') && block_allowed(s) {
            self.literal(s, indent);
        } else {
            self.double_quoted(s, indent, allow_breaks);
        }
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.put("|");
        let first = s.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.put(&STEP.to_string());
        }
        let mut rev = s.chars().rev();
        match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => self.put("-"),
            (Some(_), None) => self.put("+"),
            (Some(_), Some(before)) if is_break(before) => self.put("+"),
            _ => {}
        }
        self.put("\n");
        let mut at_line_start = true;
        for c in s.chars() {
            if is_break(c) {
                self.out.push(c);
                self.column = 0;
                at_line_start = true;
            } else {
                if at_line_start {
                    self.put(&" ".repeat(indent));
                    at_line_start = false;
                }
                self.out.push(c);
                self.column += 1;
            }
        }
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if let Some(escaped) = escape(c) {
                self.put(&escaped);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > WIDTH && i != 0 && i != chars.len() - 1
                {
                    self.put("\n");
                    self.put(&" ".repeat(indent));
                    if chars.get(i + 1) == Some(&' ') {
                        self.put("\\");
                    }
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                self.out.push(c);
                self.column += 1;
                spaces = false;
            }
            i += 1;
        }
        self.put("\"");
    }
}

/// Null, bools and numbers as go-cty-yaml writes them (numbers in full,
/// never with an exponent).
fn plain(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_infinite() => if *n > 0.0 { "+Inf" } else { "-Inf" }.into(),
        Value::Number(n) => n.to_string(),
        Value::List(_) => "[]".into(),
        Value::Map(_) => "{}".into(),
        _ => "null".into(),
    }
}

/// libyaml writes a key inline only when it is on one line and at most
/// 128 characters long.
fn is_simple_key(key: &str) -> bool {
    key.chars().count() <= 128 && !key.chars().any(is_break)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's printable set (with Unicode output on).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// A literal block is allowed unless the text has characters a block
/// cannot show, a trailing space, or a space right before a line break.
/// Unlike libyaml, a line break other than `\n` (U+0085, U+2028, U+2029)
/// also makes the string double-quoted: YAML 1.2 parsers, ours included,
/// read those as content, so a block would not read back the same.
fn block_allowed(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let special = chars
        .iter()
        .any(|&c| !is_printable(c) || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'));
    let trailing_space = chars.last() == Some(&' ');
    let space_break = chars.windows(2).any(|w| w[0] == ' ' && is_break(w[1]));
    !(special || trailing_space || space_break)
}

/// libyaml's double-quoted escapes; `None` for a character written as is.
fn escape(c: char) -> Option<String> {
    if is_printable(c) && !is_break(c) && c != '"' && c != '\\' {
        return None;
    }
    Some(match c {
        '\0' => "\\0".into(),
        '\u{7}' => "\\a".into(),
        '\u{8}' => "\\b".into(),
        '\t' => "\\t".into(),
        '\n' => "\\n".into(),
        '\u{b}' => "\\v".into(),
        '\u{c}' => "\\f".into(),
        '\r' => "\\r".into(),
        '\u{1b}' => "\\e".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '\u{85}' => "\\N".into(),
        '\u{a0}' => "\\_".into(),
        '\u{2028}' => "\\L".into(),
        '\u{2029}' => "\\P".into(),
        c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
        c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
        c => format!("\\U{:08X}", c as u32),
    })
}
