//! The expression evaluator.

use dumcel_planner::{Map, Value};

use super::ops;
use super::scope::Scope;
use crate::config::ast::{Expr, ExprKind, ForExpr, ObjectKey, Step, TemplatePart};
use crate::config::{Diagnostic, Span};
use crate::functions::{self, FuncContext};

/// An evaluation error: what went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub summary: String,
    pub detail: String,
    pub span: Span,
}

impl EvalError {
    fn new(summary: impl Into<String>, detail: impl Into<String>, span: Span) -> EvalError {
        EvalError {
            summary: summary.into(),
            detail: detail.into(),
            span,
        }
    }
}

impl From<EvalError> for Diagnostic {
    fn from(e: EvalError) -> Diagnostic {
        Diagnostic::error(e.summary, e.detail, Some(e.span))
    }
}

/// Evaluates `expr` in `scope`.
pub fn eval(expr: &Expr, scope: &Scope) -> Result<Value, EvalError> {
    Evaluator {
        scope,
        locals: Vec::new(),
    }
    .eval(expr)
}

struct Evaluator<'a> {
    scope: &'a Scope,
    /// Names bound by `for` expressions and directives, innermost last.
    locals: Vec<(String, Value)>,
}

impl Evaluator<'_> {
    fn eval(&mut self, e: &Expr) -> Result<Value, EvalError> {
        match &e.kind {
            ExprKind::Literal(v) => Ok(v.clone()),
            ExprKind::Template(parts) => {
                // `"${x}"` alone yields x itself, of any type, as HCL specifies.
                if let [TemplatePart::Interp(inner)] = parts.as_slice() {
                    return self.eval(inner);
                }
                let mut out = String::new();
                let mut marks = Marks::default();
                if !self.template(parts, &mut out, &mut marks)? {
                    return Ok(Value::Unknown.mark_if(marks.sensitive));
                }
                Ok(Value::String(out).mark_if(marks.sensitive))
            }
            ExprKind::Array(items) => Ok(Value::List(
                items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<Result<_, _>>()?,
            )),
            ExprKind::Object(items) => {
                let mut map = Map::new();
                for (k, v) in items {
                    let key = match k {
                        ObjectKey::Name(n) => n.clone(),
                        ObjectKey::Expr(ke) => {
                            let kv = self.eval(ke)?;
                            if kv.is_unknown() {
                                return Ok(Value::Unknown);
                            }
                            kv.to_template_string().ok_or_else(|| {
                                EvalError::new(
                                    "Invalid object key",
                                    format!(
                                        "An object key must be a string, got {}.",
                                        kv.type_name()
                                    ),
                                    ke.span,
                                )
                            })?
                        }
                    };
                    let value = self.eval(v)?;
                    map.insert(key, value);
                }
                Ok(Value::Map(map))
            }
            ExprKind::Variable(name) => self.variable(name, e.span),
            ExprKind::Traversal(base, steps) => {
                let v = self.eval(base)?;
                self.traverse(v, steps)
            }
            ExprKind::Call {
                name,
                args,
                expand_final,
            } => self.call(name, args, *expand_final, e.span),
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                ops::unary(*op, &v).map_err(|m| EvalError::new("Invalid operand", m, e.span))
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                ops::binary(*op, &x, &y).map_err(|m| EvalError::new("Invalid operand", m, e.span))
            }
            ExprKind::Conditional(c, t, f) => {
                let cond = self.eval(c)?;
                if cond.is_unknown() {
                    return Ok(Value::Unknown);
                }
                let b = ops::to_bool(&cond).ok_or_else(|| {
                    EvalError::new(
                        "Incorrect condition type",
                        format!("The condition must be a bool, got {}.", cond.type_name()),
                        c.span,
                    )
                })?;
                let chosen = if b { self.eval(t)? } else { self.eval(f)? };
                Ok(chosen.mark_if(cond.is_sensitive()))
            }
            ExprKind::For(f) => self.for_expr(f, e.span),
        }
    }

    fn variable(&self, name: &str, span: Span) -> Result<Value, EvalError> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        self.scope.roots.get(name).cloned().ok_or_else(|| {
            EvalError::new(
                format!("Unknown name \"{name}\""),
                "Nothing by this name is declared or in scope here. References look like var.NAME, local.NAME or TYPE.NAME.ATTRIBUTE.",
                span,
            )
        })
    }

    fn traverse(&mut self, mut v: Value, steps: &[Step]) -> Result<Value, EvalError> {
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Attr(name, s) => v = get_attr(v, name, *s)?,
                Step::Index(ix) => {
                    let key = self.eval(ix)?;
                    v = index(v, &key, ix.span)?;
                }
                Step::AttrSplat | Step::FullSplat => {
                    let rest = &steps[i + 1..];
                    // `.*` applies only the attribute steps that follow it.
                    let (apply, after) = if matches!(step, Step::AttrSplat) {
                        let n = rest
                            .iter()
                            .take_while(|s| matches!(s, Step::Attr(..)))
                            .count();
                        rest.split_at(n)
                    } else {
                        (rest, &[][..])
                    };
                    let (inner, sensitive) = v.into_unmarked();
                    let items = match inner {
                        Value::Unknown => return Ok(Value::Unknown),
                        Value::Null => Vec::new(),
                        Value::List(items) => items,
                        other => vec![other],
                    };
                    let mapped = items
                        .into_iter()
                        .map(|item| self.traverse(item, apply))
                        .collect::<Result<Vec<_>, _>>()?;
                    let result = Value::List(mapped).mark_if(sensitive);
                    return self.traverse(result, after);
                }
            }
        }
        Ok(v)
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        expand_final: bool,
        span: Span,
    ) -> Result<Value, EvalError> {
        // `try` and `can` evaluate their arguments themselves, catching errors.
        match name {
            "try" => {
                for a in args {
                    if let Ok(v) = self.eval(a) {
                        if v.is_unknown() {
                            return Ok(Value::Unknown);
                        }
                        return Ok(v);
                    }
                }
                return Err(EvalError::new(
                    "No try() argument succeeded",
                    "Every argument to try() failed; add a fallback value as the last argument.",
                    span,
                ));
            }
            "can" => {
                let [a] = args else {
                    return Err(EvalError::new(
                        "Wrong number of arguments",
                        "can() takes exactly one argument.",
                        span,
                    ));
                };
                return Ok(match self.eval(a) {
                    Ok(v) if v.is_unknown() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            _ => {}
        }
        let mut values = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<Vec<_>, _>>()?;
        if expand_final {
            match values.pop().map(Value::into_unmarked) {
                Some((Value::List(items), _)) => values.extend(items),
                Some((Value::Unknown, _)) => return Ok(Value::Unknown),
                Some((other, _)) => {
                    return Err(EvalError::new(
                        "Invalid expanding argument",
                        format!(
                            "The argument after `...` must be a list, got {}.",
                            other.type_name()
                        ),
                        span,
                    ));
                }
                None => {}
            }
        }
        let ctx = FuncContext {
            base_dir: &self.scope.base_dir,
            confine_files: self.scope.confine_files.as_deref(),
            clock: self.scope.clock,
        };
        match functions::call(name, values, &ctx) {
            Some(Ok(v)) => Ok(v),
            Some(Err(message)) => Err(EvalError::new(
                format!("Error in function call {name}()"),
                message,
                span,
            )),
            None if name.starts_with("provider::") => Err(EvalError::new(
                format!("Call to unknown function \"{name}\""),
                "Provider-defined functions are not supported: dumcel's providers define none. Use a built-in function instead.",
                span,
            )),
            None => Err(EvalError::new(
                format!("Call to unknown function \"{name}\""),
                match suggest(name, functions::names()) {
                    Some(s) => {
                        format!("There is no function named \"{name}\". Did you mean \"{s}\"?")
                    }
                    None => format!(
                        "There is no function named \"{name}\"; the README lists the built-in functions."
                    ),
                },
                span,
            )),
        }
    }

    /// Returns false when an unknown made the result unknown.
    fn template(
        &mut self,
        parts: &[TemplatePart],
        out: &mut String,
        marks: &mut Marks,
    ) -> Result<bool, EvalError> {
        for part in parts {
            match part {
                TemplatePart::Literal(s) => out.push_str(s),
                TemplatePart::Interp(e) => {
                    let v = self.eval(e)?;
                    marks.sensitive |= v.contains_sensitive();
                    if !v.is_wholly_known() {
                        return Ok(false);
                    }
                    if v.is_null() {
                        return Err(EvalError::new(
                            "Invalid template interpolation value",
                            "The expression is null; a template can only include strings, numbers and bools. Use coalesce() or a conditional to supply a default.",
                            e.span,
                        ));
                    }
                    let s = v.to_template_string().ok_or_else(|| {
                        EvalError::new(
                            "Invalid template interpolation value",
                            format!("Cannot include a {} in a string template; use jsonencode() or join() to make it a string.", v.type_name()),
                            e.span,
                        )
                    })?;
                    out.push_str(&s);
                }
                TemplatePart::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    let c = self.eval(cond)?;
                    marks.sensitive |= c.is_sensitive();
                    if c.is_unknown() {
                        return Ok(false);
                    }
                    let b = ops::to_bool(&c).ok_or_else(|| {
                        EvalError::new(
                            "Invalid %{if} condition",
                            format!("The condition must be a bool, got {}.", c.type_name()),
                            cond.span,
                        )
                    })?;
                    let branch = if b { then } else { otherwise };
                    if !self.template(branch, out, marks)? {
                        return Ok(false);
                    }
                }
                TemplatePart::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                } => {
                    let coll = self.eval(collection)?;
                    marks.sensitive |= coll.is_sensitive();
                    let Some(pairs) = iterate(&coll, collection.span)? else {
                        return Ok(false);
                    };
                    for (k, v) in pairs {
                        let n = self.locals.len();
                        if let Some(kv) = key_var {
                            self.locals.push((kv.clone(), k));
                        }
                        self.locals.push((value_var.clone(), v));
                        let ok = self.template(body, out, marks);
                        self.locals.truncate(n);
                        if !ok? {
                            return Ok(false);
                        }
                    }
                }
            }
        }
        Ok(true)
    }

    fn for_expr(&mut self, f: &ForExpr, span: Span) -> Result<Value, EvalError> {
        let coll = self.eval(&f.collection)?;
        let sensitive = coll.is_sensitive();
        let Some(pairs) = iterate(&coll, f.collection.span)? else {
            return Ok(Value::Unknown);
        };
        let mut list = Vec::new();
        let mut map = Map::new();
        let mut groups: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for (k, v) in pairs {
            let n = self.locals.len();
            if let Some(kv) = &f.key_var {
                self.locals.push((kv.clone(), k));
            }
            self.locals.push((f.value_var.clone(), v));
            let step = self.for_step(f, span, &mut list, &mut map, &mut groups);
            self.locals.truncate(n);
            if !step? {
                return Ok(Value::Unknown);
            }
        }
        let out = if f.key_expr.is_some() {
            if f.grouping {
                Value::Map(
                    groups
                        .into_iter()
                        .map(|(k, v)| (k, Value::List(v)))
                        .collect(),
                )
            } else {
                Value::Map(map)
            }
        } else {
            Value::List(list)
        };
        Ok(out.mark_if(sensitive))
    }

    /// One element of a `for`; false when an unknown made the result unknown.
    fn for_step(
        &mut self,
        f: &ForExpr,
        span: Span,
        list: &mut Vec<Value>,
        map: &mut Map,
        groups: &mut std::collections::BTreeMap<String, Vec<Value>>,
    ) -> Result<bool, EvalError> {
        if let Some(cond) = &f.cond {
            let c = self.eval(cond)?;
            if c.is_unknown() {
                return Ok(false);
            }
            match ops::to_bool(&c) {
                Some(true) => {}
                Some(false) => return Ok(true),
                None => {
                    return Err(EvalError::new(
                        "Invalid for-expression condition",
                        format!("The `if` condition must be a bool, got {}.", c.type_name()),
                        cond.span,
                    ));
                }
            }
        }
        let value = self.eval(&f.value_expr)?;
        match &f.key_expr {
            None => list.push(value),
            Some(ke) => {
                let k = self.eval(ke)?;
                if k.is_unknown() {
                    return Ok(false);
                }
                let key = k.to_template_string().ok_or_else(|| {
                    EvalError::new(
                        "Invalid object key",
                        format!(
                            "A for-expression key must be a string, got {}.",
                            k.type_name()
                        ),
                        ke.span,
                    )
                })?;
                if f.grouping {
                    groups.entry(key).or_default().push(value);
                } else {
                    if map.contains_key(&key) {
                        return Err(EvalError::new(
                            "Duplicate object key",
                            format!(
                                "Two elements produce the key \"{key}\"; add `...` after the value expression to group them into lists."
                            ),
                            span,
                        ));
                    }
                    map.insert(key, value);
                }
            }
        }
        Ok(true)
    }
}

