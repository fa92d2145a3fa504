//! Every expression a module declares, and every expression inside one: for
//! checks of the configuration as written, before anything is evaluated
//! (a sandboxed pipeline run refuses `file("/etc/passwd")` before it opens
//! any state).

use super::ast::{Expr, ExprKind, ObjectKey, Step, TemplatePart};
use super::model::{BodyDecl, Condition, Module};

impl Expr {
    /// Calls `f` on this expression and on every expression inside it.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Variable(_) => {}
            ExprKind::Template(parts) => walk_template(parts, f),
            ExprKind::Array(items) => items.iter().for_each(|e| e.walk(f)),
            ExprKind::Object(items) => {
                for (k, v) in items {
                    if let ObjectKey::Expr(k) = k {
                        k.walk(f);
                    }
                    v.walk(f);
                }
            }
            ExprKind::Traversal(base, steps) => {
                base.walk(f);
                for s in steps {
                    if let Step::Index(e) = s {
                        e.walk(f);
                    }
                }
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.walk(f)),
            ExprKind::Unary(_, x) => x.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::Conditional(c, t, e) => {
                c.walk(f);
                t.walk(f);
                e.walk(f);
            }
            ExprKind::For(x) => {
                let parts = [Some(&x.collection), x.key_expr.as_ref()];
                let rest = [Some(&x.value_expr), x.cond.as_ref()];
                parts
                    .into_iter()
                    .chain(rest)
                    .flatten()
                    .for_each(|e| e.walk(f));
            }
        }
    }
}

fn walk_template(parts: &[TemplatePart], f: &mut dyn FnMut(&Expr)) {
    for p in parts {
        match p {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interp(e) => e.walk(f),
            TemplatePart::If {
                cond,
                then,
                otherwise,
            } => {
                cond.walk(f);
                walk_template(then, f);
                walk_template(otherwise, f);
            }
            TemplatePart::For {
                collection, body, ..
            } => {
                collection.walk(f);
                walk_template(body, f);
            }
        }
    }
}

impl BodyDecl {
    /// The body's attribute values and nested blocks' expressions (with a
    /// `dynamic` block's `for_each`).
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.attributes.values().map(|a| &a.expr).collect();
        for b in &self.blocks {
            out.extend(b.dynamic.as_ref().map(|d| &d.for_each));
            out.extend(b.body.expressions());
        }
        out
    }
}

fn conditions(list: &[Condition]) -> impl Iterator<Item = &Expr> {
    list.iter().flat_map(|c| [&c.condition, &c.error_message])
}

impl Module {
    /// Every top-level expression this module declares (not its children's):
    /// variables' defaults and validations, locals, resources and data
    /// sources, outputs, providers, module calls, imports and the backend.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        for v in self.variables.values() {
            out.extend(v.default.as_ref());
            out.extend(conditions(&v.validations));
        }
        out.extend(self.locals.values().map(|l| &l.expr));
        for r in self.resources.values() {
            out.extend(r.count.as_ref());
            out.extend(r.for_each.as_ref());
            out.extend(r.body.expressions());
            let l = &r.lifecycle;
            out.extend(&l.replace_triggered_by);
            out.extend(conditions(&l.preconditions));
            out.extend(conditions(&l.postconditions));
        }
        out.extend(self.outputs.values().map(|o| &o.value));
        for p in self.providers.values() {
            out.extend(p.body.expressions());
        }
        for c in self.calls.values() {
            out.extend(c.count.as_ref());
            out.extend(c.for_each.as_ref());
            out.extend(c.inputs.values().map(|a| &a.expr));
        }
        out.extend(self.imports.iter().map(|i| &i.id));
        if let Some(b) = &self.backend {
            out.extend(b.body.expressions());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SourceMap;
    use crate::config::ast::ExprKind;
    use crate::config::load::load_module;

    #[test]
    fn every_call_is_found_wherever_it_is() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.hcl"),
            r#"
variable "v" {
  default = upper(file("a"))
}
locals {
  l = [for x in ["b"] : "${file(x)}-${file("c")}"]
}
resource "null_resource" "r" {
  count = length(file("d"))
  triggers = { k = file("e") }
  lifecycle {
    precondition {
      condition     = fileexists("f")
      error_message = "no f"
    }
  }
}
output "o" {
  value = true ? file("g") : null
}
"#,
        )
        .unwrap();
        let mut sources = SourceMap::default();
        let module = load_module(dir.path(), &mut sources).unwrap();
        let mut found = Vec::new();
        for e in module.expressions() {
            e.walk(&mut |e| {
                if let ExprKind::Call { name, args, .. } = &e.kind {
                    let arg = args.first().and_then(|a| a.as_literal());
                    let arg = arg.and_then(|v| v.as_str()).unwrap_or("?");
                    found.push(format!("{name}({arg})"));
                }
            });
        }
        found.sort();
        let want = [
            "file(?)",
            "file(a)",
            "file(c)",
            "file(d)",
            "file(e)",
            "file(g)",
            "fileexists(f)",
            "length(?)",
            "upper(?)",
        ];
        assert_eq!(found, want);
    }
}
