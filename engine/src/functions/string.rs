//! String functions: chomp, endswith, format, formatlist, indent, join, lower,
//! replace, split, startswith, strcontains, strrev, substr, title, trim,
//! trimprefix, trimspace, trimsuffix, upper.
//!
//! Terraform counts "characters" as grapheme clusters; Dumcel counts Unicode
//! scalar values (`char`s), which only differs for combining sequences and
//! emoji built from several code points. `replace`'s `/regex/` form is in
//! regex.rs.

use super::format::format;
use super::{Args, Arity, Def, FuncContext, MAX_STRING, elem_type, invalid, to_str, too_long};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("chomp", Arity::Exactly(1), chomp),
    Def::new("endswith", Arity::Exactly(2), endswith),
    Def::new("format", Arity::AtLeast(1), format_fn),
    Def::new("formatlist", Arity::AtLeast(1), formatlist),
    Def::new("indent", Arity::Exactly(2), indent),
    Def::new("join", Arity::AtLeast(2), join),
    Def::new("lower", Arity::Exactly(1), lower),
    Def::new("replace", Arity::Exactly(3), replace),
    Def::new("split", Arity::Exactly(2), split),
    Def::new("startswith", Arity::Exactly(2), startswith),
    Def::new("strcontains", Arity::Exactly(2), strcontains),
    Def::new("strrev", Arity::Exactly(1), strrev),
    Def::new("substr", Arity::Exactly(3), substr),
    Def::new("title", Arity::Exactly(1), title),
    Def::new("trim", Arity::Exactly(2), trim),
    Def::new("trimprefix", Arity::Exactly(2), trimprefix),
    Def::new("trimspace", Arity::Exactly(1), trimspace),
    Def::new("trimsuffix", Arity::Exactly(2), trimsuffix),
    Def::new("upper", Arity::Exactly(1), upper),
];

/// Longest indentation `indent` accepts.
const MAX_INDENT: i64 = 10_000;

fn string(s: impl Into<String>) -> Result<Value, String> {
    Ok(Value::String(s.into()))
}

fn chomp(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    string(a.string(0)?.trim_end_matches(['\r', '\n']))
}

fn endswith(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::Bool(a.string(0)?.ends_with(&*a.string(1)?)))
}

fn startswith(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::Bool(a.string(0)?.starts_with(&*a.string(1)?)))
}

fn strcontains(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::Bool(a.string(0)?.contains(&*a.string(1)?)))
}

fn format_fn(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let spec = a.string(0)?;
    string(format(&spec, &a.all()[1..])?)
}