#[derive(Default)]
struct Marks {
    sensitive: bool,
}

/// Key/value pairs of a collection for `for`: index/element for lists, key/value for
/// maps. `None` when the collection is unknown.
fn iterate(coll: &Value, span: Span) -> Result<Option<Vec<(Value, Value)>>, EvalError> {
    match coll.unmark().0 {
        Value::Unknown => Ok(None),
        Value::List(items) => Ok(Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v.clone()))
                .collect(),
        )),
        Value::Map(map) => Ok(Some(
            map.iter()
                .map(|(k, v)| (Value::string(k.clone()), v.clone()))
                .collect(),
        )),
        Value::Null => Err(EvalError::new(
            "Iteration over null value",
            "A null value cannot be iterated; use [] or {} as a default.",
            span,
        )),
        other => Err(EvalError::new(
            "Iteration over non-collection",
            format!(
                "A for expression needs a list, set, map or object, got {}.",
                other.type_name()
            ),
            span,
        )),
    }
}

fn get_attr(v: Value, name: &str, span: Span) -> Result<Value, EvalError> {
    let (inner, sensitive) = v.into_unmarked();
    match inner {
        Value::Unknown => Ok(Value::Unknown),
        Value::Map(mut map) => match map.remove(name) {
            Some(found) => Ok(found.mark_if(sensitive)),
            None => {
                let names: Vec<&str> = map.keys().map(String::as_str).collect();
                Err(EvalError::new(
                    "Unsupported attribute",
                    match suggest(name, &names) {
                        Some(s) => format!(
                            "This object has no attribute named \"{name}\". Did you mean \"{s}\"?"
                        ),
                        None => format!("This object has no attribute named \"{name}\"."),
                    },
                    span,
                ))
            }
        },
        Value::Null => Err(EvalError::new(
            "Attempt to get attribute from null value",
            format!("Cannot read \"{name}\" of a null value."),
            span,
        )),
        Value::List(_) => Err(EvalError::new(
            "Unsupported attribute",
            format!(
                "This value is a list, which has no attribute \"{name}\". Index it first (like [0]) or use a splat ([*].{name})."
            ),
            span,
        )),
        other => Err(EvalError::new(
            "Unsupported attribute",
            format!(
                "A {} has no attributes; cannot read \"{name}\".",
                other.type_name()
            ),
            span,
        )),
    }
}

