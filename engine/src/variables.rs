//! Input variable values, in this order of precedence (later wins), as
//! Terraform orders them: defaults; `TF_VAR_name` then `DUMCEL_VAR_name`
//! environment variables; `terraform.tfvars`, `terraform.tfvars.json` and
//! `dumcel.vars.hcl`; `*.auto.tfvars`, `*.auto.tfvars.json` and
//! `*.auto.vars.hcl` in name order; `-var` / `-var-file` on the command line
//! in the order given. Each value is converted to its variable's declared
//! type.

use std::path::{Path, PathBuf};

use hcl_edit::structure::Structure;

use dumcel_planner::{Map, Value};

use crate::config::load::parse_file;
use crate::config::lower::Lowerer;
use crate::config::{Diagnostic, Diagnostics, Module, SourceMap, TypeConstraint, VariableDecl};
use crate::eval::{Scope, eval};

/// One command-line source, in the order given.
#[derive(Debug, Clone)]
pub enum CliVar {
    /// `-var name=value`
    Pair(String, String),
    /// `-var-file=FILE`
    File(PathBuf),
}

/// Asks a person for a missing value (on a terminal); `None` when there is nobody to ask.
pub type Prompt<'a> = &'a mut dyn FnMut(&VariableDecl) -> Option<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Raw,
    Parsed,
}

/// Environment variables that set input variables, weakest first.
pub const ENV_PREFIXES: [&str; 2] = ["TF_VAR_", "DUMCEL_VAR_"];

/// Resolves every declared variable to a value.
pub fn resolve(
    module: &Module,
    sources: &mut SourceMap,
    cli: &[CliVar],
    env: &[(String, String)],
    prompt: Option<Prompt<'_>>,
) -> Result<Map, Diagnostics> {
    resolve_confined(module, sources, cli, env, prompt, None)
}

/// [`resolve`], with file functions (in defaults, validations and variables
/// files) reading only inside `confine_files` when set: see
/// [`crate::stack::Stack::confine_files`].
pub fn resolve_confined(
    module: &Module,
    sources: &mut SourceMap,
    cli: &[CliVar],
    env: &[(String, String)],
    prompt: Option<Prompt<'_>>,
    confine_files: Option<&Path>,
) -> Result<Map, Diagnostics> {
    let scope = || Scope::new(&module.dir).confined_to(confine_files);
    // Values given as text have no file of their own: they are evaluated with
    // no base directory, as before confinement existed.
    let text_scope = Scope::default().confined_to(confine_files);
    let mut diags = Diagnostics::new();
    // name -> (value, whether it still needs parsing as HCL)
    let mut given: indexmap::IndexMap<String, (Value, Origin)> = indexmap::IndexMap::new();

    for prefix in ENV_PREFIXES {
        for (key, value) in env {
            if let Some(name) = key.strip_prefix(prefix)
                && module.variables.contains_key(name)
            {
                given.insert(name.to_owned(), (Value::string(value.clone()), Origin::Raw));
            }
        }
    }
    for file in auto_var_files(&module.dir) {
        read_var_file(
            &file,
            module,
            sources,
            &scope(),
            &mut given,
            &mut diags,
            false,
        );
    }
    for item in cli {
        match item {
            CliVar::Pair(name, value) => {
                if !module.variables.contains_key(name) {
                    diags.error(
                        format!("Value for undeclared variable \"{name}\""),
                        format!("-var {name}=... names no variable of this stack; declare it with variable \"{name}\" {{}} or fix the name."),
                        None,
                    );
                    continue;
                }
                given.insert(name.clone(), (Value::string(value.clone()), Origin::Raw));
            }
            CliVar::File(path) => read_var_file(
                path,
                module,
                sources,
                &scope(),
                &mut given,
                &mut diags,
                true,
            ),
        }
    }

    let mut out = Map::new();
    let mut missing = Vec::new();
    let mut prompt = prompt;
    for (name, decl) in &module.variables {
        let raw = match given.swap_remove(name) {
            Some((v, Origin::Raw)) => Some(parse_raw(v, &decl.type_constraint, &text_scope)),
            Some((v, Origin::Parsed)) => Some(Ok(v)),
            None => None,
        };
        let value = match raw {
            Some(Ok(v)) => v,
            Some(Err(msg)) => {
                diags.push(Diagnostic::error(
                    format!("Invalid value for variable \"{name}\""),
                    msg,
                    Some(decl.span),
                ));
                continue;
            }
            None => match &decl.default {
                Some(expr) => match eval(expr, &scope()) {
                    Ok(v) => v,
                    Err(e) => {
                        diags.push(e.into());
                        continue;
                    }
                },
                None => match prompt.as_mut().and_then(|p| p(decl)) {
                    Some(text) => {
                        match parse_raw(Value::string(text), &decl.type_constraint, &text_scope) {
                            Ok(v) => v,
                            Err(msg) => {
                                diags.push(Diagnostic::error(
                                    format!("Invalid value for variable \"{name}\""),
                                    msg,
                                    Some(decl.span),
                                ));
                                continue;
                            }
                        }
                    }
                    None => {
                        missing.push(decl);
                        continue;
                    }
                },
            },
        };
        match convert(&value, &decl.type_constraint) {
            Ok(v) => {
                let v = v.mark_if(decl.sensitive);
                validate(decl, &v, scope(), &mut diags);
                out.insert(name.clone(), v);
            }
            Err(msg) => diags.push(Diagnostic::error(
                format!("Invalid value for variable \"{name}\""),
                if decl.sensitive {
                    "The given value does not match the variable's type.".to_owned()
                } else {
                    msg
                },
                Some(decl.span),
            )),
        }
    }
    for decl in missing {
        diags.push(Diagnostic::error(
            format!("No value for required variable \"{}\"", decl.name),
            format!(
                "The variable has no default. Set it with -var {0}=VALUE, in terraform.tfvars (or dumcel.vars.hcl, or a *.auto.tfvars file), or with the environment variable TF_VAR_{0}.",
                decl.name
            ),
            Some(decl.span),
        ));
    }
    diags.into_result()?;
    Ok(out)
}