fn formatlist(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let spec = a.string(0)?;
    let rest = &a.all()[1..];
    let mut len: Option<(usize, usize)> = None;
    for (i, v) in rest.iter().enumerate() {
        if let Value::List(items) = v {
            match len {
                None => len = Some((items.len(), i)),
                Some((n, first)) if n != items.len() => {
                    return Err(format!(
                        "argument {} has length {}, which is inconsistent with argument {} of length {n}",
                        i + 2,
                        items.len(),
                        first + 2
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let count = len.map_or(1, |(n, _)| n);
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let args: Vec<Value> = rest
            .iter()
            .map(|v| match v {
                Value::List(items) => items[k].clone(),
                other => other.clone(),
            })
            .collect();
        let text =
            format(&spec, &args).map_err(|e| format!("error on format iteration {k}: {e}"))?;
        out.push(Value::String(text));
    }
    Ok(Value::List(out))
}

fn indent(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let spaces = a.integer(0, "spaces")?;
    if spaces < 0 {
        return Err(invalid("spaces", "must be non-negative"));
    }
    if spaces > MAX_INDENT {
        return Err(invalid(
            "spaces",
            format!("must not be greater than {MAX_INDENT}"),
        ));
    }
    let text = a.string(1)?;
    let lines = text.matches('\n').count();
    if text
        .len()
        .saturating_add(lines.saturating_mul(spaces as usize))
        > MAX_STRING
    {
        return Err(too_long());
    }
    let pad = format!("\n{}", " ".repeat(spaces as usize));
    string(text.replace('\n', &pad))
}

fn join(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let sep = a.string(0)?;
    let many = a.len() > 2;
    let mut parts: Vec<String> = Vec::new();
    for i in 1..a.len() {
        let list = a.list(i)?;
        for (j, v) in list.iter().enumerate() {
            if v.is_null() {
                return Err(if many {
                    format!(
                        "element {j} of list {i} is null; cannot concatenate null values (argument {})",
                        i + 1
                    )
                } else {
                    format!("element {j} is null; cannot concatenate null values")
                });
            }
            let s = to_str(v).ok_or_else(|| elem_type("a string", v, i, j))?;
            parts.push(s.into_owned());
        }
    }
    string(parts.join(&*sep))
}

/// Go's `strings.ToUpper` / `ToLower` use simple (one-to-one) case mappings:
/// characters whose mapping would change the length, like `ß`, stay as they are.
fn map_case<I: Iterator<Item = char> + ExactSizeIterator>(s: &str, f: fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut m = f(c);
            match (m.len(), m.next()) {
                (1, Some(one)) => one,
                _ => c,
            }
        })
        .collect()
}

fn lower(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    string(map_case(&a.string(0)?, char::to_lowercase))
}

fn upper(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    string(map_case(&a.string(0)?, char::to_uppercase))
}

fn replace(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (s, from, to) = (a.string(0)?, a.string(1)?, a.string(2)?);
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        return super::regex::replace_pattern(&s, &from[1..from.len() - 1], &to);
    }
    let matches = if from.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(&*from).count()
    };
    if s.len().saturating_add(matches.saturating_mul(to.len())) > MAX_STRING {
        return Err(too_long());
    }
    string(s.replace(&*from, &to))
}

fn split(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (sep, s) = (a.string(0)?, a.string(1)?);
    let parts: Vec<Value> = if sep.is_empty() {
        // Go's strings.Split with an empty separator splits after each character.
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(&*sep).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

fn strrev(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    string(a.string(0)?.chars().rev().collect::<String>())
}

fn substr(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let s = a.string(0)?;
    let offset = a.integer(1, "offset")?;
    let length = a.integer(2, "length")?;
    let total = s.chars().count() as i64;
    let start = if offset < 0 {
        (offset + total).max(0)
    } else {
        offset
    };
    if start >= total {
        return string("");
    }
    let rest = s.chars().skip(start as usize);
    if length < 0 {
        string(rest.collect::<String>())
    } else {
        string(rest.take(length.min(total) as usize).collect::<String>())
    }
}

/// Go's `strings.Title` word boundaries.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

fn title(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let s = a.string(0)?;
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        if is_separator(prev) {
            let mut up = c.to_uppercase();
            match (up.len(), up.next()) {
                (1, Some(one)) => out.push(one),
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
        prev = c;
    }
    string(out)
}

fn trim(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (s, cutset) = (a.string(0)?, a.string(1)?);
    string(s.trim_matches(|c| cutset.contains(c)))
}

fn trimprefix(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (s, prefix) = (a.string(0)?, a.string(1)?);
    string(s.strip_prefix(&*prefix).unwrap_or(&s))
}

fn trimsuffix(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (s, suffix) = (a.string(0)?, a.string(1)?);
    string(s.strip_suffix(&*suffix).unwrap_or(&s))
}

fn trimspace(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    string(a.string(0)?.trim())
}

#[cfg(test)]
#[allow(clippy::approx_constant)]
mod tests {
    use crate::functions::tests::*;
    use dumcel_planner::Value;

    fn fmt(spec: &str, args: Vec<Value>) -> String {
        let mut all = vec![s(spec)];
        all.extend(args);
        match ok("format", all) {
            Value::String(text) => text,
            other => panic!("format returned {other:?}"),
        }
    }

    fn fmt_err(spec: &str, args: Vec<Value>) -> String {
        let mut all = vec![s(spec)];
        all.extend(args);
        err("format", all)
    }

    #[test]
    fn format_documented_examples() {
        assert_eq!(fmt("Hello, %s!", vec![s("Ander")]), "Hello, Ander!");
        assert_eq!(
            fmt("There are %d lights", vec![n(4.0)]),
            "There are 4 lights"
        );
        assert_eq!(fmt("%v", vec![b(true)]), "true");
        assert_eq!(fmt("%#v", vec![s("hello")]), "\"hello\"");
        assert_eq!(fmt("%#v", vec![n(1.0)]), "1");
        assert_eq!(fmt("%#v", vec![map(&[("a", n(1.0))])]), "{\"a\":1}");
        assert_eq!(fmt("%v", vec![list(vec![n(1.0), s("a")])]), "[1,\"a\"]");
        assert_eq!(fmt("%v", vec![Value::Null]), "null");
        assert_eq!(fmt("100%%", vec![]), "100%");
    }

    #[test]
    fn format_numbers() {
        assert_eq!(fmt("%05.1f", vec![n(3.14159)]), "003.1");
        assert_eq!(fmt("%.2f", vec![n(3.14159)]), "3.14");
        assert_eq!(fmt("%f", vec![n(3.5)]), "3.500000");
        assert_eq!(fmt("%08.3f", vec![n(-3.14159)]), "-003.142");
        assert_eq!(fmt("%+.1f", vec![n(2.0)]), "+2.0");
        assert_eq!(fmt("%5d|", vec![n(42.0)]), "   42|");
        assert_eq!(fmt("%-5d|", vec![n(42.0)]), "42   |");
        assert_eq!(fmt("%05d", vec![n(-42.0)]), "-0042");
        assert_eq!(fmt("%.4d", vec![n(7.0)]), "0007");
        assert_eq!(fmt("%d", vec![s("12")]), "12");
        assert_eq!(
            fmt("%x %X %o %b", vec![n(255.0), n(255.0), n(8.0), n(5.0)]),
            "ff FF 10 101"
        );
        assert_eq!(fmt("%#x", vec![n(255.0)]), "0xff");
        assert_eq!(fmt("%e", vec![n(123456.789)]), "1.234568e+05");
        assert_eq!(fmt("%.2E", vec![n(0.000123)]), "1.23E-04");
        assert_eq!(fmt("%g", vec![n(100000.0)]), "100000");
        assert_eq!(fmt("%g", vec![n(1e6)]), "1e+06");
        assert_eq!(fmt("%g", vec![n(0.0001)]), "0.0001");
        assert_eq!(fmt("%g", vec![n(0.00001)]), "1e-05");
        assert_eq!(fmt("%g", vec![n(3.14159)]), "3.14159");
        assert_eq!(fmt("%.3g", vec![n(3.14159)]), "3.14");
        assert_eq!(fmt("%.3g", vec![n(1.0)]), "1");
        assert_eq!(fmt("%g", vec![n(0.0)]), "0");
        // %v of a number is Go's shortest %g (so large round numbers use an
        // exponent), while %s converts the number to a string.
        assert_eq!(fmt("%v", vec![n(1.5)]), "1.5");
        assert_eq!(fmt("%v", vec![n(1e6)]), "1e+06");
        assert_eq!(fmt("%s", vec![n(1e6)]), "1000000");
    }

    #[test]
    fn format_strings_and_indexes() {
        assert_eq!(fmt("%q", vec![s("hi \"x\"")]), "\"hi \\\"x\\\"\"");
        assert_eq!(fmt("%5s|", vec![s("ab")]), "   ab|");
        assert_eq!(fmt("%-5s|", vec![s("ab")]), "ab   |");
        assert_eq!(fmt("%.2s", vec![s("hello")]), "he");
        assert_eq!(fmt("%s", vec![b(true)]), "true");
        assert_eq!(fmt("%t", vec![s("false")]), "false");
        assert_eq!(fmt("%[2]s %[1]s", vec![s("a"), s("b")]), "b a");
        assert_eq!(fmt("%[2]s %s", vec![s("a"), s("b"), s("c")]), "b c");
        assert_eq!(fmt("%3s|", vec![s("🤔")]), "  🤔|");
    }

    #[test]
    fn format_errors() {
        assert_eq!(
            fmt_err("%d", vec![n(1.5)]),
            "unsupported value for \"%d\" at 0: an integer is required"
        );
        assert_eq!(
            fmt_err("a %s", vec![]),
            "not enough arguments for \"%s\" at 2: need index 1 but have 0 total"
        );
        assert_eq!(
            fmt_err("x", vec![n(1.0)]),
            "too many arguments; no verbs in format string"
        );
        assert_eq!(
            fmt_err("%s", vec![s("a"), s("b")]),
            "too many arguments; only 1 used by format string"
        );
        assert_eq!(
            fmt_err("%s", vec![Value::Null]),
            "unsupported value for \"%s\" at 0: null value cannot be formatted"
        );
        assert_eq!(
            fmt_err("%s", vec![strs(&["a"])]),
            "unsupported value for \"%s\" at 0: string required"
        );
        assert!(fmt_err("%y", vec![n(1.0)]).contains("unsupported format verb 'y'"));
        assert!(fmt_err("abc %", vec![]).contains("unterminated"));
        assert!(fmt_err("%999999999999999999999d", vec![n(1.0)]).contains("must not exceed"));
    }

    #[test]
    fn formatlist_iterates_lists() {
        assert_eq!(
            ok(
                "formatlist",
                vec![s("Hello, %s!"), strs(&["Valentina", "Ander"])]
            ),
            strs(&["Hello, Valentina!", "Hello, Ander!"])
        );
        assert_eq!(
            ok(
                "formatlist",
                vec![
                    s("%s, %s!"),
                    s("Salutations"),
                    strs(&["Valentina", "Ander"])
                ]
            ),
            strs(&["Salutations, Valentina!", "Salutations, Ander!"])
        );
        assert_eq!(ok("formatlist", vec![s("%s"), s("x")]), strs(&["x"]));
        assert_eq!(ok("formatlist", vec![s("%s"), strs(&[])]), strs(&[]));
        assert_eq!(
            err(
                "formatlist",
                vec![s("%s%s"), strs(&["a"]), strs(&["b", "c"])]
            ),
            "argument 3 has length 2, which is inconsistent with argument 2 of length 1"
        );
        assert!(
            err("formatlist", vec![s("%d"), strs(&["a"])])
                .starts_with("error on format iteration 0:")
        );
    }

    #[test]
    fn simple_string_functions() {
        assert_eq!(ok("chomp", vec![s("hello\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\r\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\n\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hel\nlo")]), s("hel\nlo"));
        assert_eq!(ok("endswith", vec![s("hello world"), s("world")]), b(true));
        assert_eq!(ok("endswith", vec![s("hello world"), s("hello")]), b(false));
        assert_eq!(
            ok("startswith", vec![s("hello world"), s("hello")]),
            b(true)
        );
        assert_eq!(ok("startswith", vec![s("hello world"), s("")]), b(true));
        assert_eq!(ok("strcontains", vec![s("hello world"), s("o w")]), b(true));
        assert_eq!(ok("indent", vec![n(2.0), s("a\nb\n")]), s("a\n  b\n  "));
        assert!(err("indent", vec![n(-1.0), s("a")]).contains("must be non-negative"));
        let many = "\n".repeat(100_000);
        assert!(err("indent", vec![n(1000.0), s(&many)]).contains("longer than"));
        assert!(err("replace", vec![s(&many), s(""), s(&many)]).contains("longer than"));
        assert_eq!(ok("lower", vec![s("HELLO ÄÖ")]), s("hello äö"));
        assert_eq!(ok("upper", vec![s("hello äö")]), s("HELLO ÄÖ"));
        assert_eq!(ok("upper", vec![s("straße")]), s("STRAßE"));
        assert_eq!(ok("upper", vec![n(5.0)]), s("5"));
        assert_eq!(ok("strrev", vec![s("hello")]), s("olleh"));
        assert_eq!(ok("strrev", vec![s("a☃b")]), s("b☃a"));
        assert_eq!(ok("title", vec![s("hello world")]), s("Hello World"));
        assert_eq!(
            ok("title", vec![s("hello_world-foo bar")]),
            s("Hello_world-Foo Bar")
        );
        assert_eq!(ok("trim", vec![s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(ok("trim", vec![s("foobar"), s("far")]), s("oob"));
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("hello")]),
            s("world")
        );
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("cat")]),
            s("helloworld")
        );
        assert_eq!(
            ok("trimsuffix", vec![s("helloworld"), s("world")]),
            s("hello")
        );
        assert_eq!(ok("trimspace", vec![s("  hello\n\n")]), s("hello"));
    }

    #[test]
    fn join_and_split() {
        assert_eq!(
            ok("join", vec![s(", "), strs(&["foo", "bar", "baz"])]),
            s("foo, bar, baz")
        );
        assert_eq!(ok("join", vec![s(", "), strs(&["foo"])]), s("foo"));
        assert_eq!(
            ok("join", vec![s("-"), strs(&["a"]), strs(&["b", "c"])]),
            s("a-b-c")
        );
        assert_eq!(ok("join", vec![s(","), nums(&[1.0, 2.5])]), s("1,2.5"));
        assert_eq!(
            err("join", vec![s(","), list(vec![s("a"), Value::Null])]),
            "element 1 is null; cannot concatenate null values"
        );
        assert_eq!(
            ok("split", vec![s(","), s("foo,bar,baz")]),
            strs(&["foo", "bar", "baz"])
        );
        assert_eq!(ok("split", vec![s(","), s("foo")]), strs(&["foo"]));
        assert_eq!(ok("split", vec![s(","), s("")]), strs(&[""]));
        assert_eq!(ok("split", vec![s(""), s("ab")]), strs(&["a", "b"]));
    }

    #[test]
    fn replace_substrings() {
        assert_eq!(
            ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]),
            s("1 - 2 - 3")
        );
        assert_eq!(ok("replace", vec![s("abc"), s(""), s("-")]), s("-a-b-c-"));
        // A lone slash is a plain substring.
        assert_eq!(ok("replace", vec![s("a/b"), s("/"), s("-")]), s("a-b"));
    }

    #[test]
    fn substr_counts_characters() {
        assert_eq!(
            ok("substr", vec![s("hello world"), n(1.0), n(4.0)]),
            s("ello")
        );
        assert_eq!(ok("substr", vec![s("🤔🤷"), n(0.0), n(1.0)]), s("🤔"));
        assert_eq!(
            ok("substr", vec![s("hello world"), n(-5.0), n(-1.0)]),
            s("world")
        );
        assert_eq!(
            ok("substr", vec![s("hello world"), n(6.0), n(10.0)]),
            s("world")
        );
        assert_eq!(ok("substr", vec![s("hello"), n(1.0), n(-1.0)]), s("ello"));
        assert_eq!(ok("substr", vec![s("hello"), n(10.0), n(2.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(-10.0), n(2.0)]), s("he"));
        assert_eq!(ok("substr", vec![s("hello"), n(0.0), n(0.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(2.0), n(1e9)]), s("llo"));
        assert!(err("substr", vec![s("hello"), n(2.0), n(1e300)]).contains("too large"));
        assert!(err("substr", vec![s("hello"), n(1.5), n(1.0)]).contains("whole number"));
    }
}
