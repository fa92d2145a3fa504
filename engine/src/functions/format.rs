//! The `format` verb engine, after Go's `fmt` as Terraform uses it.
//!
//! Supported: flags `-+# 0`, width, `.precision`, explicit argument indexes
//! `%[2]s`, and the verbs `v` (`#v` for JSON), `s`, `q`, `t`, `d`, `b`, `o`,
//! `x`, `X`, `e`, `E`, `f`, `g`, `G`, and `%%`. Widths count characters.

use dumcel_planner::Value;

use super::encoding::json_encode;
use super::{to_bool, to_number, to_str};

/// Widths and precisions above this are refused rather than allocated.
const MAX_WIDTH: usize = 10_000;

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
    verb: char,
}

/// Formats `args` according to `spec`.
pub(super) fn format(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::with_capacity(spec.len());
    let mut chars = spec.char_indices().peekable();
    let mut next = 0usize;
    let mut used = 0usize;
    let mut verbs = 0usize;
    while let Some((pos, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut s = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => s.minus = true,
                '+' => s.plus = true,
                '#' => s.sharp = true,
                ' ' => s.space = true,
                '0' => s.zero = true,
                _ => break,
            }
            chars.next();
        }
        if chars.peek().map(|&(_, c)| c) == Some('[') {
            chars.next();
            let n = digits(&mut chars);
            if chars.next().map(|(_, c)| c) != Some(']') {
                return Err(format!(
                    "invalid format string at {pos}: unterminated argument index"
                ));
            }
            match n {
                Some(n) if n >= 1 => next = n - 1,
                _ => {
                    return Err(format!(
                        "invalid format string at {pos}: argument indexes start at 1"
                    ));
                }
            }
        }
        s.width = digits(&mut chars);
        if chars.peek().map(|&(_, c)| c) == Some('.') {
            chars.next();
            s.prec = Some(digits(&mut chars).unwrap_or(0));
        }
        if s.width.unwrap_or(0) > MAX_WIDTH || s.prec.unwrap_or(0) > MAX_WIDTH {
            return Err(format!(
                "invalid format string at {pos}: width and precision must not exceed {MAX_WIDTH}"
            ));
        }
        let Some((_, verb)) = chars.next() else {
            return Err(format!(
                "invalid format string at {pos}: unterminated format verb"
            ));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        s.verb = verb;
        verbs += 1;
        let end = chars.peek().map_or(spec.len(), |&(i, _)| i);
        let raw = format!("{:?} at {pos}", &spec[pos..end]);
        let raw = raw.as_str();
        let Some(arg) = args.get(next) else {
            return Err(format!(
                "not enough arguments for {:?} at {pos}: need index {} but have {} total",
                &spec[pos..end],
                next + 1,
                args.len()
            ));
        };
        next += 1;
        used = used.max(next);
        out.push_str(&format_one(&s, arg, raw)?);
    }
    if used < args.len() {
        return Err(if verbs == 0 {
            "too many arguments; no verbs in format string".to_string()
        } else {
            format!("too many arguments; only {used} used by format string")
        });
    }
    Ok(out)
}

/// Reads a run of decimal digits (saturating), if any.
fn digits(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, c)) = chars.peek() {
        let Some(d) = c.to_digit(10) else { break };
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        chars.next();
    }
    n
}

fn format_one(s: &Spec, arg: &Value, raw: &str) -> Result<String, String> {
    let verb = s.verb;
    let unsupported = |what: &str| format!("unsupported value for {raw}: {what}");
    if arg.is_null() && verb != 'v' {
        return Err(unsupported("null value cannot be formatted"));
    }
    match verb {
        'v' => Ok(match arg {
            Value::String(text) if !s.sharp => pad_text(s, text),
            Value::Number(n) if !s.sharp && n.is_finite() => {
                let body = general(n.abs(), None);
                pad_text(s, &format!("{}{body}", if *n < 0.0 { "-" } else { "" }))
            }
            other => pad_text(s, &json_encode(other)),
        }),
        's' | 'q' => {
            let text = to_str(arg).ok_or_else(|| unsupported("string required"))?;
            let text: String = match s.prec {
                Some(p) if p > 0 => text.chars().take(p).collect(),
                _ => text.into_owned(),
            };
            if verb == 'q' {
                Ok(pad_text(s, &json_encode(&Value::String(text))))
            } else {
                Ok(pad_text(s, &text))
            }
        }
        't' => {
            let b = to_bool(arg).ok_or_else(|| unsupported("bool required"))?;
            Ok(if b { "true" } else { "false" }.to_string())
        }
        'd' | 'b' | 'o' | 'x' | 'X' => {
            let n = to_number(arg).ok_or_else(|| unsupported("number required"))?;
            if !n.is_finite() || n.fract() != 0.0 {
                return Err(unsupported("an integer is required"));
            }
            let abs = n.abs();
            let mut body = if verb == 'd' {
                format!("{abs:.0}")
            } else {
                if abs >= 3.4e38 {
                    return Err(unsupported("the number is too large for this verb"));
                }
                let u = abs as u128;
                match verb {
                    'b' => format!("{u:b}"),
                    'o' => format!("{u:o}"),
                    'x' => format!("{u:x}"),
                    _ => format!("{u:X}"),
                }
            };
            match s.prec {
                Some(0) if abs == 0.0 => body.clear(),
                Some(p) if body.len() < p => body = "0".repeat(p - body.len()) + &body,
                _ => {}
            }
            let prefix = match (s.sharp, verb) {
                (true, 'b') => "0b",
                (true, 'o') => "0",
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                _ => "",
            };
            let lead = sign(s, n < 0.0).to_string() + prefix;
            Ok(pad_number(s, &lead, &body, s.prec.is_none()))
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = to_number(arg).ok_or_else(|| unsupported("number required"))?;
            if n.is_nan() {
                return Ok(pad_number(s, "", "NaN", false));
            }
            let negative = n.is_sign_negative();
            if n.is_infinite() {
                let sign = match (negative, s.space) {
                    (true, _) => "-",
                    (false, true) => " ",
                    (false, false) => "+",
                };
                return Ok(pad_number(s, sign, "Inf", false));
            }
            let abs = n.abs();
            let body = match verb {
                'e' | 'E' => exp_form(&format!("{:.*e}", s.prec.unwrap_or(6), abs)),
                'f' => format!("{:.*}", s.prec.unwrap_or(6), abs),
                _ => general(abs, s.prec),
            };
            let body = if verb.is_ascii_uppercase() {
                body.to_ascii_uppercase()
            } else {
                body
            };
            Ok(pad_number(s, sign(s, negative), &body, true))
        }
        other => Err(format!("unsupported format verb '{other}' in {raw}")),
    }
}