/// The variable files read without being named: `terraform.tfvars`,
/// `terraform.tfvars.json`, `dumcel.vars.hcl`, then the `*.auto.*` ones in
/// name order.
fn auto_var_files(dir: &Path) -> Vec<PathBuf> {
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    [".auto.tfvars", ".auto.tfvars.json", ".auto.vars.hcl"]
                        .iter()
                        .any(|ext| n.ends_with(ext))
                })
        })
        .collect();
    auto.sort();
    let main = [
        "terraform.tfvars",
        "terraform.tfvars.json",
        "dumcel.vars.hcl",
    ]
    .iter()
    .map(|n| dir.join(n))
    .filter(|p| p.is_file());
    main.chain(auto).collect()
}

fn read_var_file(
    path: &Path,
    module: &Module,
    sources: &mut SourceMap,
    scope: &Scope,
    given: &mut indexmap::IndexMap<String, (Value, Origin)>,
    diags: &mut Diagnostics,
    explicit: bool,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.error(
                format!("Cannot read variable file {}: {e}", path.display()),
                "Check the path given to -var-file.",
                None,
            );
            return;
        }
    };
    if path.extension().is_some_and(|e| e == "json") {
        read_json_var_file(path, &text, module, given, diags, explicit);
        return;
    }
    let file = sources.add(path, path.display().to_string(), text);
    let body = match parse_file(sources, file) {
        Ok(b) => b,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    let lower = Lowerer::new(file);
    for s in body.iter() {
        let Structure::Attribute(a) = s else {
            diags.error(
                "Blocks are not allowed in a variables file",
                "A variables file holds only `name = value` lines.",
                None,
            );
            continue;
        };
        let name = a.key.value().to_string();
        let expr = lower.expr(&a.value);
        if !module.variables.contains_key(&name) {
            undeclared(&name, Some(expr.span), explicit, diags);
            continue;
        }
        match eval(&expr, scope) {
            Ok(v) => {
                given.insert(name, (v, Origin::Parsed));
            }
            Err(e) => diags.push(Diagnostic::error(
                "Variables files can hold only literal values",
                format!("{} — {}", e.summary, e.detail),
                Some(e.span),
            )),
        }
    }
}

/// A value for a variable the stack does not declare: a warning in a file
/// read by default, an error in one named on the command line (Terraform).
fn undeclared(
    name: &str,
    span: Option<crate::config::Span>,
    explicit: bool,
    diags: &mut Diagnostics,
) {
    let d = Diagnostic::warning(
        format!("Value for undeclared variable \"{name}\""),
        "The stack declares no variable by this name; the value is ignored.",
        span,
    );
    if explicit {
        diags.push(Diagnostic {
            severity: crate::config::Severity::Error,
            ..d
        });
    } else {
        diags.push(d);
    }
}

/// A `*.tfvars.json` file: one JSON object of variable values.
fn read_json_var_file(
    path: &Path,
    text: &str,
    module: &Module,
    given: &mut indexmap::IndexMap<String, (Value, Origin)>,
    diags: &mut Diagnostics,
    explicit: bool,
) {
    let object = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => o,
        Ok(_) => {
            diags.error(
                format!(
                    "{}: a variables file in JSON holds one object",
                    path.display()
                ),
                "Write { \"name\": value, ... }.",
                None,
            );
            return;
        }
        Err(e) => {
            diags.error(
                format!("{}:{}: invalid JSON: {e}", path.display(), e.line()),
                "Fix the JSON at that line.",
                None,
            );
            return;
        }
    };
    for (name, value) in object {
        if !module.variables.contains_key(&name) {
            undeclared(&name, None, explicit, diags);
            continue;
        }
        given.insert(name, (Value::from_json(&value), Origin::Parsed));
    }
}

