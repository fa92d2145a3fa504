//! Date and time functions: formatdate, plantimestamp, timeadd, timecmp,
//! timestamp.
//!
//! Timestamps are RFC 3339 strings, as in Terraform: read with an upper-case
//! `T` and an offset (`Z` or `+hh:mm`), written without fractional seconds
//! (Go's `time.RFC3339`). Durations are Go duration strings (`"1h30m"`).
//! `timestamp()` is impure: unknown while planning, the current time while
//! applying (see [`Clock`]).

use std::sync::OnceLock;
use std::time::SystemTime;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike, Utc};

use super::{Args, Arity, Def, FuncContext, invalid};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("formatdate", Arity::Exactly(2), formatdate),
    Def::new("plantimestamp", Arity::Exactly(0), plantimestamp),
    Def::new("timeadd", Arity::Exactly(2), timeadd),
    Def::new("timecmp", Arity::Exactly(2), timecmp),
    Def::new("timestamp", Arity::Exactly(0), timestamp),
];

/// What the impure functions (`timestamp`, `uuid`) and `plantimestamp` know
/// about the run they are evaluated in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Evaluating for an apply: impure functions return values. While planning
    /// (and validating) they are unknown, as in Terraform, so the plan shows
    /// `(known after apply)` instead of a value that apply would not keep.
    pub applying: bool,
    /// When this run's plan started: what `plantimestamp()` returns.
    pub plan_started: SystemTime,
}

impl Default for Clock {
    /// Planning, in a run that started when this process first asked: one
    /// CLI command is one run, so every `plantimestamp()` call agrees.
    fn default() -> Clock {
        Clock {
            applying: false,
            plan_started: run_started(),
        }
    }
}

impl Clock {
    /// The same clock, evaluating for an apply when `yes`.
    pub fn applying(self, yes: bool) -> Clock {
        Clock {
            applying: yes,
            ..self
        }
    }
}

/// The first time this process asked: the start of its (one) run.
fn run_started() -> SystemTime {
    static STARTED: OnceLock<SystemTime> = OnceLock::new();
    *STARTED.get_or_init(SystemTime::now)
}

// ---------------------------------------------------------------------------
// Reading and writing timestamps

/// Parses an RFC 3339 timestamp the way Terraform does: `T` and `Z` must be
/// upper case, the offset is required.
fn parse(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let bad = |why: &str| format!("not a valid RFC3339 timestamp: {why}");
    if s.len() >= 10 && s.as_bytes().get(10) != Some(&b'T') {
        return Err(bad("missing required time introducer 'T'"));
    }
    if s.ends_with('z') {
        return Err(bad("the UTC offset must be an upper-case \"Z\""));
    }
    DateTime::parse_from_rfc3339(s).map_err(|e| {
        bad(&format!(
            "cannot read {s:?} ({e}); write it like \"2006-01-02T15:04:05Z\" or \
             \"2006-01-02T15:04:05+01:00\""
        ))
    })
}

/// Go's `time.RFC3339` layout: whole seconds, `Z` for a zero offset.
pub(super) fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        offset(t.offset().local_minus_utc(), true, ":")
    )
}

/// `+05:30` / `+0530` (by `sep`), or `Z` for zero when `z` is set.
fn offset(seconds: i32, z: bool, sep: &str) -> String {
    if seconds == 0 && z {
        return "Z".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let m = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}{sep}{:02}", m / 60, m % 60)
}

fn utc(t: SystemTime) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(t).fixed_offset()
}

// ---------------------------------------------------------------------------
// timestamp, plantimestamp

fn timestamp(_: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    if !ctx.clock.applying {
        return Ok(Value::Unknown);
    }
    Ok(Value::String(rfc3339(&utc(SystemTime::now()))))
}

fn plantimestamp(_: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    Ok(Value::String(rfc3339(&utc(ctx.clock.plan_started))))
}

// ---------------------------------------------------------------------------
// timeadd, timecmp

fn timeadd(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let t = parse(&a.string(0)?)?;
    let d = parse_duration(&a.string(1)?)?;
    let sum = t
        .checked_add_signed(TimeDelta::nanoseconds(d))
        .ok_or_else(|| "the result is out of the range of representable times".to_string())?;
    Ok(Value::String(rfc3339(&sum)))
}

fn timecmp(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let x = parse(&a.string(0)?).map_err(|e| invalid("timestamp_a", e))?;
    let y = parse(&a.string(1)?).map_err(|e| invalid("timestamp_b", e))?;
    Ok(Value::Number(match x.cmp(&y) {
        std::cmp::Ordering::Less => -1.0,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => 1.0,
    }))
}

