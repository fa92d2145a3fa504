//! The configuration of one stack directory, as declared: nothing evaluated yet.

use std::path::PathBuf;

use indexmap::IndexMap;

use dumcel_planner::ResourceAddr;

use super::ast::{Expr, Reference};
use super::source::Span;
pub use crate::provider::ProviderRef;

#[derive(Debug, Clone, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: IndexMap<String, VariableDecl>,
    pub locals: IndexMap<String, LocalDecl>,
    /// Keyed by `TYPE.NAME` (managed) or `data.TYPE.NAME`. Boxed: a
    /// declaration is hundreds of bytes, and the map's entries are moved each
    /// time it grows; at 100,000 resources that copied tens of megabytes
    /// through fresh pages (bench/README.md, "Eighth pass").
    pub resources: IndexMap<String, Box<ResourceDecl>>,
    pub outputs: IndexMap<String, OutputDecl>,
    /// Keyed `NAME` for a default configuration, `NAME.ALIAS` for an alias.
    pub providers: IndexMap<String, ProviderDecl>,
    pub backend: Option<BackendDecl>,
    pub imports: Vec<ImportDecl>,
    pub moves: Vec<MovedDecl>,
    pub removed: Vec<RemovedDecl>,
    /// `module "NAME" { source = "./dir", ... }` calls, with their loaded modules.
    pub calls: IndexMap<String, ModuleCallDecl>,
    /// `terraform { required_providers { ... } }`, checked against the
    /// registry when the stack is built.
    pub required_providers: Vec<super::requirements::RequiredProvider>,
    /// `terraform { required_version = "..." }`, checked with them.
    pub required_version: Option<(String, Span)>,
    /// `check "NAME" { assert { ... } }` blocks, by name.
    pub checks: IndexMap<String, CheckDecl>,
}

/// `check "NAME" { assert { condition, error_message } ... }`: assertions
/// about the infrastructure, reported as warnings after plan and apply and
/// never stopping either (Terraform's continuous validation).
#[derive(Debug, Clone)]
pub struct CheckDecl {
    pub name: String,
    pub asserts: Vec<Condition>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ModuleCallDecl {
    pub name: String,
    pub source: String,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Reference>,
    /// Values for the child's variables, evaluated in the caller's scope.
    pub inputs: IndexMap<String, AttrDecl>,
    /// `providers = { aws = aws.use1 }`: which of the caller's provider
    /// configurations the child's references use.
    pub providers: Vec<ProviderPass>,
    pub span: Span,
    pub child: std::sync::Arc<Module>,
}

/// One entry of a module call's `providers` map: the child's name for a
/// provider configuration (`aws`, `aws.dst`) and the caller's configuration
/// it stands for (`aws.use1`).
#[derive(Debug, Clone)]
pub struct ProviderPass {
    pub child: ProviderRef,
    pub parent: ProviderRef,
    pub span: Span,
}

/// `provider = aws.use1` on a resource or data block.
#[derive(Debug, Clone)]
pub struct ProviderUse {
    pub provider: ProviderRef,
    pub span: Span,
}

/// `import { to = TYPE.NAME, id = "..." }`
#[derive(Debug, Clone)]
pub struct ImportDecl {
    pub to: String,
    pub id: Expr,
    pub span: Span,
}

/// `moved { from = OLD, to = NEW }`
#[derive(Debug, Clone)]
pub struct MovedDecl {
    pub from: String,
    pub to: String,
    pub span: Span,
}

/// `removed { from = ADDRESS lifecycle { destroy = BOOL } }`: the resource
/// left the configuration; with `destroy = false` its objects are only
/// forgotten, not destroyed.
#[derive(Debug, Clone)]
pub struct RemovedDecl {
    pub from: String,
    pub destroy: bool,
    pub span: Span,
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
    /// An object attribute that may be left out: `optional(T)` or
    /// `optional(T, default)` (the default must be a literal).
    Optional(Box<TypeConstraint>, Option<dumcel_planner::Value>),
}

#[derive(Debug, Clone)]
pub struct VariableDecl {
    pub name: String,
    pub type_constraint: TypeConstraint,
    /// Evaluated when variables are resolved; must not reference anything.
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub validations: Vec<Condition>,
    pub span: Span,
}

/// A `validation`, `precondition` or `postcondition` block.
#[derive(Debug, Clone)]
pub struct Condition {
    pub condition: Expr,
    pub error_message: Expr,
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
    /// References whose change replaces this resource.
    pub replace_triggered_by: Vec<Expr>,
    pub preconditions: Vec<Condition>,
    /// May refer to the resource's own new values as `self`.
    pub postconditions: Vec<Condition>,
    pub span: Option<Span>,
}

impl Lifecycle {
    pub fn ignores(&self, attribute: &str) -> bool {
        self.ignore_changes
            .iter()
            .any(|a| a == "*" || a == attribute)
    }
}

#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub addr: ResourceAddr,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Reference>,
    /// `provider = aws.use1`; `None`: the default configuration of the
    /// provider that offers the type.
    pub provider: Option<ProviderUse>,
    pub lifecycle: Lifecycle,
    pub body: BodyDecl,
    /// The block header (`resource "TYPE" "NAME"`).
    pub span: Span,
    /// Every reference its expressions make, for dependency discovery and
    /// its scope: gathered by the loader, which alone builds a declaration,
    /// while the body is fresh in the cache (walking 100,000 bodies again
    /// later missed it on nearly every read: bench/README.md).
    pub references: Vec<Reference>,
}

