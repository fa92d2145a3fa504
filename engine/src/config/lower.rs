//! Lowering hcl-edit's syntax tree into [`ast::Expr`](super::ast::Expr).

use hcl_edit::Span as _;
use hcl_edit::expr::{
    BinaryOperator, Expression, ObjectKey as HclKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Directive, Element, Template};

use dumcel_planner::Value;

use super::ast::{BinaryOp, Expr, ExprKind, ForExpr, ObjectKey, Step, TemplatePart, UnaryOp};
use super::source::Span;

/// Lowers expressions of one file.
pub struct Lowerer {
    pub file: u32,
    /// Where the parsed text starts in the file: spans are relative to it
    /// (a large file is parsed in parts, see `parse_in_parts`).
    pub offset: usize,
}

impl Lowerer {
    pub fn new(file: u32) -> Lowerer {
        Lowerer { file, offset: 0 }
    }

    pub fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        let range = range.map_or(0..0, |r| r.start + self.offset..r.end + self.offset);
        Span::new(self.file, range)
    }

    pub fn expr(&self, e: &Expression) -> Expr {
        let span = self.span(e.span());
        let kind = match e {
            Expression::Null(_) => ExprKind::Literal(Value::Null),
            Expression::Bool(b) => ExprKind::Literal(Value::Bool(*b.value())),
            Expression::Number(n) => {
                ExprKind::Literal(Value::Number(n.value().as_f64().unwrap_or(f64::NAN)))
            }
            Expression::String(s) => ExprKind::Literal(Value::String(s.value().clone())),
            Expression::Array(items) => {
                ExprKind::Array(items.iter().map(|i| self.expr(i)).collect())
            }
            Expression::Object(obj) => ExprKind::Object(
                obj.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            HclKey::Ident(id) => ObjectKey::Name(id.value().to_string()),
                            HclKey::Expression(e) => match self.expr(e) {
                                // `{ (var.x) = 1 }` and `{ "x" = 1 }`: both are expressions;
                                // a bare name stays a name.
                                Expr {
                                    kind: ExprKind::Variable(name),
                                    ..
                                } => ObjectKey::Name(name),
                                other => ObjectKey::Expr(other),
                            },
                        };
                        (key, self.expr(v.expr()))
                    })
                    .collect(),
            ),
            Expression::StringTemplate(t) => self.template_expr(t),
            Expression::HeredocTemplate(h) => self.template_expr(&h.template),
            Expression::Parenthesis(p) => return self.expr(p.inner()),
            Expression::Variable(v) => ExprKind::Variable(v.value().to_string()),
            Expression::Conditional(c) => ExprKind::Conditional(
                Box::new(self.expr(&c.cond_expr)),
                Box::new(self.expr(&c.true_expr)),
                Box::new(self.expr(&c.false_expr)),
            ),
            Expression::FuncCall(f) => {
                let name = f
                    .name
                    .namespace
                    .iter()
                    .map(|n| n.value().to_string())
                    .chain(std::iter::once(f.name.name.value().to_string()))
                    .collect::<Vec<_>>()
                    .join("::");
                ExprKind::Call {
                    name,
                    args: f.args.iter().map(|a| self.expr(a)).collect(),
                    expand_final: f.args.expand_final(),
                }
            }
            Expression::Traversal(t) => {
                let base = self.expr(&t.expr);
                let steps = t
                    .operators
                    .iter()
                    .map(|op| match op.value() {
                        TraversalOperator::AttrSplat(_) => Step::AttrSplat,
                        TraversalOperator::FullSplat(_) => Step::FullSplat,
                        TraversalOperator::GetAttr(id) => {
                            Step::Attr(id.value().to_string(), self.span(op.span()))
                        }
                        TraversalOperator::Index(e) => Step::Index(self.expr(e)),
                        TraversalOperator::LegacyIndex(i) => Step::Index(Expr {
                            kind: ExprKind::Literal(Value::Number(*i.value() as f64)),
                            span: self.span(op.span()),
                        }),
                    })
                    .collect();
                ExprKind::Traversal(Box::new(base), steps)
            }
            Expression::UnaryOp(u) => {
                let op = match u.operator.value() {
                    UnaryOperator::Neg => UnaryOp::Neg,
                    UnaryOperator::Not => UnaryOp::Not,
                };
                let inner = self.expr(&u.expr);
                // Fold `-1` into a literal so negative numbers stay literals.
                if let (UnaryOp::Neg, ExprKind::Literal(Value::Number(n))) = (op, &inner.kind) {
                    ExprKind::Literal(Value::Number(-n))
                } else {
                    ExprKind::Unary(op, Box::new(inner))
                }
            }
            Expression::BinaryOp(b) => {
                let op = match b.operator.value() {
                    BinaryOperator::Eq => BinaryOp::Eq,
                    BinaryOperator::NotEq => BinaryOp::NotEq,
                    BinaryOperator::LessEq => BinaryOp::LessEq,
                    BinaryOperator::GreaterEq => BinaryOp::GreaterEq,
                    BinaryOperator::Less => BinaryOp::Less,
                    BinaryOperator::Greater => BinaryOp::Greater,
                    BinaryOperator::Plus => BinaryOp::Add,
                    BinaryOperator::Minus => BinaryOp::Sub,
                    BinaryOperator::Mul => BinaryOp::Mul,
                    BinaryOperator::Div => BinaryOp::Div,
                    BinaryOperator::Mod => BinaryOp::Mod,
                    BinaryOperator::And => BinaryOp::And,
                    BinaryOperator::Or => BinaryOp::Or,
                };
                ExprKind::Binary(
                    op,
                    Box::new(self.expr(&b.lhs_expr)),
                    Box::new(self.expr(&b.rhs_expr)),
                )
            }
            Expression::ForExpr(f) => ExprKind::For(Box::new(ForExpr {
                key_var: f.intro.key_var.as_ref().map(|k| k.value().to_string()),
                value_var: f.intro.value_var.value().to_string(),
                collection: self.expr(&f.intro.collection_expr),
                key_expr: f.key_expr.as_ref().map(|k| self.expr(k)),
                value_expr: self.expr(&f.value_expr),
                cond: f.cond.as_ref().map(|c| self.expr(&c.expr)),
                grouping: f.grouping,
            })),
        };
        Expr { kind, span }
    }

    fn template_expr(&self, t: &Template) -> ExprKind {
        let parts = self.template(t, false, false);
        // A template without interpolations is just a string.
        match parts.as_slice() {
            [] => ExprKind::Literal(Value::String(String::new())),
            [TemplatePart::Literal(s)] => ExprKind::Literal(Value::String(s.clone())),
            _ => ExprKind::Template(parts),
        }
    }

    /// The parts of a template. Strip markers (`~`) trim white space next to
    /// the marked element; `strip_first` / `strip_last` say whether the
    /// directive around a directive's body trims the body's edges
    /// (`%{ for x in xs ~}` and `%{~ endfor }`).
    fn template(&self, t: &Template, strip_first: bool, strip_last: bool) -> Vec<TemplatePart> {
        let elements: Vec<&Element> = t.iter().collect();
        let mut parts = Vec::with_capacity(elements.len());
        let mut strip_next = strip_first;
        for (i, el) in elements.iter().enumerate() {
            match el {
                Element::Literal(lit) => {
                    let mut s: &str = lit.value();
                    if strip_next {
                        s = s.trim_start();
                    }
                    let strip_before_next = match elements.get(i + 1) {
                        Some(Element::Interpolation(int)) => int.strip.strip_start(),
                        Some(Element::Directive(d)) => directive_strips_start(d),
                        Some(Element::Literal(_)) => false,
                        None => strip_last,
                    };
                    if strip_before_next {
                        s = s.trim_end();
                    }
                    strip_next = false;
                    parts.push(TemplatePart::Literal(s.to_owned()));
                }
                Element::Interpolation(int) => {
                    strip_next = int.strip.strip_end();
                    parts.push(TemplatePart::Interp(self.expr(&int.expr)));
                }
                Element::Directive(d) => {
                    strip_next = directive_strips_end(d);
                    parts.push(match d.as_ref() {
                        Directive::If(dir) => {
                            let end = dir.endif_expr.strip.strip_start();
                            TemplatePart::If {
                                cond: self.expr(&dir.if_expr.cond_expr),
                                then: self.template(
                                    &dir.if_expr.template,
                                    dir.if_expr.strip.strip_end(),
                                    dir.else_expr
                                        .as_ref()
                                        .map_or(end, |e| e.strip.strip_start()),
                                ),
                                otherwise: dir
                                    .else_expr
                                    .as_ref()
                                    .map(|e| self.template(&e.template, e.strip.strip_end(), end))
                                    .unwrap_or_default(),
                            }
                        }
                        Directive::For(dir) => TemplatePart::For {
                            key_var: dir.for_expr.key_var.as_ref().map(|k| k.value().to_string()),
                            value_var: dir.for_expr.value_var.value().to_string(),
                            collection: self.expr(&dir.for_expr.collection_expr),
                            body: self.template(
                                &dir.for_expr.template,
                                dir.for_expr.strip.strip_end(),
                                dir.endfor_expr.strip.strip_start(),
                            ),
                        },
                    });
                }
            }
        }
        parts
    }
}

fn directive_strips_start(d: &Directive) -> bool {
    match d {
        Directive::If(dir) => dir.if_expr.strip.strip_start(),
        Directive::For(dir) => dir.for_expr.strip.strip_start(),
    }
}

fn directive_strips_end(d: &Directive) -> bool {
    match d {
        Directive::If(dir) => dir.endif_expr.strip.strip_end(),
        Directive::For(dir) => dir.endfor_expr.strip.strip_end(),
    }
}
