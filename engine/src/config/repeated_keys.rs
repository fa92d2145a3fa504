//! Repeated object keys. Terraform takes `{ port = 80, port = 443 }` and the
//! last one wins; hcl-edit's parser refuses it ("redefined object key") and
//! its objects cannot hold the same key twice. So a file that fails that way
//! is parsed once more with each repeated key renamed (same length, so every
//! position stays true), the earlier items of each repeated key are found in
//! that tree, and they are blanked out of the real text, which then parses
//! with only the winning items left.

use std::collections::HashMap;
use std::ops::Range;

use hcl_edit::Span as _;
use hcl_edit::expr::{Object, ObjectKey, ObjectValue};
use hcl_edit::parser::parse_body;
use hcl_edit::structure::Body;
use hcl_edit::visit::{Visit, visit_object};

/// How many repeated keys one file may hold before we stop trying.
const MAX_REPEATS: usize = 1000;

/// Whether a parse error is the one this module handles.
pub fn is_repeated_key(e: &hcl_edit::parser::Error) -> bool {
    e.message().contains("redefined object key")
}

/// The text without the items that a later repeated key overrides, when
/// the only syntax problems were repeated keys; `None` otherwise.
pub fn drop_overridden(text: &str) -> Option<String> {
    let mut probe = text.to_owned();
    // Offset of each renamed key -> its real name.
    let mut renamed: HashMap<usize, String> = HashMap::new();
    let body = loop {
        match parse_body(&probe) {
            Ok(body) => break body,
            Err(e) if is_repeated_key(&e) && renamed.len() < MAX_REPEATS => {
                let at = e.location().offset();
                let (name, range) = key_at(&probe, at)?;
                let placeholder = unused_name(&probe, range.len())?;
                probe.replace_range(range, &placeholder);
                renamed.insert(at, name);
            }
            Err(_) => return None,
        }
    };
    let mut finder = Overridden {
        text: &probe,
        renamed: &renamed,
        blank: Vec::new(),
    };
    finder.visit_body(&body);
    let mut out = text.as_bytes().to_vec();
    for range in finder.blank {
        for b in &mut out[range] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The key that starts at `at`: an identifier or a plain quoted string,
/// with the range of the characters to rename.
fn key_at(text: &str, at: usize) -> Option<(String, Range<usize>)> {
    let rest = text.get(at..)?;
    if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.find('"')?;
        let name = &quoted[..end];
        if name.contains(['\\', '$', '%']) || name.is_empty() {
            return None;
        }
        return Some((name.to_owned(), at + 1..at + 1 + end));
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| (rest[..end].to_owned(), at..at + end))
}

/// A name of `len` ASCII letters that appears nowhere in the text.
fn unused_name(text: &str, len: usize) -> Option<String> {
    (0..10_000u32)
        .map(|n| {
            let mut s = String::with_capacity(len);
            let mut n = n;
            for _ in 0..len {
                s.push(char::from(b'A' + (n % 26) as u8));
                n /= 26;
            }
            s
        })
        .find(|s| !text.contains(s.as_str()))
}

/// Finds, in every object, the items a later item with the same key
/// overrides.
struct Overridden<'a> {
    text: &'a str,
    renamed: &'a HashMap<usize, String>,
    blank: Vec<Range<usize>>,
}

impl Overridden<'_> {
    /// The key's real name, when it is a plain name or string.
    fn name(&self, key: &ObjectKey) -> Option<String> {
        let span = key.span()?;
        if let Some(real) = self.renamed.get(&span.start) {
            return Some(real.clone());
        }
        match key {
            ObjectKey::Ident(id) => Some(id.as_str().to_owned()),
            ObjectKey::Expression(_) => key_at(self.text, span.start).map(|(name, _)| name),
        }
    }

    /// The text an item takes, with the comma that ends it.
    fn item_range(&self, key: &ObjectKey, value: &ObjectValue) -> Option<Range<usize>> {
        let start = key.span()?.start;
        let mut end = value.expr().span()?.end;
        let after = self.text.get(end..)?;
        let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
        if after[spaces..].starts_with(',') {
            end += spaces + 1;
        }
        Some(start..end)
    }
}

impl Visit for Overridden<'_> {
    fn visit_object(&mut self, node: &Object) {
        let mut last: HashMap<String, Range<usize>> = HashMap::new();
        for (key, value) in node.iter() {
            let (Some(name), Some(range)) = (self.name(key), self.item_range(key, value)) else {
                continue;
            };
            if let Some(earlier) = last.insert(name, range) {
                self.blank.push(earlier);
            }
        }
        visit_object(self, node);
    }
}

/// Parses `text`, letting later repeated object keys override earlier ones.
pub fn parse_allowing_repeats(text: &str) -> Result<Body, hcl_edit::parser::Error> {
    match parse_body(text) {
        Err(e) if is_repeated_key(&e) => match drop_overridden(text) {
            Some(fixed) => parse_body(&fixed).map_err(|_| e),
            None => Err(e),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_repeated_keys_is_kept_and_positions_stay() {
        let text = "x = { port = 80, port = 443 }\ny = { \"a\" = 1\n  b = 2\n  \"a\" = 3\n  b = 4, b = 5 }\n";
        let fixed = drop_overridden(text).expect("only repeated keys");
        assert_eq!(fixed.len(), text.len());
        assert_eq!(fixed.lines().count(), text.lines().count());
        assert!(fixed.contains("port = 443") && !fixed.contains("port = 80"));
        assert!(fixed.contains("\"a\" = 3") && !fixed.contains("\"a\" = 1"));
        assert!(fixed.contains("b = 5") && !fixed.contains("b = 2") && !fixed.contains("b = 4"));
        assert!(parse_body(&fixed).is_ok(), "{fixed}");
    }

    #[test]
    fn other_syntax_errors_are_left_alone() {
        assert!(drop_overridden("x = { a = 1, a = }\n").is_none());
        assert!(parse_allowing_repeats("x = {\n").is_err());
    }
}
