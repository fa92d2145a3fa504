//! The sandbox a pipeline run puts a stack from an untrusted branch in. The
//! branch's files may do what the default branch's stack could, and nothing
//! that reaches the worker itself: no `local_file` (it writes and reads any
//! path), no `import` (it would adopt any object the worker's credentials
//! reach), no backend of its own (its state would go wherever the branch
//! says), no AWS credentials of its own (see `crate::credentials`), and file
//! functions read only files committed to the checkout.
//!
//! Everything here looks at the configuration as written, so a run is refused
//! before it opens any state or configures any provider. The file functions'
//! confinement at evaluation time (see `dumcel_engine::functions`) covers the
//! paths only known then.

use std::path::{Path, PathBuf};

use dumcel_engine::config::ast::{Expr, ExprKind};
use dumcel_engine::config::load::load_module;
use dumcel_engine::config::{BackendDecl, BodyDecl, Diagnostic, Diagnostics, Module, SourceMap};
use dumcel_engine::functions::{self, FuncContext};

use crate::SessionError;

/// How a headless run is confined (see [`crate::Request::sandbox`]).
#[derive(Debug, Clone)]
pub struct Sandbox<'a> {
    /// The checkout: file functions may read only regular files inside it.
    pub root: &'a Path,
    /// The backend the stack must declare, as [`backend_of`] renders it for
    /// the trusted (default-branch) stack; a stack declaring any other backend
    /// is refused.
    pub backend: Option<String>,
}

/// A canonical text of the `backend` block of the stack in `stack_dir` (its
/// type, then its attributes by name), or `None` when it declares none. Two
/// stacks get the same text when their backends are written alike, however
/// the attributes are ordered or spaced.
pub fn backend_of(stack_dir: &Path) -> Result<Option<String>, SessionError> {
    let mut sources = SourceMap::default();
    let module = load_module(stack_dir, &mut sources)
        .map_err(|d| SessionError::Config(d.render_plain(&sources)))?;
    Ok(module.backend.as_ref().map(|b| render_backend(b, &sources)))
}

fn render_backend(decl: &BackendDecl, sources: &SourceMap) -> String {
    format!(
        "backend {:?} {}",
        decl.kind,
        render_body(&decl.body, sources)
    )
}

fn render_body(body: &BodyDecl, sources: &SourceMap) -> String {
    let mut attrs: Vec<_> = body.attributes.values().collect();
    attrs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut parts: Vec<String> = attrs
        .iter()
        .map(|a| format!("{} = {}", a.name, render_expr(&a.expr, sources)))
        .collect();
    // Nested blocks keep their order: it can mean something (a list).
    for b in &body.blocks {
        let labels: String = b.labels.iter().map(|l| format!(" {l:?}")).collect();
        parts.push(format!(
            "{}{labels} {}",
            b.name,
            render_body(&b.body, sources)
        ));
    }
    if parts.is_empty() {
        "{}".to_owned()
    } else {
        format!("{{ {} }}", parts.join("; "))
    }
}

/// A literal as its value; anything else as written, spacing collapsed.
fn render_expr(expr: &Expr, sources: &SourceMap) -> String {
    match expr.as_literal() {
        Some(v) => v.to_string(),
        None => sources
            .snippet(expr.span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Refuses what the sandbox does not allow in the loaded stack (`module`,
/// when it loaded) and every loaded file that lies outside the checkout.
pub(crate) fn check_stack(
    sandbox: &Sandbox<'_>,
    stack_dir: &Path,
    module: Option<&Module>,
    sources: &SourceMap,
) -> Result<(), Diagnostics> {
    let root = canonical_root(sandbox)?;
    let mut diags = Diagnostics::new();
    if let Some(module) = module {
        check_module(module, &root, &mut diags);
        check_backend(sandbox, stack_dir, module, sources, &mut diags);
    }
    check_sources(sources, &root, &mut diags);
    diags.into_result().map(drop)
}

/// Refuses loaded files outside the checkout: a variables file read after
/// the stack loaded may be a symlink out.
pub(crate) fn check_files(sandbox: &Sandbox<'_>, sources: &SourceMap) -> Result<(), Diagnostics> {
    let root = canonical_root(sandbox)?;
    let mut diags = Diagnostics::new();
    check_sources(sources, &root, &mut diags);
    diags.into_result().map(drop)
}

fn canonical_root(sandbox: &Sandbox<'_>) -> Result<PathBuf, Diagnostics> {
    sandbox.root.canonicalize().map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            format!(
                "Cannot resolve the checkout {}: {e}",
                sandbox.root.display()
            ),
            "A sandboxed run needs the directory of the checkout it reads from.",
            None,
        ))
    })
}