fn index(v: Value, key: &Value, span: Span) -> Result<Value, EvalError> {
    let (inner, sensitive) = v.into_unmarked();
    if key.is_unknown() || inner.is_unknown() {
        return Ok(Value::Unknown);
    }
    let missing = |what: String| EvalError::new("Invalid index", what, span);
    let out = match inner {
        Value::List(mut items) => {
            let n = ops::to_number(key).ok_or_else(|| {
                missing(format!(
                    "A list index must be a number, got {}.",
                    key.type_name()
                ))
            })?;
            if n.fract() != 0.0 || n < 0.0 || n as usize >= items.len() {
                return Err(missing(format!(
                    "The index {} is out of range: the list has {} element(s).",
                    dumcel_planner::value::format_number(n),
                    items.len()
                )));
            }
            items.swap_remove(n as usize)
        }
        Value::Map(mut map) => {
            let k = key.to_template_string().ok_or_else(|| {
                missing(format!(
                    "A map key must be a string, got {}.",
                    key.type_name()
                ))
            })?;
            map.remove(&k).ok_or_else(|| {
                missing(format!(
                    "The given key \"{k}\" does not identify an element in this map."
                ))
            })?
        }
        Value::Null => return Err(missing("Cannot index a null value.".into())),
        other => {
            return Err(missing(format!(
                "A {} cannot be indexed.",
                other.type_name()
            )));
        }
    };
    Ok(out.mark_if(sensitive))
}

/// The closest of `candidates` to `name`, if close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 2.max(name.len() / 4))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
