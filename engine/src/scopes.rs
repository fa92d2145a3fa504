//! What names mean inside one module instance: the scope an expression is
//! evaluated in, built from only the references it makes.
//!
//! During plan, blocks are evaluated in dependency order and their values
//! stored in [`Values`]; a scope reads them from there. During apply
//! (`fresh`), what was unknown at plan time may be known now, so locals,
//! module inputs and module outputs are evaluated again from current values.

use dumcel_planner::{InstanceKey, Map, Value};

use crate::config::ast::{Expr, Reference};
use crate::config::{Diagnostic, Diagnostics, ModuleCallDecl, ResourceDecl};
use crate::eval::{Scope, eval};
use crate::stack::{ModuleInstance, Stack, Values};

fn diag(e: crate::eval::EvalError) -> Diagnostics {
    Diagnostics::from(Diagnostic::from(e))
}

impl Stack {
    /// The scope for references made in module instance `mi`, with the
    /// resource instance's `count.index` / `each` when given.
    pub fn scope_for(
        &self,
        refs: &[Reference],
        values: &Values,
        mi: &ModuleInstance,
        instance: Option<(&InstanceKey, &Value)>,
        fresh: bool,
    ) -> Result<Scope, Diagnostics> {
        let sp = mi.static_prefix();
        let node = self.modules.get(&sp);
        let dir = node
            .map(|n| n.module.dir.clone())
            .unwrap_or_else(|| self.module.dir.clone());
        let mut scope = Scope::new(&dir).confined_to(self.confine_files.as_deref());
        // `fresh` evaluations are the apply's: `timestamp()` is known there.
        scope.clock = scope.clock.applying(fresh);
        let Some(node) = node else { return Ok(scope) };
        let module = &node.module;
        for r in refs {
            let name = r.name.as_deref().unwrap_or("");
            match r.root.as_str() {
                "var" => scope.set_attr("var", name, self.var_value(mi, name, values, fresh)?),
                "local" => {
                    scope.set_attr("local", name, self.local_value(mi, name, values, fresh)?)
                }
                "count" => {
                    if let Some((InstanceKey::Int(i), _)) = instance {
                        scope.set_attr("count", "index", Value::Number(*i as f64));
                    }
                }
                "each" => {
                    if let Some((InstanceKey::Str(k), v)) = instance {
                        scope.set_attr("each", "key", Value::string(k.clone()));
                        scope.set_attr("each", "value", v.clone());
                    }
                }
                "path" => {
                    let cwd = std::env::current_dir()
                        .unwrap_or_default()
                        .display()
                        .to_string();
                    scope.set_attr(
                        "path",
                        "module",
                        Value::string(module.dir.display().to_string()),
                    );
                    scope.set_attr(
                        "path",
                        "root",
                        Value::string(self.module.dir.display().to_string()),
                    );
                    scope.set_attr("path", "cwd", Value::string(cwd));
                }
                "terraform" | "dumcel" => {
                    scope.set_attr(&r.root, "workspace", Value::string(self.workspace.clone()))
                }
                "data" => {
                    let data_name = r.data_name.as_deref().unwrap_or("");
                    if let Some(decl) = module.resources.get(&format!("data.{name}.{data_name}")) {
                        scope.set_attr2(
                            "data",
                            name,
                            data_name,
                            self.resource_value(decl, mi, values),
                        );
                    }
                }
                "module" => {
                    if let Some(call) = module.calls.get(name) {
                        scope.set_attr("module", name, self.module_value(call, mi, values, fresh)?);
                    }
                }
                rtype => {
                    if let Some(decl) = module.resources.get(&format!("{rtype}.{name}")) {
                        scope.set_attr(rtype, name, self.resource_value(decl, mi, values));
                    }
                }
            }
        }
        Ok(scope)
    }

    /// Evaluates `expr` of the block with static key `key` in module instance `mi`.
    pub fn eval_in(
        &self,
        key: &str,
        expr: &Expr,
        values: &Values,
        mi: &ModuleInstance,
        instance: Option<(&InstanceKey, &Value)>,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        let scope = self.scope_for(self.refs(key), values, mi, instance, fresh)?;
        eval(expr, &scope).map_err(diag)
    }

    /// A variable of module instance `mi`: the root's resolved values, or the
    /// caller's argument evaluated where the call is.
    pub fn var_value(
        &self,
        mi: &ModuleInstance,
        name: &str,
        values: &Values,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        if mi.steps.is_empty() {
            return Ok(self.variables.get(name).cloned().unwrap_or(Value::Unknown));
        }
        let key = format!("{}var.{name}", mi.prefix());
        if !fresh {
            return Ok(values.named.get(&key).cloned().unwrap_or(Value::Unknown));
        }
        self.compute_var(mi, name, values, true)
    }