fn inside(path: &Path, root: &Path) -> bool {
    path.canonicalize().is_ok_and(|p| p.starts_with(root))
}

/// Every file the stack (and its variables files) was read from, followed
/// through symlinks: a committed `x.hcl -> /elsewhere` would put someone
/// else's configuration, or secrets, into this run.
fn check_sources(sources: &SourceMap, root: &Path, diags: &mut Diagnostics) {
    for file in sources.files() {
        if !inside(&file.path, root) {
            diags.error(
                format!("{} is outside the checkout", file.name),
                "A pipeline run reads only files committed to the repository; a configuration file may not be a symlink out of it.",
                None,
            );
        }
    }
}

/// `local_file`, `import`, AWS credentials, modules outside the checkout,
/// and file functions called with a literal path that leads out, in `module`
/// and its children.
fn check_module(module: &Module, root: &Path, diags: &mut Diagnostics) {
    crate::credentials::check_aws_provider(module, diags);
    for decl in module.resources.values() {
        if decl.addr.resource_type == "local_file" {
            diags.push(Diagnostic::error(
                format!("{} is not allowed in a pipeline run", decl.key()),
                "local_file writes and reads any path on the worker, so a pipeline run may not use it; read files committed to the repository with file().",
                Some(decl.span),
            ));
        }
    }
    for import in &module.imports {
        diags.push(Diagnostic::error(
            "import blocks are not allowed in a pipeline run",
            format!(
                "An import adopts an existing object into the state by its id, so a branch could take over (and later destroy) anything the worker may reach. Import {} with `dumcel import` instead.",
                import.to
            ),
            Some(import.span),
        ));
    }
    for expr in module.expressions() {
        expr.walk(&mut |e| check_file_call(e, &module.dir, root, diags));
    }
    for call in module.calls.values() {
        if !inside(&call.child.dir, root) {
            diags.push(Diagnostic::error(
                format!("Module \"{}\" is outside the checkout", call.name),
                "A pipeline run reads only files committed to the repository: module sources stay inside it.",
                Some(call.span),
            ));
            continue;
        }
        check_module(&call.child, root, diags);
    }
}

/// A file function called with literal arguments is checked now, so that a
/// path leading out is refused with its line before any state is opened.
fn check_file_call(e: &Expr, dir: &Path, root: &Path, diags: &mut Diagnostics) {
    let ExprKind::Call { name, args, .. } = &e.kind else {
        return;
    };
    let Some(args) = args
        .iter()
        .map(|a| a.as_literal().cloned())
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let ctx = FuncContext {
        base_dir: dir,
        confine_files: Some(root),
        clock: Default::default(),
    };
    if let Err(message) = functions::check_confined(name, &args, &ctx) {
        diags.error(
            format!("Error in function call {name}()"),
            message,
            Some(e.span),
        );
    }
}

fn check_backend(
    sandbox: &Sandbox<'_>,
    stack_dir: &Path,
    module: &Module,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    let declared = module.backend.as_ref().map(|b| render_backend(b, sources));
    if declared == sandbox.backend {
        return;
    }
    let describe = |b: &Option<String>| match b {
        Some(text) => text.clone(),
        None => "none (local state)".to_owned(),
    };
    diags.push(Diagnostic::error(
        "The backend differs from the default branch's: pipeline runs keep the default branch's backend",
        format!(
            "The stack in {} declares {}, the default branch {}. A branch may not move where its state is kept; change the backend on the default branch.",
            stack_dir.display(),
            describe(&declared),
            describe(&sandbox.backend)
        ),
        module.backend.as_ref().map(|b| b.span),
    ));
}
