//! Terraform's built-in functions, over [`Value`].
//!
//! Every function keeps Terraform's name and documented semantics (see the
//! family modules for the few places where Dumcel differs). [`call`] applies the
//! value marks once, around every function:
//!
//! * an argument that is unknown, or holds an unknown anywhere inside, makes the
//!   result unknown (except `length` of a known collection, whose length is
//!   known even when its elements are not);
//! * an argument that holds a sensitive mark anywhere inside makes the
//!   function run on the unmarked arguments and the result sensitive.
//!
//! `sensitive` and `nonsensitive` are the two functions that work on the marks
//! themselves, so they see their argument untouched. `try` and `can` are not
//! here: they need lazy evaluation and belong to the evaluator.

mod collection;
mod confine;
mod conversion;
mod crypto;
mod encoding;
mod fileset;
mod filesystem;
mod format;
mod hash;
mod network;
mod numeric;
mod regex;
mod string;
mod template;
mod textencoding;
mod time;
mod yamldecode;
mod yamlencode;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_formats;
#[cfg(test)]
mod tests_terraform;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::path::Path;
use std::sync::OnceLock;

use dumcel_planner::value::format_number;
use dumcel_planner::{Map, Value};

pub(crate) use crypto::bcrypt_hash;
pub use time::Clock;

/// What the functions may know about the world around the expression.
#[derive(Debug, Clone, Copy)]
pub struct FuncContext<'a> {
    /// Directory that relative paths resolve against (`file`, `fileexists`,
    /// `abspath`, ...): the directory of the module being evaluated.
    pub base_dir: &'a Path,
    /// When set, file functions read only regular files inside this
    /// directory (a pipeline run of an untrusted branch); see `confine.rs`.
    pub confine_files: Option<&'a Path>,
    /// Plan or apply, and when the plan started: for `timestamp`, `uuid`
    /// and `plantimestamp`.
    pub clock: Clock,
}

/// Calls a built-in function. `None` when no function has that name;
/// `Err(message)` is a user-facing message without the function name prefix.
pub fn call(name: &str, args: Vec<Value>, ctx: &FuncContext<'_>) -> Option<Result<Value, String>> {
    let def = lookup(name)?;
    Some(run(def, args, ctx))
}

/// Refuses a call of a file function (`file`, `filesha256`, `pathexpand`
/// ...) whose path argument leads out of [`FuncContext::confine_files`],
/// without reading anything: a missing file is not an error here. A sandboxed
/// run checks calls with literal arguments this way before evaluating
/// anything; other functions, and unconfined contexts, pass.
pub fn check_confined(name: &str, args: &[Value], ctx: &FuncContext<'_>) -> Result<(), String> {
    confine::check_call(name, args, ctx)
}

/// Every function name, sorted.
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| registry().iter().map(|def| def.name).collect())
}

// ---------------------------------------------------------------------------
// Registry

type Impl = fn(&mut Args, &FuncContext<'_>) -> Result<Value, String>;

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arity {
    Exactly(usize),
    Between(usize, usize),
    AtLeast(usize),
}

impl Arity {
    fn check(self, got: usize) -> Result<(), String> {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self {
            Arity::Exactly(n) if got != n => Err(format!("expected {n} {}, got {got}", plural(n))),
            Arity::Between(lo, hi) if got < lo || got > hi => {
                Err(format!("expected {lo} to {hi} arguments, got {got}"))
            }
            Arity::AtLeast(n) if got < n => {
                Err(format!("expected at least {n} {}, got {got}", plural(n)))
            }
            _ => Ok(()),
        }
    }
}

/// Whether [`call`] applies the generic unknown / sensitive rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marks {
    /// Unknown in, unknown out; sensitive in, sensitive out.
    Generic,
    /// The function sees its arguments with their marks (`sensitive`, `nonsensitive`).
    Raw,
}

/// One built-in function.
pub(crate) struct Def {
    name: &'static str,
    arity: Arity,
    marks: Marks,
    run: Impl,
}

impl Def {
    pub(crate) const fn new(name: &'static str, arity: Arity, run: Impl) -> Def {
        Def {
            name,
            arity,
            marks: Marks::Generic,
            run,
        }
    }

    pub(crate) const fn raw(name: &'static str, arity: Arity, run: Impl) -> Def {
        Def {
            name,
            arity,
            marks: Marks::Raw,
            run,
        }
    }
}