impl ResourceDecl {
    /// `TYPE.NAME` or `data.TYPE.NAME`: the key in [`Module::resources`].
    pub fn key(&self) -> String {
        self.addr.to_string()
    }

    /// Every reference the resource's expressions make: what the loader
    /// keeps in [`ResourceDecl::references`].
    pub fn collect_references(&self) -> Vec<Reference> {
        let mut out: Vec<Reference> = self
            .count
            .iter()
            .chain(self.for_each.iter())
            .flat_map(|e| e.references())
            .collect();
        self.body.collect_refs(&[], &mut out);
        let l = &self.lifecycle;
        out.extend(l.replace_triggered_by.iter().flat_map(|e| e.references()));
        for c in l.preconditions.iter().chain(&l.postconditions) {
            let refs = c
                .condition
                .references()
                .into_iter()
                .chain(c.error_message.references());
            out.extend(refs.filter(|r| r.root != "self"));
        }
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct BodyDecl {
    pub attributes: IndexMap<String, AttrDecl>,
    pub blocks: Vec<BlockDecl>,
    /// Read from a `.tf.json` file: an argument may hold what the schema
    /// calls a block (see `config::json_syntax::blocks_from_arguments`).
    pub from_json: bool,
}

impl BodyDecl {
    /// References made by the body, leaving out names bound by enclosing
    /// `dynamic` blocks (their iterators).
    pub fn collect_refs(&self, bound: &[String], out: &mut Vec<Reference>) {
        let keep = |r: &Reference| !bound.contains(&r.root);
        for a in self.attributes.values() {
            out.extend(a.expr.references().into_iter().filter(keep));
        }
        for b in &self.blocks {
            match &b.dynamic {
                Some(d) => {
                    out.extend(d.for_each.references().into_iter().filter(keep));
                    let mut inner = bound.to_vec();
                    inner.push(d.iterator.clone());
                    b.body.collect_refs(&inner, out);
                }
                None => b.body.collect_refs(bound, out),
            }
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
    /// `dynamic "name" { for_each = ..., content { ... } }`: `body` is the content.
    pub dynamic: Option<DynamicBlock>,
}

#[derive(Debug, Clone)]
pub struct DynamicBlock {
    pub for_each: Expr,
    /// The name the content refers to the element by (`iterator`, default: the block name).
    pub iterator: String,
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
    /// `alias = "use1"`: another configuration of the same provider. The
    /// block is then keyed `NAME.ALIAS` in [`Module::providers`].
    pub alias: Option<String>,
    /// The provider's own arguments (`alias` taken out).
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

impl ProviderDecl {
    /// The configuration this block declares: `aws` or `aws.use1`.
    pub fn reference(&self) -> ProviderRef {
        ProviderRef::new(self.name.clone(), self.alias.clone())
    }
}