fn sign(s: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if s.plus {
        "+"
    } else if s.space {
        " "
    } else {
        ""
    }
}

/// Pads a formatted string to the spec's width, as Terraform does for `%v`,
/// `%s` and `%q`: with zeros when the `0` flag is set, on the right with `-`.
fn pad_text(s: &Spec, text: &str) -> String {
    let fill = s.width.unwrap_or(0).saturating_sub(text.chars().count());
    if fill == 0 {
        return text.to_string();
    }
    let pads = if s.zero { "0" } else { " " }.repeat(fill);
    if s.minus {
        format!("{text}{pads}")
    } else {
        format!("{pads}{text}")
    }
}

/// Pads `lead` (sign, radix prefix) + `body` to the spec's width, as Go does
/// for numbers: left-justified with `-`, zero-filled between lead and body
/// with `0` (when `zero_ok`), else right-justified with spaces.
fn pad_number(s: &Spec, lead: &str, body: &str, zero_ok: bool) -> String {
    let len = lead.chars().count() + body.chars().count();
    let fill = s.width.unwrap_or(0).saturating_sub(len);
    if fill == 0 {
        return format!("{lead}{body}");
    }
    if s.minus {
        format!("{lead}{body}{}", " ".repeat(fill))
    } else if s.zero && zero_ok {
        format!("{lead}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{lead}{body}", " ".repeat(fill))
    }
}

/// Rewrites Rust's `1.5e3` / `1.5e-7` exponent into Go's `1.5e+03` / `1.5e-07`.
fn exp_form(rust: &str) -> String {
    let Some((mantissa, exp)) = rust.split_once('e') else {
        return rust.to_string();
    };
    let exp: i64 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// The decimal digits of a positive finite number (no trailing zeros) and the
/// position of the decimal point: value = 0.DIGITS * 10^point.
fn decimal_digits(abs: f64, significant: Option<usize>) -> (Vec<u8>, i64) {
    let sci = match significant {
        None => format!("{abs:e}"),
        Some(p) => format!("{:.*e}", p.saturating_sub(1), abs),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp + 1)
}

/// Go's `%g`: `%e` for large or small exponents, `%f` otherwise; the
/// precision counts significant digits and defaults to the shortest exact form.
fn general(abs: f64, prec: Option<usize>) -> String {
    if abs == 0.0 {
        return "0".into();
    }
    let wanted = prec.map(|p| p.max(1));
    let (digits, point) = decimal_digits(abs, wanted);
    let nd = digits.len() as i64;
    let mut p = wanted.map_or(nd, |p| p as i64);
    let mut eprec = p;
    if eprec > nd && nd >= point {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = point - 1;
    if exp < -4 || exp >= eprec {
        p = p.min(nd);
        let mut s = String::new();
        s.push(digits.first().map_or('0', |&d| d as char));
        if p > 1 {
            s.push('.');
            for i in 1..p {
                s.push(digits.get(i as usize).map_or('0', |&d| d as char));
            }
        }
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{s}e{sign}{:02}", exp.unsigned_abs());
    }
    if p > point {
        p = nd;
    }
    let frac = (p - point).max(0);
    let mut s = String::new();
    if point > 0 {
        for i in 0..point {
            s.push(digits.get(i as usize).map_or('0', |&d| d as char));
        }
    } else {
        s.push('0');
    }
    if frac > 0 {
        s.push('.');
        for i in 0..frac {
            let j = point + i;
            let d = if j >= 0 { digits.get(j as usize) } else { None };
            s.push(d.map_or('0', |&d| d as char));
        }
    }
    s
}