fn registry() -> &'static [&'static Def] {
    static REGISTRY: OnceLock<Vec<&'static Def>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut all: Vec<&'static Def> = [
            collection::FUNCTIONS,
            conversion::FUNCTIONS,
            crypto::FUNCTIONS,
            encoding::FUNCTIONS,
            fileset::FUNCTIONS,
            filesystem::FUNCTIONS,
            hash::FUNCTIONS,
            network::FUNCTIONS,
            numeric::FUNCTIONS,
            regex::FUNCTIONS,
            string::FUNCTIONS,
            template::FUNCTIONS,
            textencoding::FUNCTIONS,
            time::FUNCTIONS,
            yamldecode::FUNCTIONS,
            yamlencode::FUNCTIONS,
        ]
        .into_iter()
        .flatten()
        .collect();
        all.sort_by_key(|def| def.name);
        all
    })
}

/// Terraform 1.9's `core::` prefix names the same built-in functions.
fn lookup(name: &str) -> Option<&'static Def> {
    let name = name.strip_prefix("core::").unwrap_or(name);
    let all = registry();
    all.binary_search_by(|def| def.name.cmp(name))
        .ok()
        .map(|i| all[i])
}

fn run(def: &Def, args: Vec<Value>, ctx: &FuncContext<'_>) -> Result<Value, String> {
    def.arity.check(args.len())?;
    if def.marks == Marks::Raw {
        return (def.run)(&mut Args::new(args), ctx);
    }
    let sensitive = args.iter().any(Value::contains_sensitive);
    if !args.iter().all(Value::is_wholly_known) {
        if def.name == "length"
            && let Some(n) = known_length(&args[0])
        {
            return Ok(Value::Number(n as f64).mark_if(sensitive));
        }
        return Ok(Value::Unknown.mark_if(sensitive));
    }
    let mut secrets = Vec::new();
    let args = if sensitive {
        for arg in &args {
            collect_secrets(arg, false, &mut secrets);
        }
        args.into_iter().map(Value::deep_unmark).collect()
    } else {
        args
    };
    let result = (def.run)(&mut Args::new(args), ctx).map_err(|e| redact(e, &secrets))?;
    Ok(result.mark_if(sensitive))
}

/// The strings under a sensitive mark, which error messages must not repeat.
fn collect_secrets(v: &Value, marked: bool, out: &mut Vec<String>) {
    match v {
        Value::Sensitive(inner) => collect_secrets(inner, true, out),
        Value::String(s) if marked && !s.is_empty() => out.push(s.clone()),
        Value::List(items) => items.iter().for_each(|i| collect_secrets(i, marked, out)),
        Value::Map(map) => map.values().for_each(|i| collect_secrets(i, marked, out)),
        _ => {}
    }
}

/// Masks sensitive strings in an error message: quoted as the messages quote
/// values, and bare when long enough not to hit ordinary words by accident.
fn redact(mut message: String, secrets: &[String]) -> String {
    const MASK: &str = "(sensitive value)";
    for secret in secrets {
        message = message.replace(&format!("{secret:?}"), MASK);
        if secret.chars().count() >= 4 {
            message = message.replace(secret.as_str(), MASK);
        }
    }
    message
}