/// A value given as text (`-var`, environment, prompt): a string for string
/// and untyped variables, else parsed as an HCL expression (evaluated in
/// `scope`, which carries the file confinement).
fn parse_raw(v: Value, t: &TypeConstraint, scope: &Scope) -> Result<Value, String> {
    let Value::String(text) = &v else {
        return Ok(v);
    };
    match t {
        TypeConstraint::String
        | TypeConstraint::Any
        | TypeConstraint::Number
        | TypeConstraint::Bool => Ok(v),
        _ => {
            let expr = hcl_edit::parser::parse_expr(text)
                .map_err(|e| format!("{text:?} is not a valid HCL value: {}", e.message()))?;
            let lowered = Lowerer::new(u32::MAX).expr(&expr);
            eval(&lowered, scope).map_err(|e| format!("{}: {}", e.summary, e.detail))
        }
    }
}

/// Converts a value to a type, or says which element is wrong.
pub fn convert(v: &Value, t: &TypeConstraint) -> Result<Value, String> {
    convert_at(v, t, "")
}

fn convert_at(v: &Value, t: &TypeConstraint, path: &str) -> Result<Value, String> {
    let (inner, sensitive) = v.unmark();
    if let TypeConstraint::Optional(t, default) = t {
        return match (inner, default) {
            (Value::Null, Some(d)) => convert_at(d, t, path),
            _ => convert_at(v, t, path),
        };
    }
    if inner.is_null() || inner.is_unknown() {
        return Ok(v.clone());
    }
    let at = |what: &str| {
        if path.is_empty() {
            format!("{what} is required, got {}", inner.type_name())
        } else {
            format!("{path}: {what} is required, got {}", inner.type_name())
        }
    };
    let out = match t {
        TypeConstraint::Any => inner.clone(),
        TypeConstraint::String => {
            Value::String(inner.to_template_string().ok_or_else(|| at("a string"))?)
        }
        TypeConstraint::Number => {
            Value::Number(crate::eval::to_number(inner).ok_or_else(|| at("a number"))?)
        }
        TypeConstraint::Bool => {
            Value::Bool(crate::eval::to_bool(inner).ok_or_else(|| at("a bool"))?)
        }
        TypeConstraint::List(elem) | TypeConstraint::Set(elem) => {
            let items = inner.as_list().ok_or_else(|| at("a list"))?;
            let mut out = items
                .iter()
                .enumerate()
                .map(|(i, item)| convert_at(item, elem, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(t, TypeConstraint::Set(_)) {
                out.sort_by_key(|a| a.to_string());
                out.dedup();
            }
            Value::List(out)
        }
        TypeConstraint::Map(elem) => {
            let map = inner.as_map().ok_or_else(|| at("a map"))?;
            Value::Map(
                map.iter()
                    .map(|(k, item)| {
                        Ok((
                            k.clone(),
                            convert_at(item, elem, &format!("{path}[\"{k}\"]"))?,
                        ))
                    })
                    .collect::<Result<Map, String>>()?,
            )
        }
        TypeConstraint::Object(fields) => {
            let map = inner.as_map().ok_or_else(|| at("an object"))?;
            let mut out = Map::new();
            for (name, ft) in fields {
                let item = match map.get(name) {
                    Some(item) => item.clone(),
                    None if matches!(ft, TypeConstraint::Optional(..)) => Value::Null,
                    None => return Err(format!("{path}: attribute \"{name}\" is required")),
                };
                out.insert(
                    name.clone(),
                    convert_at(&item, ft, &format!("{path}.{name}"))?,
                );
            }
            Value::Map(out)
        }
        TypeConstraint::Optional(..) => inner.clone(),
        TypeConstraint::Tuple(types) => {
            let items = inner.as_list().ok_or_else(|| at("a tuple"))?;
            if items.len() != types.len() {
                return Err(format!(
                    "{path}: a tuple of {} elements is required, got {}",
                    types.len(),
                    items.len()
                ));
            }
            Value::List(
                items
                    .iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (item, et))| convert_at(item, et, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
    };
    Ok(out.mark_if(sensitive))
}

/// Runs a variable's `validation` blocks against its value.
fn validate(decl: &VariableDecl, value: &Value, mut scope: Scope, diags: &mut Diagnostics) {
    scope.set_attr("var", &decl.name, value.clone());
    for v in &decl.validations {
        match eval(&v.condition, &scope) {
            // Unknown until apply: nothing to say yet.
            Ok(c) if c.is_unknown() => {}
            Ok(c) if crate::eval::to_bool(&c) == Some(true) => {}
            Ok(c) if crate::eval::to_bool(&c) == Some(false) => {
                let message = eval(&v.error_message, &scope)
                    .ok()
                    .filter(|m| !m.contains_sensitive())
                    .and_then(|m| m.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "The value is not valid.".to_owned());
                diags.push(Diagnostic::error(
                    format!("Invalid value for variable \"{}\"", decl.name),
                    message,
                    Some(v.condition.span),
                ));
            }
            Ok(c) => diags.push(Diagnostic::error(
                "Invalid validation condition",
                format!("The condition must be a bool, got {}.", c.type_name()),
                Some(v.condition.span),
            )),
            Err(e) => diags.push(e.into()),
        }
    }
}
