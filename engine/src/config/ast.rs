//! Dumcel's own expression tree: hcl-edit's, lowered once at load time into a
//! compact form that carries a [`Span`] on every node and is cheap to evaluate
//! many times (once per resource instance, again at apply).

use dumcel_planner::Value;

use super::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Value),
    Template(Vec<TemplatePart>),
    Array(Vec<Expr>),
    Object(Vec<(ObjectKey, Expr)>),
    Variable(String),
    Traversal(Box<Expr>, Vec<Step>),
    Call {
        name: String,
        args: Vec<Expr>,
        /// `f(list...)`: the last argument is expanded.
        expand_final: bool,
    },
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    For(Box<ForExpr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ObjectKey {
    /// A bare identifier key: `{ name = ... }`.
    Name(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Attr(String, Span),
    Index(Expr),
    /// `.*` — applies the following attribute steps to each element.
    AttrSplat,
    /// `[*]` — applies all following steps to each element.
    FullSplat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForExpr {
    pub key_var: Option<String>,
    pub value_var: String,
    pub collection: Expr,
    /// `Some` for an object-producing `{ for ... : k => v }`.
    pub key_expr: Option<Expr>,
    pub value_expr: Expr,
    pub cond: Option<Expr>,
    /// `v...`: group values with the same key into lists.
    pub grouping: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Literal(String),
    Interp(Expr),
    If {
        cond: Expr,
        then: Vec<TemplatePart>,
        otherwise: Vec<TemplatePart>,
    },
    For {
        key_var: Option<String>,
        value_var: String,
        collection: Expr,
        body: Vec<TemplatePart>,
    },
}

/// A reference an expression makes to something outside it, e.g. `var.region`,
/// `null_resource.a`, `count.index`. Names bound by `for` are not references.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `var`, `local`, `count`, `each`, `path`, `terraform`, `data`, `module`, or a resource type.
    pub root: String,
    /// The attribute after the root (`region` in `var.region`), if any.
    pub name: Option<String>,
    /// The second attribute: NAME in `data.TYPE.NAME`, OUTPUT in `module.CALL.OUTPUT`.
    pub data_name: Option<String>,
    pub span: Span,
}

impl Expr {
    /// Every outside reference, in source order (duplicates kept).
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        self.visit_traversals(&mut |root, steps, span| {
            let attr = |i: usize| match steps.get(i) {
                Some(Step::Attr(a, _)) => Some(a.clone()),
                _ => None,
            };
            out.push(Reference {
                root: root.to_owned(),
                name: attr(0),
                data_name: if root == "data" || root == "module" {
                    attr(1)
                } else {
                    None
                },
                span,
            });
        });
        out
    }

    /// Calls `f` for every use of a name a `for` expression does not bind,
    /// in source order: the name, the steps after it (none for a bare
    /// name), and the span of the whole use.
    pub fn visit_traversals(&self, f: &mut dyn FnMut(&str, &[Step], Span)) {
        visit(self, &mut Vec::new(), f);
    }

    /// A literal value, if the expression is one (no references, no calls).
    pub fn as_literal(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Literal(v) => Some(v),
            _ => None,
        }
    }
}

fn visit(e: &Expr, bound: &mut Vec<String>, f: &mut dyn FnMut(&str, &[Step], Span)) {
    match &e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Template(parts) => visit_template(parts, bound, f),
        ExprKind::Array(items) => items.iter().for_each(|i| visit(i, bound, f)),
        ExprKind::Object(items) => {
            for (k, v) in items {
                if let ObjectKey::Expr(k) = k {
                    visit(k, bound, f);
                }
                visit(v, bound, f);
            }
        }
        ExprKind::Variable(name) => {
            if !bound.contains(name) {
                f(name, &[], e.span);
            }
        }
        ExprKind::Traversal(base, steps) => {
            match &base.kind {
                ExprKind::Variable(root) if !bound.contains(root) => f(root, steps, e.span),
                ExprKind::Variable(_) => {}
                _ => visit(base, bound, f),
            }
            for s in steps {
                if let Step::Index(i) = s {
                    visit(i, bound, f);
                }
            }
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| visit(a, bound, f)),
        ExprKind::Unary(_, x) => visit(x, bound, f),
        ExprKind::Binary(_, a, b) => {
            visit(a, bound, f);
            visit(b, bound, f);
        }
        ExprKind::Conditional(c, t, other) => {
            visit(c, bound, f);
            visit(t, bound, f);
            visit(other, bound, f);
        }
        ExprKind::For(fe) => {
            visit(&fe.collection, bound, f);
            let n = bound.len();
            bound.extend(fe.key_var.iter().cloned());
            bound.push(fe.value_var.clone());
            if let Some(k) = &fe.key_expr {
                visit(k, bound, f);
            }
            visit(&fe.value_expr, bound, f);
            if let Some(c) = &fe.cond {
                visit(c, bound, f);
            }
            bound.truncate(n);
        }
    }
}

fn visit_template(
    parts: &[TemplatePart],
    bound: &mut Vec<String>,
    f: &mut dyn FnMut(&str, &[Step], Span),
) {
    for p in parts {
        match p {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interp(e) => visit(e, bound, f),
            TemplatePart::If {
                cond,
                then,
                otherwise,
            } => {
                visit(cond, bound, f);
                visit_template(then, bound, f);
                visit_template(otherwise, bound, f);
            }
            TemplatePart::For {
                key_var,
                value_var,
                collection,
                body,
            } => {
                visit(collection, bound, f);
                let n = bound.len();
                bound.extend(key_var.iter().cloned());
                bound.push(value_var.clone());
                visit_template(body, bound, f);
                bound.truncate(n);
            }
        }
    }
}