/// The length of a known collection whose elements may be unknown.
fn known_length(v: &Value) -> Option<usize> {
    match v.unmark().0 {
        Value::List(items) => Some(items.len()),
        Value::Map(map) => Some(map.len()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Arguments

/// The arguments of one call, with typed accessors that produce Terraform-like
/// error messages. Inside a [`Marks::Generic`] function they are wholly known
/// and unmarked.
pub(crate) struct Args {
    values: Vec<Value>,
}

static NULL: Value = Value::Null;

impl Args {
    pub(crate) fn new(values: Vec<Value>) -> Args {
        Args { values }
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn all(&self) -> &[Value] {
        &self.values
    }

    /// Argument `i` (0-based); null when absent.
    pub(crate) fn get(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&NULL)
    }

    /// Moves argument `i` out, leaving null behind.
    pub(crate) fn take(&mut self, i: usize) -> Value {
        self.values
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Moves every argument out.
    pub(crate) fn take_all(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.values)
    }

    /// A string argument; numbers and bools convert, as in Terraform.
    pub(crate) fn string(&self, i: usize) -> Result<Cow<'_, str>, String> {
        let v = self.get(i);
        to_str(v).ok_or_else(|| arg_type("a string", v, i))
    }

    /// A number argument; numeric strings convert, as in Terraform.
    pub(crate) fn number(&self, i: usize) -> Result<f64, String> {
        let v = self.get(i);
        to_number(v).ok_or_else(|| arg_type("a number", v, i))
    }

    /// A whole-number argument, named `param` in errors.
    pub(crate) fn integer(&self, i: usize, param: &str) -> Result<i64, String> {
        whole(self.number(i)?, param)
    }

    /// A list, tuple or set argument.
    pub(crate) fn list(&self, i: usize) -> Result<&[Value], String> {
        let v = self.get(i);
        v.as_list().ok_or_else(|| arg_type("a list", v, i))
    }

    /// A map or object argument.
    pub(crate) fn map(&self, i: usize) -> Result<&Map, String> {
        let v = self.get(i);
        v.as_map().ok_or_else(|| arg_type("a map", v, i))
    }

    /// A list argument whose elements all convert to strings.
    pub(crate) fn string_list(&self, i: usize) -> Result<Vec<Cow<'_, str>>, String> {
        self.list(i)?
            .iter()
            .enumerate()
            .map(|(j, v)| to_str(v).ok_or_else(|| elem_type("a string", v, i, j)))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Conversions (Terraform's automatic conversions between primitive types)

/// The string form of a primitive: strings, numbers and bools.
pub(crate) fn to_str(v: &Value) -> Option<Cow<'_, str>> {
    match v.unmark().0 {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(format_number(*n))),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A number, or a string holding a decimal number.
pub(crate) fn to_number(v: &Value) -> Option<f64> {
    match v.unmark().0 {
        Value::Number(n) => Some(*n),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

/// Parses a decimal number the way Terraform converts strings to numbers:
/// no surrounding spaces, no `inf` / `nan`, no hexadecimal.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && s.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A bool, or the strings "true" / "false".
pub(crate) fn to_bool(v: &Value) -> Option<bool> {
    match v.unmark().0 {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A whole number as `i64`; `param` names the parameter in errors.
pub(crate) fn whole(n: f64, param: &str) -> Result<i64, String> {
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(invalid(param, "must be a whole number"));
    }
    if n.abs() >= 9.2e18 {
        return Err(invalid(param, "is too large"));
    }
    Ok(n as i64)
}

fn is_primitive(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Terraform's type unification for the elements of one collection: when
/// primitives of different types meet, they all become strings. Anything else
/// is left as it is.
pub(crate) fn unify(items: Vec<Value>) -> Vec<Value> {
    let mut kinds = items
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| std::mem::discriminant(v.unmark().0));
    let first = kinds.next();
    let mixed = kinds.any(|k| Some(k) != first);
    if !mixed || !items.iter().all(|v| v.is_null() || is_primitive(v)) {
        return items;
    }
    items
        .into_iter()
        .map(|v| match to_str(&v) {
            Some(s) => Value::String(s.into_owned()),
            None => v,
        })
        .collect()
}

/// A set: unified, sorted, without duplicates.
pub(crate) fn make_set(items: Vec<Value>) -> Vec<Value> {
    let mut items = unify(items);
    items.sort_by(compare);
    items.dedup_by(|a, b| compare(a, b) == Ordering::Equal);
    items
}

/// A total order over values, used for sets: nulls, bools, numbers
/// (numerically), strings (lexically), lists, maps.
pub(crate) fn compare(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::List(_) => 4,
            Value::Map(_) => 5,
            Value::Unknown => 6,
            Value::Sensitive(_) => 7,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = compare(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x), Value::Map(y)) => {
            for ((kp, vp), (kq, vq)) in x.iter().zip(y) {
                let o = kp.cmp(kq).then_with(|| compare(vp, vq));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Sensitive(x), Value::Sensitive(y)) => compare(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

// ---------------------------------------------------------------------------
// Error messages

/// "expected a string, got list (argument 2)"; `i` is 0-based.
pub(crate) fn arg_type(expected: &str, got: &Value, i: usize) -> String {
    format!(
        "expected {expected}, got {} (argument {})",
        got.type_name(),
        i + 1
    )
}

/// "expected a string, got list (argument 1, element 3)"; `i` is 0-based,
/// `j` is the element's index as HCL would write it.
pub(crate) fn elem_type(expected: &str, got: &Value, i: usize, j: usize) -> String {
    format!(
        "expected {expected}, got {} (argument {}, element {j})",
        got.type_name(),
        i + 1
    )
}

/// Terraform's "Invalid value for \"count\" parameter: must be non-negative".
pub(crate) fn invalid(param: &str, msg: impl std::fmt::Display) -> String {
    format!("Invalid value for \"{param}\" parameter: {msg}")
}

/// Largest collection a function builds (`range`, `setproduct`, ...).
pub(crate) const MAX_ELEMENTS: usize = 1_000_000;

/// Longest string (in bytes) a function builds by repetition (`indent`,
/// `replace`), so that a small expression cannot exhaust memory.
pub(crate) const MAX_STRING: usize = 64 << 20;

/// The error for results longer than [`MAX_STRING`].
pub(crate) fn too_long() -> String {
    format!("the result would be longer than {MAX_STRING} bytes")
}
