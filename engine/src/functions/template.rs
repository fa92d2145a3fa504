//! Template functions: `templatefile(path, vars)` and
//! `templatestring(template, vars)`.
//!
//! The template is HCL template syntax (`${...}`, `%{ if }`, `%{ for }`,
//! `~` strip markers, `$${` / `%%{` escapes), parsed and evaluated by the
//! same parser and evaluator as the strings of a stack. Only `vars` is in
//! scope, as in Terraform: `var.`, `local.` and resource references are not.
//! Every other function may be called, except the template functions
//! themselves (Terraform refuses recursion too; dumcel refuses such a call
//! wherever it appears in the template, even in a branch not taken).
//!
//! A template that is a single `${...}` returns that value as it is (a list
//! stays a list), as Terraform does.

use std::str::FromStr;

use hcl_edit::Ident;
use hcl_edit::expr::Expression;
use hcl_edit::template::{HeredocTemplate, Template};

use super::filesystem::read_file;
use super::{Args, Arity, Def, FuncContext, invalid};
use crate::config::ast::{Expr, ExprKind};
use crate::config::lower::Lowerer;
use crate::eval::{Scope, eval};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("templatefile", Arity::Exactly(2), templatefile),
    Def::new("templatestring", Arity::Exactly(2), templatestring),
];

/// The functions a template may not call.
const TEMPLATE_FUNCTIONS: &[&str] = &[
    "templatefile",
    "templatestring",
    "core::templatefile",
    "core::templatestring",
];

fn templatefile(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?.into_owned();
    let bytes = read_file(ctx, &given).map_err(|e| invalid("path", e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        invalid(
            "path",
            format!(
                "contents of {given:?} are not valid UTF-8; use the filebase64 function to \
                 obtain the Base64 encoded contents or the other file functions (e.g. filemd5, \
                 filesha256) to obtain file hashing results instead"
            ),
        )
    })?;
    render(&given, &text, a.get(1), ctx)
}

/// Terraform allows only a reference here (a template fetched from
/// elsewhere); dumcel's functions see values, not expressions, so a literal
/// template is accepted too.
fn templatestring(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let text = a.string(0)?.into_owned();
    render("<templatestring>", &text, a.get(1), ctx)
}

/// Parses `text` (named `source` in errors) as a template and evaluates it
/// with `vars` as its only names.
fn render(source: &str, text: &str, vars: &Value, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let Some(vars) = vars.as_map() else {
        return Err(invalid("vars", "invalid vars value: must be a map"));
    };
    let template = Template::from_str(text).map_err(|e| {
        let at = e.location();
        format!(
            "{source}:{},{}: invalid template: {}",
            at.line(),
            at.column(),
            e.message()
        )
    })?;
    let heredoc = HeredocTemplate::new(Ident::new("EOT"), template);
    // Spans point into `text`; the file number is not in any source map.
    let expr = Lowerer::new(u32::MAX).expr(&Expression::HeredocTemplate(Box::new(heredoc)));
    refuse_recursion(&expr, source, text)?;
    let mut scope = Scope::new(ctx.base_dir).confined_to(ctx.confine_files);
    scope.clock = ctx.clock;
    for (name, value) in vars {
        scope.set(name, value.clone());
    }
    eval(&expr, &scope).map_err(|e| {
        format!(
            "{source}:{}: {}; {}",
            position(text, e.span.range().start),
            e.summary,
            e.detail
        )
    })
}

fn refuse_recursion(expr: &Expr, source: &str, text: &str) -> Result<(), String> {
    let mut found = None;
    expr.walk(&mut |e| {
        if let ExprKind::Call { name, .. } = &e.kind
            && TEMPLATE_FUNCTIONS.contains(&name.as_str())
            && found.is_none()
        {
            found = Some((name.clone(), e.span.range().start));
        }
    });
    match found {
        Some((name, at)) => Err(format!(
            "{source}:{}: cannot call {name} from inside a template: template functions \
             cannot be called recursively",
            position(text, at)
        )),
        None => Ok(()),
    }
}

/// "line,column" (both from 1) of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> String {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{line},{column}")
}
