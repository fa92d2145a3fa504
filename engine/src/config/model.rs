//! The configuration of one stack directory, as declared: nothing evaluated yet.

use std::path::PathBuf;

use indexmap::IndexMap;

use dumcel_planner::ResourceAddr;

use super::ast::{Expr, Reference};
use super::source::Span;

#[derive(Debug, Clone, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: IndexMap<String, VariableDecl>,
    pub locals: IndexMap<String, LocalDecl>,
    /// Keyed by `TYPE.NAME` (managed) or `data.TYPE.NAME`.
    pub resources: IndexMap<String, ResourceDecl>,
    pub outputs: IndexMap<String, OutputDecl>,
    pub providers: IndexMap<String, ProviderDecl>,
    pub backend: Option<BackendDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    Set(Box<TypeConstraint>),
    Map(Box<TypeConstraint>),
    Object(IndexMap<String, TypeConstraint>),
    Tuple(Vec<TypeConstraint>),
}

#[derive(Debug, Clone)]
pub struct VariableDecl {
    pub name: String,
    pub type_constraint: TypeConstraint,
    /// Evaluated when variables are resolved; must not reference anything.
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct LocalDecl {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    /// Attribute names; `["*"]` for `all`.
    pub ignore_changes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub addr: ResourceAddr,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Reference>,
    pub provider: Option<String>,
    pub lifecycle: Lifecycle,
    pub body: BodyDecl,
    /// The block header (`resource "TYPE" "NAME"`).
    pub span: Span,
}

impl ResourceDecl {
    /// `TYPE.NAME` or `data.TYPE.NAME`: the key in [`Module::resources`].
    pub fn key(&self) -> String {
        self.addr.to_string()
    }

    /// Every expression the resource evaluates, for dependency discovery.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.count.iter().chain(self.for_each.iter()).collect();
        self.body.collect_exprs(&mut out);
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct BodyDecl {
    pub attributes: IndexMap<String, AttrDecl>,
    pub blocks: Vec<BlockDecl>,
}

impl BodyDecl {
    pub fn collect_exprs<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        out.extend(self.attributes.values().map(|a| &a.expr));
        for b in &self.blocks {
            b.body.collect_exprs(out);
        }
    }
}

#[derive(Debug, Clone)]
pub struct AttrDecl {
    pub name: String,
    pub expr: Expr,
    /// The whole `name = value` line.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct BlockDecl {
    pub name: String,
    pub labels: Vec<String>,
    pub body: BodyDecl,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct OutputDecl {
    pub name: String,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Reference>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ProviderDecl {
    pub name: String,
    pub body: BodyDecl,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct BackendDecl {
    /// `local` (or `s3` once that backend exists).
    pub kind: String,
    pub body: BodyDecl,
    pub span: Span,
}
