//! Numeric functions: abs, ceil, floor, log, max, min, parseint, pow, signum, sum.
//!
//! Numbers are `f64` (Terraform uses arbitrary precision), so results beyond
//! about 1.8e308 are infinite and integers beyond 2^53 lose precision.

use super::{Args, Arity, Def, FuncContext, arg_type, elem_type, invalid, to_number};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("abs", Arity::Exactly(1), abs),
    Def::new("ceil", Arity::Exactly(1), ceil),
    Def::new("floor", Arity::Exactly(1), floor),
    Def::new("log", Arity::Exactly(2), log),
    Def::new("max", Arity::AtLeast(1), max),
    Def::new("min", Arity::AtLeast(1), min),
    Def::new("parseint", Arity::Exactly(2), parseint),
    Def::new("pow", Arity::Exactly(2), pow),
    Def::new("signum", Arity::Exactly(1), signum),
    Def::new("sum", Arity::Exactly(1), sum),
];

/// A numeric result; NaN (which Terraform numbers cannot hold) is an error.
fn number(n: f64) -> Result<Value, String> {
    if n.is_nan() {
        Err("the result is not a number".into())
    } else {
        Ok(Value::Number(n))
    }
}

fn abs(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    number(a.number(0)?.abs())
}

fn ceil(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    number(a.number(0)?.ceil())
}

fn floor(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    number(a.number(0)?.floor())
}

fn log(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (n, base) = (a.number(0)?, a.number(1)?);
    if n < 0.0 {
        return Err(invalid("num", "must not be negative"));
    }
    if base <= 0.0 || base == 1.0 {
        return Err(invalid("base", "must be positive and not 1"));
    }
    number(n.ln() / base.ln())
}

fn extreme(a: &Args, pick: fn(f64, f64) -> f64) -> Result<Value, String> {
    let mut best: Option<f64> = None;
    for i in 0..a.len() {
        let n = a.number(i)?;
        best = Some(best.map_or(n, |b| pick(b, n)));
    }
    number(best.unwrap_or(f64::NAN))
}

fn max(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    extreme(a, f64::max)
}

fn min(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    extreme(a, f64::min)
}

/// Digit value in Go's `big.Int.SetString`: up to base 36 letters are
/// case-insensitive; above it, `a`..`z` are 10..35 and `A`..`Z` 36..61.
fn digit(c: char, base: u32) -> Option<u32> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (d < base).then_some(d)
}

fn parseint(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let s = match a.get(0) {
        Value::String(s) => s.clone(),
        other => return Err(arg_type("a string", other, 0)),
    };
    let base = a.number(1)?;
    if base.fract() != 0.0 || !(2.0..=62.0).contains(&base) {
        return Err(invalid(
            "base",
            "must be a whole number between 2 and 62 inclusive",
        ));
    }
    let base = base as u32;
    let cannot = || format!("cannot parse {s:?} as a base {base} integer");
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() {
        return Err(cannot());
    }
    let mut n = 0f64;
    for c in digits.chars() {
        let d = digit(c, base).ok_or_else(cannot)?;
        n = n * f64::from(base) + f64::from(d);
    }
    if !n.is_finite() {
        return Err(format!("{s:?} is too large to represent as a number"));
    }
    Ok(Value::Number(if negative { -n } else { n }))
}

fn pow(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    number(a.number(0)?.powf(a.number(1)?))
}

fn signum(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let n = a.number(0)?;
    number(if n > 0.0 {
        1.0
    } else if n < 0.0 {
        -1.0
    } else {
        n
    })
}

fn sum(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let items = a.list(0)?;
    if items.is_empty() {
        return Err("cannot sum an empty list".into());
    }
    let mut total = 0.0;
    for (j, v) in items.iter().enumerate() {
        total += to_number(v).ok_or_else(|| elem_type("a number", v, 0, j))?;
    }
    if total.is_nan() {
        return Err("can't compute sum of opposing infinities".into());
    }
    Ok(Value::Number(total))
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;

    #[test]
    fn documented_results() {
        assert_eq!(ok("abs", vec![n(23.0)]), n(23.0));
        assert_eq!(ok("abs", vec![n(-12.4)]), n(12.4));
        assert_eq!(ok("abs", vec![s("-3")]), n(3.0));
        assert_eq!(ok("ceil", vec![n(5.1)]), n(6.0));
        assert_eq!(ok("ceil", vec![n(5.0)]), n(5.0));
        assert_eq!(ok("floor", vec![n(4.9)]), n(4.0));
        assert_eq!(ok("floor", vec![n(-4.1)]), n(-5.0));
        assert_eq!(ok("log", vec![n(16.0), n(2.0)]), n(4.0));
        assert_eq!(ok("log", vec![n(1.0), n(10.0)]), n(0.0));
        let l = ok("log", vec![n(50.0), n(10.0)]).as_f64().unwrap();
        assert!((l - 1.698_970_004_336_018_8).abs() < 1e-12);
        assert_eq!(ok("max", vec![n(12.0), n(54.0), n(3.0)]), n(54.0));
        assert_eq!(ok("min", vec![n(12.0), n(54.0), n(3.0)]), n(3.0));
        assert_eq!(ok("pow", vec![n(3.0), n(2.0)]), n(9.0));
        assert_eq!(ok("pow", vec![n(4.0), n(0.0)]), n(1.0));
        assert_eq!(ok("signum", vec![n(-13.0)]), n(-1.0));
        assert_eq!(ok("signum", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("signum", vec![n(344.0)]), n(1.0));
        assert_eq!(ok("sum", vec![nums(&[10.0, 13.0, 6.0, 4.5])]), n(33.5));
    }

    #[test]
    fn parseint_bases() {
        assert_eq!(ok("parseint", vec![s("100"), n(10.0)]), n(100.0));
        assert_eq!(ok("parseint", vec![s("FF"), n(16.0)]), n(255.0));
        assert_eq!(ok("parseint", vec![s("-10"), n(16.0)]), n(-16.0));
        assert_eq!(
            ok("parseint", vec![s("1011111011101111"), n(2.0)]),
            n(48879.0)
        );
        assert_eq!(ok("parseint", vec![s("aA"), n(62.0)]), n(656.0));
        assert_eq!(
            err("parseint", vec![s("12"), n(2.0)]),
            "cannot parse \"12\" as a base 2 integer"
        );
        assert!(err("parseint", vec![s("1"), n(63.0)]).contains("\"base\""));
        assert!(err("parseint", vec![s(""), n(10.0)]).contains("cannot parse"));
        assert_eq!(
            err("parseint", vec![n(1.0), n(10.0)]),
            "expected a string, got number (argument 1)"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(err("sum", vec![nums(&[])]), "cannot sum an empty list");
        assert_eq!(
            err("sum", vec![list(vec![n(1.0), s("x")])]),
            "expected a number, got string (argument 1, element 1)"
        );
        assert_eq!(
            err("abs", vec![s("x")]),
            "expected a number, got string (argument 1)"
        );
        assert_eq!(
            err("pow", vec![n(-8.0), n(0.5)]),
            "the result is not a number"
        );
        assert!(err("log", vec![n(8.0), n(1.0)]).contains("\"base\""));
    }
}
