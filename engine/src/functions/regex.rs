//! Regular expressions: `regex(pattern, string)`, `regexall(pattern,
//! string)` and the `/pattern/` form of `replace`, with Terraform's result
//! shapes. Patterns use the `regex` crate's syntax, which is RE2's (Go's,
//! so Terraform's) for everything stacks use; matching takes linear time,
//! so a pattern from an untrusted branch cannot make a plan hang.

use ::regex::{Captures, Regex, RegexBuilder};

use super::{Args, Arity, Def, FuncContext, MAX_STRING, invalid, too_long};
use dumcel_planner::{Map, Value};

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("regex", Arity::Exactly(2), regex_fn),
    Def::new("regexall", Arity::Exactly(2), regexall),
];

/// Largest compiled pattern accepted (the regex crate's own default is
/// 10 MiB; stacks never need that).
const MAX_COMPILED: usize = 1 << 20;

fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(MAX_COMPILED)
        .build()
        .map_err(|e| {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or(&detail).trim().to_owned();
            invalid("pattern", format!("invalid regexp pattern: {last}"))
        })
}

/// How a match is returned, by the pattern's capture groups.
enum Shape {
    /// No groups: the matched text.
    Whole,
    /// Unnamed groups: a list, one string (or null) per group.
    List,
    /// Named groups: an object.
    Object(Vec<String>),
}

fn shape(re: &Regex) -> Result<Shape, String> {
    let groups: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let named: Vec<String> = groups.iter().flatten().map(|n| n.to_string()).collect();
    match (groups.len(), named.len()) {
        (0, _) => Ok(Shape::Whole),
        (_, 0) => Ok(Shape::List),
        (all, n) if all == n => Ok(Shape::Object(named)),
        _ => Err(invalid(
            "pattern",
            "invalid regexp pattern: cannot mix both named and unnamed capture groups",
        )),
    }
}

fn text(m: Option<::regex::Match<'_>>) -> Value {
    m.map_or(Value::Null, |m| Value::string(m.as_str()))
}

fn value_of(caps: &Captures<'_>, shape: &Shape) -> Value {
    match shape {
        Shape::Whole => text(caps.get(0)),
        Shape::List => Value::List(caps.iter().skip(1).map(text).collect()),
        Shape::Object(names) => Value::Map(
            names
                .iter()
                .map(|n| (n.clone(), text(caps.name(n))))
                .collect::<Map>(),
        ),
    }
}

fn regex_fn(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (pattern, s) = (a.string(0)?, a.string(1)?);
    let re = compile(&pattern)?;
    let shape = shape(&re)?;
    let caps = re
        .captures(&s)
        .ok_or("pattern did not match any part of the given string")?;
    Ok(value_of(&caps, &shape))
}

fn regexall(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (pattern, s) = (a.string(0)?, a.string(1)?);
    let re = compile(&pattern)?;
    let shape = shape(&re)?;
    Ok(Value::List(
        re.captures_iter(&s).map(|c| value_of(&c, &shape)).collect(),
    ))
}

/// `replace(s, "/pattern/", replacement)`: every match replaced, `$1` and
/// `${name}` expanded, as Go's `ReplaceAllString` does.
pub(super) fn replace_pattern(s: &str, pattern: &str, to: &str) -> Result<Value, String> {
    let re = compile(pattern).map_err(|e| e.replace("\"pattern\"", "\"substring\""))?;
    let matches = re.find_iter(s).count();
    if s.len().saturating_add(matches.saturating_mul(to.len())) > MAX_STRING {
        return Err(too_long());
    }
    Ok(Value::String(re.replace_all(s, to).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{err, ok, s};
    use dumcel_planner::Value;

    /// Expected values are what `terraform console` 1.11 printed.
    #[test]
    fn results_take_terraforms_shapes() {
        assert_eq!(
            ok(
                "regex",
                vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]
            ),
            s("aaabbbccc")
        );
        assert_eq!(
            ok(
                "regex",
                vec![s(r"(\d\d\d\d)-(\d\d)-(\d\d)"), s("2019-02-01")]
            ),
            Value::List(vec![s("2019"), s("02"), s("01")])
        );
        let url = ok(
            "regex",
            vec![
                s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                s("https://terraform.io/docs/"),
            ],
        );
        assert_eq!(url.get("scheme"), Some(&s("https")));
        assert_eq!(url.get("authority"), Some(&s("terraform.io")));
        assert_eq!(
            ok("regex", vec![s("(a)|(b)"), s("b")]),
            Value::List(vec![Value::Null, s("b")])
        );
        assert_eq!(
            ok("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]),
            Value::List(vec![s("abcd"), s("efgh")])
        );
        assert_eq!(ok("regexall", vec![s("x"), s("abc")]), Value::List(vec![]));
        assert_eq!(
            ok(
                "replace",
                vec![s("hello world"), s("/w.*d/"), s("everybody")]
            ),
            s("hello everybody")
        );
        assert_eq!(
            ok(
                "replace",
                vec![s("2019-02-01"), s(r"/(\d+)-(\d+)-(\d+)/"), s("$3/$2/$1")]
            ),
            s("01/02/2019")
        );
    }

    #[test]
    fn bad_patterns_and_misses_say_so() {
        assert!(
            err("regex", vec![s("x"), s("abc")])
                .contains("pattern did not match any part of the given string")
        );
        assert!(
            err("regex", vec![s("(a)(?P<n>b)"), s("ab")])
                .contains("cannot mix both named and unnamed capture groups")
        );
        let e = err("regex", vec![s("["), s("x")]);
        assert!(
            e.starts_with("Invalid value for \"pattern\" parameter: invalid regexp pattern"),
            "{e}"
        );
        // A pattern too big to compile is refused, not built.
        let huge = format!("(?:{}){{1000}}", "a{1000}");
        assert!(err("regexall", vec![s(&huge), s("a")]).contains("invalid regexp pattern"));
    }
}
