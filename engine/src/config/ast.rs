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
        let mut bound = Vec::new();
        collect(self, &mut bound, &mut out);
        out
    }

    /// A literal value, if the expression is one (no references, no calls).
    pub fn as_literal(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Literal(v) => Some(v),
            _ => None,
        }
    }
}

fn collect(e: &Expr, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    match &e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Template(parts) => collect_template(parts, bound, out),
        ExprKind::Array(items) => items.iter().for_each(|i| collect(i, bound, out)),
        ExprKind::Object(items) => {
            for (k, v) in items {
                if let ObjectKey::Expr(k) = k {
                    collect(k, bound, out);
                }
                collect(v, bound, out);
            }
        }
        ExprKind::Variable(name) => {
            if !bound.contains(name) {
                out.push(Reference {
                    root: name.clone(),
                    name: None,
                    data_name: None,
                    span: e.span,
                });
            }
        }
        ExprKind::Traversal(base, steps) => {
            if let ExprKind::Variable(root) = &base.kind {
                if !bound.contains(root) {
                    let attr = |i: usize| match steps.get(i) {
                        Some(Step::Attr(a, _)) => Some(a.clone()),
                        _ => None,
                    };
                    let name = attr(0);
                    let data_name = if root == "data" || root == "module" {
                        attr(1)
                    } else {
                        None
                    };
                    out.push(Reference {
                        root: root.clone(),
                        name,
                        data_name,
                        span: e.span,
                    });
                }
            } else {
                collect(base, bound, out);
            }
            for s in steps {
                if let Step::Index(i) = s {
                    collect(i, bound, out);
                }
            }
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| collect(a, bound, out)),
        ExprKind::Unary(_, x) => collect(x, bound, out),
        ExprKind::Binary(_, a, b) => {
            collect(a, bound, out);
            collect(b, bound, out);
        }
        ExprKind::Conditional(c, t, f) => {
            collect(c, bound, out);
            collect(t, bound, out);
            collect(f, bound, out);
        }
        ExprKind::For(f) => {
            collect(&f.collection, bound, out);
            let n = bound.len();
            bound.extend(f.key_var.iter().cloned());
            bound.push(f.value_var.clone());
            if let Some(k) = &f.key_expr {
                collect(k, bound, out);
            }
            collect(&f.value_expr, bound, out);
            if let Some(c) = &f.cond {
                collect(c, bound, out);
            }
            bound.truncate(n);
        }
    }
}

fn collect_template(parts: &[TemplatePart], bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for p in parts {
        match p {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interp(e) => collect(e, bound, out),
            TemplatePart::If {
                cond,
                then,
                otherwise,
            } => {
                collect(cond, bound, out);
                collect_template(then, bound, out);
                collect_template(otherwise, bound, out);
            }
            TemplatePart::For {
                key_var,
                value_var,
                collection,
                body,
            } => {
                collect(collection, bound, out);
                let n = bound.len();
                bound.extend(key_var.iter().cloned());
                bound.push(value_var.clone());
                collect_template(body, bound, out);
                bound.truncate(n);
            }
        }
    }
}