/// Go's `time.ParseDuration`, in nanoseconds: `[-+]?([0-9]*(\.[0-9]*)?unit)+`
/// with units ns, us (µs), ms, s, m, h; "0" alone needs no unit.
fn parse_duration(orig: &str) -> Result<i64, String> {
    const LIMIT: u128 = 1 << 63;
    let invalid = || format!("time: invalid duration {orig:?}");
    let (neg, mut s) = match orig.as_bytes().first() {
        Some(b'-') => (true, &orig[1..]),
        Some(b'+') => (false, &orig[1..]),
        _ => (false, orig),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let is_num = |c: u8| c == b'.' || c.is_ascii_digit();
    let mut total: u128 = 0;
    while !s.is_empty() {
        if !is_num(s.as_bytes()[0]) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u128 = 0;
        for c in s[..int_len].bytes() {
            whole = whole * 10 + u128::from(c - b'0');
            if whole >= LIMIT {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        // The fraction, as digits over a power of ten (digits past what
        // fits are dropped, as Go does).
        let (mut frac, mut scale, mut frac_len) = (0u128, 1u128, 0usize);
        if let Some(rest) = s.strip_prefix('.') {
            frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            for c in rest[..frac_len].bytes() {
                if frac < LIMIT / 10 {
                    frac = frac * 10 + u128::from(c - b'0');
                    scale *= 10;
                }
            }
            s = &rest[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s.bytes().take_while(|c| !is_num(*c)).count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let unit: u128 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            u => return Err(format!("time: unknown unit {u:?} in duration {orig:?}")),
        };
        s = &s[unit_len..];
        let mut v = whole
            .checked_mul(unit)
            .filter(|v| *v <= LIMIT)
            .ok_or_else(invalid)?;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale as f64)) as u128;
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((-(total as i128)) as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

// ---------------------------------------------------------------------------
// formatdate

fn formatdate(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let format = a.string(0)?.into_owned();
    let t = parse(&a.string(1)?).map_err(|e| invalid("time", e))?;
    format_date(&format, &t)
        .map(Value::String)
        .map_err(|e| invalid("format", e))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Terraform's `formatdate` spec: runs of one letter are verbs (`YYYY`,
/// `MM`, `hh`, ...), text in single quotes is literal (`''` is a quote),
/// anything else that is not a letter is copied as it is.
fn format_date(format: &str, t: &DateTime<FixedOffset>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            rest = literal(&rest[1..], &mut out)?;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let n = rest.bytes().take_while(|&b| b == c as u8).count();
        let verb = &rest[..n];
        rest = &rest[n..];
        let bad = |why: &str| format!("invalid date format verb {verb:?}: {why}");
        let h12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let pm = t.hour() >= 12;
        let piece = match (c, n) {
            ('Y', 2) => format!("{:02}", t.year().rem_euclid(100)),
            ('Y', 4) => format!("{:04}", t.year()),
            ('Y', _) => return Err(bad("year must either be \"YY\" or \"YYYY\"")),
            ('M', 1) => t.month().to_string(),
            ('M', 2) => format!("{:02}", t.month()),
            ('M', 3) => MONTHS[t.month0() as usize][..3].to_string(),
            ('M', 4) => MONTHS[t.month0() as usize].to_string(),
            ('M', _) => return Err(bad("month must be \"M\", \"MM\", \"MMM\" or \"MMMM\"")),
            ('D', 1) => t.day().to_string(),
            ('D', 2) => format!("{:02}", t.day()),
            ('D', _) => return Err(bad("day of month must either be \"D\" or \"DD\"")),
            ('E', 3) => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_string(),
            ('E', 4) => DAYS[t.weekday().num_days_from_monday() as usize].to_string(),
            ('E', _) => return Err(bad("day of week must either be \"EEE\" or \"EEEE\"")),
            ('h', 1) => t.hour().to_string(),
            ('h', 2) => format!("{:02}", t.hour()),
            ('h', _) => return Err(bad("24-hour must either be \"h\" or \"hh\"")),
            ('H', 1) => h12.to_string(),
            ('H', 2) => format!("{h12:02}"),
            ('H', _) => return Err(bad("12-hour must either be \"H\" or \"HH\"")),
            ('A', 2) => (if pm { "PM" } else { "AM" }).to_string(),
            ('A', _) => return Err(bad("must be \"AA\"")),
            ('a', 2) => (if pm { "pm" } else { "am" }).to_string(),
            ('a', _) => return Err(bad("must be \"aa\"")),
            ('m', 1) => t.minute().to_string(),
            ('m', 2) => format!("{:02}", t.minute()),
            ('m', _) => return Err(bad("minute must either be \"m\" or \"mm\"")),
            ('s', 1) => t.second().to_string(),
            ('s', 2) => format!("{:02}", t.second()),
            ('s', _) => return Err(bad("second must either be \"s\" or \"ss\"")),
            ('Z', 1) => offset(t.offset().local_minus_utc(), true, ":"),
            ('Z', 3) if t.offset().local_minus_utc() == 0 => "UTC".to_string(),
            ('Z', 3 | 4) => offset(t.offset().local_minus_utc(), false, ""),
            ('Z', 5) => offset(t.offset().local_minus_utc(), false, ":"),
            ('Z', _) => {
                return Err(bad(
                    "timezone must be \"Z\", \"ZZZ\", \"ZZZZ\" or \"ZZZZZ\"",
                ));
            }
            _ => return Err(format!("invalid date format verb {verb:?}")),
        };
        out.push_str(&piece);
    }
    Ok(out)
}

/// Copies a quoted literal (after its opening quote) to `out`; returns what
/// follows its closing quote. `''` alone is one quote; inside, `''` is too.
fn literal<'f>(s: &'f str, out: &mut String) -> Result<&'f str, String> {
    if let Some(rest) = s.strip_prefix('\'') {
        out.push('\'');
        return Ok(rest);
    }
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            out.push(c);
            continue;
        }
        if let Some((_, '\'')) = chars.peek() {
            out.push('\'');
            chars.next();
            continue;
        }
        return Ok(&s[i + 1..]);
    }
    Err("unterminated literal '".into())
}