    /// Evaluates a child module's variable from its call.
    pub fn compute_var(
        &self,
        mi: &ModuleInstance,
        name: &str,
        values: &Values,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        let sp = mi.static_prefix();
        let Some(node) = self.modules.get(&sp) else {
            return Ok(Value::Unknown);
        };
        let Some(decl) = node.module.variables.get(name) else {
            return Ok(Value::Unknown);
        };
        let value = match node.call.as_ref().and_then(|c| c.inputs.get(name)) {
            Some(input) => {
                let key = format!("{sp}var.{name}");
                // The instances as planned carry their calls' each values.
                let each = values.module_instance(&mi.steps).each;
                let parent = values.module_instance(&mi.parent().steps);
                let scope = self.scope_for(
                    self.refs(&key),
                    values,
                    &parent,
                    Some((&mi.key(), &each)),
                    fresh,
                )?;
                eval(&input.expr, &scope).map_err(diag)?
            }
            None => match &decl.default {
                Some(expr) => {
                    let scope =
                        Scope::new(&node.module.dir).confined_to(self.confine_files.as_deref());
                    eval(expr, &scope).map_err(diag)?
                }
                None => Value::Null,
            },
        };
        let converted =
            crate::variables::convert(&value, &decl.type_constraint).map_err(|msg| {
                Diagnostics::from(Diagnostic::error(
                    format!(
                        "Invalid value for variable \"{name}\" of module {}",
                        mi.prefix().trim_end_matches('.')
                    ),
                    if decl.sensitive {
                        "The value does not match the variable's type.".to_owned()
                    } else {
                        msg
                    },
                    node.call
                        .as_ref()
                        .and_then(|c| c.inputs.get(name))
                        .map(|i| i.span)
                        .or(Some(decl.span)),
                ))
            })?;
        Ok(converted.mark_if(decl.sensitive))
    }

    pub fn local_value(
        &self,
        mi: &ModuleInstance,
        name: &str,
        values: &Values,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        self.named_value(mi, "local", name, values, fresh, |m| {
            m.locals.get(name).map(|l| &l.expr)
        })
    }

    pub fn output_value(
        &self,
        mi: &ModuleInstance,
        name: &str,
        values: &Values,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        self.named_value(mi, "output", name, values, fresh, |m| {
            m.outputs.get(name).map(|o| &o.value)
        })
    }

    /// A local or output (`kind`) of a module instance: from `values` as the
    /// plan recorded it, or evaluated again (`fresh`, at apply time).
    fn named_value(
        &self,
        mi: &ModuleInstance,
        kind: &str,
        name: &str,
        values: &Values,
        fresh: bool,
        expr_of: impl for<'m> Fn(&'m crate::config::Module) -> Option<&'m Expr>,
    ) -> Result<Value, Diagnostics> {
        if !fresh {
            return Ok(values
                .named
                .get(&format!("{}{kind}.{name}", mi.prefix()))
                .cloned()
                .unwrap_or(Value::Unknown));
        }
        let sp = mi.static_prefix();
        let Some(expr) = self.modules.get(&sp).and_then(|n| expr_of(&n.module)) else {
            return Ok(Value::Unknown);
        };
        self.eval_in(&format!("{sp}{kind}.{name}"), expr, values, mi, None, true)
    }

    /// What `module.NAME` means in `parent`: an object of the child's outputs,
    /// a list of them (count) or a map (for_each).
    pub fn module_value(
        &self,
        call: &ModuleCallDecl,
        parent: &ModuleInstance,
        values: &Values,
        fresh: bool,
    ) -> Result<Value, Diagnostics> {
        let child_prefix = format!("{}module.{}.", parent.static_prefix(), call.name);
        let mut objects: Vec<(InstanceKey, Value)> = Vec::new();
        for mi in values.module_instances(&child_prefix) {
            if mi.parent().steps != parent.steps {
                continue;
            }
            let mut obj = Map::new();
            for name in call.child.outputs.keys() {
                obj.insert(name.clone(), self.output_value(&mi, name, values, fresh)?);
            }
            objects.push((mi.key(), Value::Map(obj)));
        }
        Ok(if call.count.is_some() {
            Value::List(objects.into_iter().map(|(_, v)| v).collect())
        } else if call.for_each.is_some() {
            Value::Map(
                objects
                    .into_iter()
                    .filter_map(|(k, v)| match k {
                        InstanceKey::Str(s) => Some((s, v)),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            objects
                .into_iter()
                .next()
                .map(|(_, v)| v)
                .unwrap_or(Value::Unknown)
        })
    }

    /// What a reference to a resource sees: an object, a list (count) or a map (for_each).
    pub fn resource_value(
        &self,
        decl: &ResourceDecl,
        mi: &ModuleInstance,
        values: &Values,
    ) -> Value {
        let instances = values
            .instances
            .get(&format!("{}{}", mi.prefix(), decl.key()));
        if decl.count.is_some() {
            Value::List(
                instances
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default(),
            )
        } else if decl.for_each.is_some() {
            Value::Map(
                instances
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| match k {
                                InstanceKey::Str(s) => Some((s.clone(), v.clone())),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        } else {
            instances
                .and_then(|m| m.get(&InstanceKey::None).cloned())
                .unwrap_or(Value::Unknown)
        }
    }
}
