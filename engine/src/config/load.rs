//! Reading a stack directory: every `*.hcl` and `*.tf` file (but variable
//! files: `*.vars.hcl`, `*.tfvars`) parsed with hcl-edit, which keeps
//! positions, into a [`Module`]; `*.tf.json` files are read into the same
//! syntax tree by [`super::json_syntax`].

use std::path::{Path, PathBuf};

use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body, Structure};

use dumcel_planner::{Mode, ResourceAddr};

use super::ast::{Expr, ExprKind, ObjectKey, Reference, Step};
use super::diagnostics::{Diagnostic, Diagnostics};
use super::lower::Lowerer;
use super::model::*;
use super::source::{SourceMap, Span};

/// Files that hold variable values rather than configuration.
pub fn is_var_file(name: &str) -> bool {
    name.ends_with(".vars.hcl")
}

/// Dumcel's own configuration files and Terraform's, in both syntaxes.
fn is_config_file(name: &str) -> bool {
    (name.ends_with(".hcl") && !is_var_file(name))
        || name.ends_with(".tf")
        || super::json_syntax::is_json_config(name)
}

/// Files Terraform reads that dumcel cannot: override files merge into the
/// configuration, so skipping them would plan something else than
/// Terraform does.
fn unsupported_terraform_file(name: &str) -> Option<&'static str> {
    let stem = name.strip_suffix(".json").unwrap_or(name);
    if stem == "override.tf" || stem.ends_with("_override.tf") {
        Some("Override files are not supported; merge the override into the file it changes.")
    } else {
        None
    }
}

/// The configuration files of a directory, sorted by name.
pub fn config_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    !n.starts_with('.')
                        && (is_config_file(n) || unsupported_terraform_file(n).is_some())
                })
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Shown paths are relative to the stack directory's parent when the stack is
/// the working directory, else as given.
fn display_name(dir: &Path, path: &Path) -> String {
    match path.strip_prefix(dir) {
        Ok(rel) if dir == Path::new(".") || dir.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// Parses one file's text. On a syntax error, the diagnostic points at it.
pub fn parse_file(sources: &SourceMap, file: u32) -> Result<Body, Diagnostic> {
    let text = file_text(sources, file);
    super::repeated_keys::parse_allowing_repeats(text).map_err(|e| syntax_error(file, text, &e))
}

fn file_text(sources: &SourceMap, file: u32) -> &str {
    sources.get(file).map(|f| &*f.text).unwrap_or("")
}

fn syntax_error(file: u32, text: &str, e: &hcl_edit::parser::Error) -> Diagnostic {
    let offset = e.location().offset().min(text.len());
    Diagnostic::error(
        format!("Invalid HCL syntax: {}", first_line(e.message())),
        "Fix the syntax at the marked position; `dumcel validate` checks a stack without touching anything.",
        Some(Span::new(
            file,
            offset..offset.saturating_add(1).min(text.len()),
        )),
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// How deep modules may nest (a module that calls itself stops here).
const MAX_MODULE_DEPTH: usize = 16;

/// Loads the stack in `dir` and the modules it calls. The source map is
/// filled in both cases so that diagnostics can be shown with their lines.
pub fn load_module(dir: &Path, sources: &mut SourceMap) -> Result<Module, Diagnostics> {
    load_module_at(dir, "", sources, &[])
}

/// A module being loaded, on the way from the root to the one loading now.
#[derive(Clone)]
struct Loading {
    /// Its directory, canonical, to find a module that reaches itself.
    dir: PathBuf,
    /// The root stack's directory as given: its manifest says where
    /// `dumcel init` installed git modules.
    root: PathBuf,
    /// Its address (`module.a.module.b`; empty for the root).
    address: String,
}

fn module_name(address: &str) -> &str {
    if address.is_empty() {
        "the root module"
    } else {
        address
    }
}

fn load_module_at(
    dir: &Path,
    address: &str,
    sources: &mut SourceMap,
    ancestors: &[Loading],
) -> Result<Module, Diagnostics> {
    let mut module = load_one(dir, sources)?;
    let mut diags = Diagnostics::new();
    let mut chain = ancestors.to_vec();
    chain.push(Loading {
        dir: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
        root: ancestors
            .first()
            .map_or_else(|| dir.to_path_buf(), |l| l.root.clone()),
        address: address.to_owned(),
    });
    let calls: Vec<String> = module.calls.keys().cloned().collect();
    for name in calls {
        let Some(call) = module.calls.get(&name) else {
            continue;
        };
        let span = call.span;
        let source = call.source.clone();
        let child_address = if address.is_empty() {
            format!("module.{name}")
        } else {
            format!("{address}.module.{name}")
        };
        // Git modules load from where `dumcel init` installed them; the
        // loader itself never fetches.
        let child_dir = match super::module_source::parse(&source) {
            Ok(super::module_source::ModuleSource::Local(path)) => normalize(&dir.join(path)),
            Ok(super::module_source::ModuleSource::Git(git)) => {
                match super::module_manifest::installed_dir(&chain[0].root, &child_address, &git) {
                    Ok(installed) => normalize(&installed),
                    Err(e) => {
                        diags.error(e.summary, e.detail, Some(span));
                        continue;
                    }
                }
            }
            Err(why) => {
                diags.error(
                    format!(
                        "Module \"{name}\": unsupported source \"{}\"",
                        super::module_source::redact_url(&source)
                    ),
                    why,
                    Some(span),
                );
                continue;
            }
        };
        if !child_dir.is_dir()
            || config_files(&child_dir)
                .map(|f| f.is_empty())
                .unwrap_or(true)
        {
            diags.error(
                format!("Module \"{name}\": no module at \"{source}\""),
                format!(
                    "{} is not a directory holding *.hcl, *.tf or *.tf.json files; fix the source path.",
                    child_dir.display()
                ),
                Some(span),
            );
            continue;
        }
        let canonical = std::fs::canonicalize(&child_dir).unwrap_or_else(|_| child_dir.clone());
        if let Some(again) = chain.iter().find(|l| l.dir == canonical) {
            diags.error(
                format!("Module \"{name}\" reaches itself"),
                format!(
                    "{child_address} (source \"{source}\") is {}, the directory of {}: loading it would never end. A module cannot call itself, directly or through others; fix the source path.",
                    child_dir.display(),
                    module_name(&again.address),
                ),
                Some(span),
            );
            continue;
        }
        if chain.len() > MAX_MODULE_DEPTH {
            diags.error(
                format!("Modules nest more than {MAX_MODULE_DEPTH} deep at \"{name}\""),
                format!("{child_address} is too deep; flatten the module tree."),
                Some(span),
            );
            continue;
        }
        match load_module_at(&child_dir, &child_address, sources, &chain) {
            Ok(child) => {
                if let Some(call) = module.calls.get_mut(&name) {
                    call.child = std::sync::Arc::new(child);
                }
            }
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result()?;
    Ok(module)
}

/// One directory's files, without loading the modules it calls: `dumcel
/// init` reads module calls this way before the modules are installed.
pub fn load_one(dir: &Path, sources: &mut SourceMap) -> Result<Module, Diagnostics> {
    let mut diags = Diagnostics::new();
    let files = config_files(dir).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            format!("Cannot read the stack directory {}: {e}", dir.display()),
            "Run dumcel in a directory holding *.hcl, *.tf or *.tf.json files, or pass -chdir=DIR.",
            None,
        ))
    })?;
    let mut module = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    for path in files {
        if let Some(why) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(unsupported_terraform_file)
        {
            diags.error(
                format!("Unsupported file {}", display_name(dir, &path)),
                why,
                None,
            );
            continue;
        }
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    diags.error(
                        format!("{} is not UTF-8 text", path.display()),
                        "Stack files must be UTF-8 encoded HCL.",
                        None,
                    );
                    continue;
                }
            },
            Err(e) => {
                diags.error(format!("Cannot read {}: {e}", path.display()), "", None);
                continue;
            }
        };
        let file = sources.add(&path, display_name(dir, &path), text);
        let json = super::json_syntax::is_json_config(&path.to_string_lossy());
        let before = diags.0.len();
        let mut lower = |offset, body: hcl_edit::structure::Body| {
            let mut loader = FileLoader {
                lower: Lowerer { file, offset },
                diags: &mut diags,
            };
            loader.body(&body, &mut module);
        };
        let parsed = if json {
            super::json_syntax::parse_file(sources, file).map(|body| lower(0, body))
        } else {
            // A large file is lowered part by part as it is parsed; on a
            // syntax error only the error is reported, as for a file parsed
            // whole, and the module (which then fails to load) is dropped.
            let text = file_text(sources, file);
            super::parse_in_parts::parse_each(text, &mut lower).map_err(|e| {
                diags.0.truncate(before);
                Diagnostics::from(syntax_error(file, text, &e))
            })
        };
        match parsed {
            Ok(()) if json => super::json_syntax::mark_from_json(&mut module, file),
            Ok(()) => {}
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result()?;
    Ok(module)
}

struct FileLoader<'a> {
    lower: Lowerer,
    diags: &'a mut Diagnostics,
}

impl FileLoader<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        self.lower.span(range)
    }

    /// An argument's `name = value`; those read from JSON have no span of
    /// their own, so from the name to the value's end.
    fn attr_span(&self, a: &hcl_edit::structure::Attribute) -> Span {
        self.span(a.span().or_else(|| super::json_syntax::attribute_range(a)))
    }

    fn body(&mut self, body: &Body, module: &mut Module) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(a) => self.diags.error(
                    format!("Unexpected argument \"{}\" at the top level", a.key.value()),
                    "Top-level arguments are not allowed; put it inside a block such as `locals { ... }`.",
                    Some(self.attr_span(a)),
                ),
                Structure::Block(b) => self.block(b, module),
            }
        }
    }

    fn labels(&mut self, b: &Block, expected: &[&str]) -> Option<Vec<String>> {
        let labels: Vec<String> = b.labels.iter().map(|l| l.as_str().to_owned()).collect();
        if labels.len() != expected.len() {
            let want = expected
                .iter()
                .map(|l| format!("\"{l}\""))
                .collect::<Vec<_>>()
                .join(" ");
            self.diags.error(
                format!(
                    "A {} block needs {} label(s)",
                    b.ident.value(),
                    expected.len()
                ),
                format!("Write it as: {} {want} {{ ... }}", b.ident.value()),
                Some(self.span(b.ident.span())),
            );
            return None;
        }
        Some(labels)
    }

    /// A block's header: its type and labels.
    fn header(&self, b: &Block) -> Span {
        self.span(b.ident.span().map(|r| {
            let end = b
                .labels
                .last()
                .and_then(|l| l.span())
                .map(|l| l.end)
                .unwrap_or(r.end);
            r.start..end
        }))
    }

    fn block(&mut self, b: &Block, module: &mut Module) {
        let header = self.header(b);
        match b.ident.value().as_str() {
            "variable" => {
                if let Some([name]) = self.labels(b, &["NAME"]).as_deref() {
                    self.variable(name, b, header, module)
                }
            }
            "locals" => {
                for s in b.body.iter() {
                    match s {
                        Structure::Attribute(a) => {
                            let name = a.key.value().to_string();
                            let span = self.attr_span(a);
                            if let Some(prev) = module.locals.get(&name) {
                                self.duplicate("local value", &name, span, prev.span);
                                continue;
                            }
                            let expr = self.lower.expr(&a.value);
                            module.locals.insert(name.clone(), LocalDecl { name, expr, span });
                        }
                        Structure::Block(inner) => self.diags.error(
                            format!("Unexpected block \"{}\" in locals", inner.ident.value()),
                            "A locals block holds only `name = value` arguments.",
                            Some(self.span(inner.ident.span())),
                        ),
                    }
                }
            }
            "resource" | "data" => {
                let mode = if b.ident.value().as_str() == "data" { Mode::Data } else { Mode::Managed };
                if let Some([rtype, name]) = self.labels(b, &["TYPE", "NAME"]).as_deref() {
                    self.resource(mode, rtype, name, b, header, module)
                }
            }
            "output" => {
                if let Some([name]) = self.labels(b, &["NAME"]).as_deref() {
                    self.output(name, b, header, module)
                }
            }
            "provider" => {
                if let Some([name]) = self.labels(b, &["NAME"]).as_deref() {
                    self.provider(name, b, header, module)
                }
            }
            "terraform" | "dumcel" => self.settings(b, module),
            "import" => self.import(b, header, module),
            "module" => {
                if let Some([name]) = self.labels(b, &["NAME"]).as_deref() {
                    self.module_call(name, b, header, module)
                }
            }
            "moved" => self.moved(b, header, module),
            "removed" => self.removed(b, header, module),
            "check" => {
                if let Some([name]) = self.labels(b, &["NAME"]).as_deref() {
                    self.check(name, b, header, module)
                }
            }
            other => self.diags.error(
                format!("Unsupported block type \"{other}\""),
                "Blocks allowed at the top level: variable, locals, resource, data, module, output, provider, terraform, import, moved, removed, check.",
                Some(self.span(b.ident.span())),
            ),
        }
    }

    /// The plain attributes of a small block such as `import` or `moved`.
    fn attributes(&mut self, b: &Block, allowed: &[&str]) -> indexmap::IndexMap<String, Expr> {
        let mut out = indexmap::IndexMap::new();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if allowed.contains(&a.key.value().as_str()) => {
                    out.insert(a.key.value().to_string(), self.lower.expr(&a.value));
                }
                Structure::Attribute(a) => {
                    self.unexpected_argument(a.key.value(), b.ident.value(), self.attr_span(a))
                }
                Structure::Block(inner) => self.diags.error(
                    format!(
                        "Unexpected block \"{}\" in {}",
                        inner.ident.value(),
                        b.ident.value()
                    ),
                    format!(
                        "A {} block takes only arguments: {}.",
                        b.ident.value(),
                        allowed.join(", ")
                    ),
                    Some(self.span(inner.ident.span())),
                ),
            }
        }
        out
    }

    /// A resource address written as a reference: `null_resource.a["x"]`.
    fn address(&mut self, e: Option<&Expr>, what: &str, span: Span) -> Option<String> {
        let text = e.and_then(address_of);
        if text.is_none() {
            self.diags.error(
                format!("Invalid \"{what}\" address"),
                format!("{what} must name a resource instance, like null_resource.a or null_resource.a[0] (no quotes)."),
                e.map(|e| e.span).or(Some(span)),
            );
        }
        text
    }

    /// `provider "NAME" { alias = "ALIAS" ... }`, keyed `NAME` or `NAME.ALIAS`.
    fn provider(&mut self, name: &str, b: &Block, header: Span, module: &mut Module) {
        let mut body = self.plain_body(&b.body);
        let alias = match body.attributes.shift_remove("alias") {
            None => None,
            Some(a) => match a.expr.as_literal().and_then(|v| v.as_str()) {
                Some(s) if is_identifier(s) => Some(s.to_owned()),
                _ => {
                    self.diags.error(
                        "Invalid provider alias",
                        "alias must be a literal name of letters, digits, _ and -, starting with a letter, like alias = \"use1\".",
                        Some(a.span),
                    );
                    return;
                }
            },
        };
        let key = match &alias {
            Some(a) => format!("{name}.{a}"),
            None => name.to_owned(),
        };
        if module.providers.contains_key(&key) {
            self.diags.error(
                format!("Duplicate provider configuration \"{key}\""),
                match &alias {
                    Some(a) => format!("Another provider \"{name}\" block already has alias = \"{a}\"; give each configuration its own alias."),
                    None => format!("Another provider \"{name}\" block has no alias; each further configuration of a provider needs alias = \"NAME\", and resources select it with provider = {name}.NAME."),
                },
                Some(header),
            );
            return;
        }
        module.providers.insert(
            key,
            ProviderDecl {
                name: name.to_owned(),
                alias,
                body,
                span: header,
            },
        );
    }

    /// `provider = aws` or `provider = aws.use1`: a bare reference, no quotes.
    fn provider_ref(&mut self, e: &Expr, what: &str) -> Option<ProviderRef> {
        let found = provider_ref_of(e);
        if found.is_none() {
            self.diags.error(
                format!("Invalid provider reference in {what}"),
                "Name a provider configuration without quotes: aws for the default one, aws.ALIAS for one declared with provider \"aws\" { alias = \"ALIAS\" }.",
                Some(e.span),
            );
        }
        found
    }

    /// `providers = { aws = aws.use1, aws.dst = aws.euw1 }` of a module call.
    fn providers_map(&mut self, e: &Expr) -> Vec<ProviderPass> {
        let ExprKind::Object(items) = &e.kind else {
            self.diags.error(
                "Invalid providers map",
                "Write it as providers = { aws = aws.use1 }: the module's name for the provider on the left, this module's configuration on the right.",
                Some(e.span),
            );
            return Vec::new();
        };
        let mut out: Vec<ProviderPass> = Vec::new();
        for (key, value) in items {
            let child = match key {
                ObjectKey::Name(n) if is_identifier(n) => Some(ProviderRef::default_of(n.clone())),
                ObjectKey::Name(_) => None,
                ObjectKey::Expr(k) => provider_ref_of(k).or_else(|| {
                    k.as_literal()
                        .and_then(|v| v.as_str())
                        .and_then(ProviderRef::parse_recorded)
                }),
            };
            let span = match key {
                ObjectKey::Expr(k) => k.span,
                ObjectKey::Name(_) => value.span,
            };
            let Some(child) = child else {
                self.diags.error(
                    "Invalid key in providers map",
                    "Each key is the module's name for a provider configuration: aws, or aws.ALIAS.",
                    Some(span),
                );
                continue;
            };
            let Some(parent) = self.provider_ref(value, "a providers map") else {
                continue;
            };
            if child.name != parent.name {
                self.diags.error(
                    format!("Provider mismatch in providers map: {child} = {parent}"),
                    format!("A module's \"{}\" configuration must be one of this module's \"{}\" configurations, like {} = {}.ALIAS.", child.name, child.name, child, child.name),
                    Some(value.span),
                );
                continue;
            }
            if out.iter().any(|p| p.child == child) {
                self.diags.error(
                    format!("Duplicate key {child} in providers map"),
                    "Pass each of the module's provider configurations once.",
                    Some(span),
                );
                continue;
            }
            out.push(ProviderPass {
                child,
                parent,
                span: value.span,
            });
        }
        out
    }

    fn module_call(&mut self, name: &str, b: &Block, header: Span, module: &mut Module) {
        if module.calls.contains_key(name) {
            self.duplicate("module", name, header, header);
            return;
        }
        let mut call = ModuleCallDecl {
            name: name.to_owned(),
            source: String::new(),
            count: None,
            for_each: None,
            depends_on: Vec::new(),
            inputs: indexmap::IndexMap::new(),
            providers: Vec::new(),
            span: header,
            child: Default::default(),
        };
        let mut has_source = false;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let expr = self.lower.expr(&a.value);
                    let span = self.attr_span(a);
                    match a.key.value().as_str() {
                        "source" => {
                            has_source = true;
                            call.source = self.literal_string(&expr, "source").unwrap_or_default();
                        }
                        "count" => call.count = Some(expr),
                        "for_each" => call.for_each = Some(expr),
                        "depends_on" => call.depends_on = self.depends_on(&expr),
                        "providers" => call.providers = self.providers_map(&expr),
                        "version" => {}
                        input => {
                            call.inputs.insert(
                                input.to_owned(),
                                AttrDecl {
                                    name: input.to_owned(),
                                    expr,
                                    span,
                                },
                            );
                        }
                    }
                }
                Structure::Block(inner) => self.diags.error(
                    format!("Unexpected block \"{}\" in module", inner.ident.value()),
                    "A module block takes source, count or for_each, depends_on, and the module's input variables as arguments.",
                    Some(self.span(inner.ident.span())),
                ),
            }
        }
        if !has_source {
            self.diags.error(
                format!("Module \"{name}\" has no source"),
                "Add source = \"./modules/NAME\" naming the module's directory.",
                Some(header),
            );
            return;
        }
        if call.count.is_some() && call.for_each.is_some() {
            self.diags.error(
                "Invalid combination of \"count\" and \"for_each\"",
                "A module may use count or for_each, not both.",
                Some(header),
            );
        }
        module.calls.insert(name.to_owned(), call);
    }

    fn import(&mut self, b: &Block, header: Span, module: &mut Module) {
        let mut attrs = self.attributes(b, &["to", "id"]);
        let to = self.address(attrs.get("to"), "to", header);
        let Some(id) = attrs.swap_remove("id") else {
            self.diags.error(
                "Missing id in import block",
                "Add id = \"<the object's id>\".",
                Some(header),
            );
            return;
        };
        if let Some(to) = to {
            module.imports.push(ImportDecl {
                to,
                id,
                span: header,
            });
        }
    }

    fn moved(&mut self, b: &Block, header: Span, module: &mut Module) {
        let attrs = self.attributes(b, &["from", "to"]);
        let from = self.address(attrs.get("from"), "from", header);
        let to = self.address(attrs.get("to"), "to", header);
        if let (Some(from), Some(to)) = (from, to) {
            module.moves.push(MovedDecl {
                from,
                to,
                span: header,
            });
        }
    }

    fn removed(&mut self, b: &Block, header: Span, module: &mut Module) {
        let mut from = None;
        let mut saw_from = false;
        let mut destroy = true;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.value().as_str() == "from" => {
                    let e = self.lower.expr(&a.value);
                    saw_from = true;
                    from = self.address(Some(&e), "from", header);
                }
                Structure::Block(inner) if inner.ident.value().as_str() == "lifecycle" => {
                    let attrs = self.attributes(inner, &["destroy"]);
                    if let Some(e) = attrs.get("destroy") {
                        destroy = self.literal_bool(e, "destroy");
                    }
                }
                Structure::Attribute(a) => {
                    self.unexpected_argument(a.key.value(), "removed", self.attr_span(a))
                }
                Structure::Block(inner) => self.diags.error(
                    format!("Unexpected block \"{}\" in removed", inner.ident.value()),
                    "A removed block takes `from` and a `lifecycle { destroy = BOOL }` block.",
                    Some(self.span(inner.ident.span())),
                ),
            }
        }
        match from {
            Some(from) => module.removed.push(RemovedDecl {
                from,
                destroy,
                span: header,
            }),
            None if !saw_from => self.diags.error(
                "Missing \"from\" in removed block",
                "Write from = ADDRESS, the resource that left the configuration.",
                Some(header),
            ),
            None => {}
        }
    }

    fn duplicate(&mut self, what: &str, name: &str, span: Span, first: Span) {
        let _ = first;
        self.diags.error(
            format!("Duplicate {what} \"{name}\""),
            format!("A {what} named \"{name}\" is already declared; names must be unique in a stack. Rename or remove one."),
            Some(span),
        );
    }

    fn variable(&mut self, name: &str, b: &Block, header: Span, module: &mut Module) {
        if let Some(prev) = module.variables.get(name) {
            self.duplicate("variable", name, header, prev.span);
            return;
        }
        let mut decl = VariableDecl {
            name: name.to_owned(),
            type_constraint: TypeConstraint::Any,
            default: None,
            description: None,
            sensitive: false,
            validations: Vec::new(),
            span: header,
        };
        for s in b.body.iter() {
            let Structure::Attribute(a) = s else {
                if let Structure::Block(inner) = s {
                    if inner.ident.value().as_str() == "validation" {
                        if let Some(c) = self.condition(inner) {
                            decl.validations.push(c);
                        }
                    } else {
                        self.diags.error(
                            format!("Unsupported block \"{}\" in variable", inner.ident.value()),
                            "A variable takes type, default, description, sensitive, nullable and validation blocks.",
                            Some(self.span(inner.ident.span())),
                        );
                    }
                }
                continue;
            };
            let expr = self.lower.expr(&a.value);
            match a.key.value().as_str() {
                "type" => match type_constraint(&expr) {
                    Ok(t) => decl.type_constraint = t,
                    Err(msg) => self
                        .diags
                        .error("Invalid type constraint", msg, Some(expr.span)),
                },
                "default" => decl.default = Some(expr),
                "description" => decl.description = self.literal_string(&expr, "description"),
                "sensitive" => decl.sensitive = self.literal_bool(&expr, "sensitive"),
                "nullable" => {}
                other => self.unexpected_argument(other, "variable", self.attr_span(a)),
            }
        }
        module.variables.insert(name.to_owned(), decl);
    }

    /// `validation` / `precondition` / `postcondition { condition = ..., error_message = ... }`.
    fn condition(&mut self, b: &Block) -> Option<Condition> {
        let span = self.span(b.ident.span());
        let mut condition = None;
        let mut error_message = None;
        for s in b.body.iter() {
            let Structure::Attribute(a) = s else { continue };
            let expr = self.lower.expr(&a.value);
            match a.key.value().as_str() {
                "condition" => condition = Some(expr),
                "error_message" => error_message = Some(expr),
                other => self.unexpected_argument(other, b.ident.value(), self.attr_span(a)),
            }
        }
        match (condition, error_message) {
            (Some(condition), Some(error_message)) => Some(Condition {
                condition,
                error_message,
                span,
            }),
            _ => {
                self.diags.error(
                    format!("Incomplete {} block", b.ident.value()),
                    "It needs both condition = <bool expression> and error_message = \"...\".",
                    Some(span),
                );
                None
            }
        }
    }

    /// `check "NAME" { data ... {} assert { ... } }`. A data block inside is
    /// read as any other data source (same address, `data.TYPE.NAME`).
    fn check(&mut self, name: &str, b: &Block, header: Span, module: &mut Module) {
        if let Some(prev) = module.checks.get(name) {
            self.duplicate("check block", name, header, prev.span);
            return;
        }
        let mut asserts = Vec::new();
        for s in b.body.iter() {
            match s {
                Structure::Block(inner) if inner.ident.value().as_str() == "assert" => {
                    asserts.extend(self.condition(inner));
                }
                Structure::Block(inner) if inner.ident.value().as_str() == "data" => {
                    if let Some([rtype, data_name]) =
                        self.labels(inner, &["TYPE", "NAME"]).as_deref()
                    {
                        let inner_header = self.header(inner);
                        self.resource(Mode::Data, rtype, data_name, inner, inner_header, module)
                    }
                }
                Structure::Block(inner) => self.diags.error(
                    format!(
                        "Unsupported block type \"{}\" in check",
                        inner.ident.value()
                    ),
                    "A check block holds assert blocks and at most one data block.",
                    Some(self.span(inner.ident.span())),
                ),
                Structure::Attribute(a) => {
                    self.unexpected_argument(a.key.value(), "check", self.attr_span(a))
                }
            }
        }
        if asserts.is_empty() {
            self.diags.error(
                format!("Check \"{name}\" has no assert block"),
                "A check block must contain at least one assert { condition = ..., error_message = \"...\" } block.",
                Some(header),
            );
            return;
        }
        module.checks.insert(
            name.to_owned(),
            CheckDecl {
                name: name.to_owned(),
                asserts,
                span: header,
            },
        );
    }

    fn unexpected_argument(&mut self, name: &str, block: &str, span: Span) {
        self.diags.error(
            format!("Unsupported argument \"{name}\" in {block}"),
            format!("An argument named \"{name}\" is not expected in a {block} block; check the spelling."),
            Some(span),
        );
    }

    fn literal_string(&mut self, e: &Expr, what: &str) -> Option<String> {
        match e.as_literal().and_then(|v| v.as_str()) {
            Some(s) => Some(s.to_owned()),
            None => {
                self.diags.error(
                    format!("{what} must be a literal string"),
                    "Write it as a quoted string without references.",
                    Some(e.span),
                );
                None
            }
        }
    }

    fn literal_bool(&mut self, e: &Expr, what: &str) -> bool {
        match e.as_literal().and_then(|v| v.as_bool()) {
            Some(b) => b,
            None => {
                self.diags.error(
                    format!("{what} must be true or false"),
                    "Write it as a literal bool without references.",
                    Some(e.span),
                );
                false
            }
        }
    }

    /// `depends_on = [a.b, var.c]` as references.
    fn depends_on(&mut self, e: &Expr) -> Vec<Reference> {
        let ExprKind::Array(items) = &e.kind else {
            self.diags.error(
                "depends_on must be a list of references",
                "Write it as depends_on = [null_resource.a, ...].",
                Some(e.span),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let refs = item.references();
            let is_plain = matches!(&item.kind, ExprKind::Traversal(base, steps)
                if matches!(base.kind, ExprKind::Variable(_)) && steps.iter().all(|s| matches!(s, Step::Attr(..))));
            match (refs.into_iter().next(), is_plain) {
                (Some(r), true) => out.push(r),
                _ => self.diags.error(
                    "Invalid depends_on item",
                    "Each item must name a resource, data source or module, like null_resource.a (no index, no expression).",
                    Some(item.span),
                ),
            }
        }
        out
    }

    fn resource(
        &mut self,
        mode: Mode,
        rtype: &str,
        name: &str,
        b: &Block,
        header: Span,
        module: &mut Module,
    ) {
        let addr = ResourceAddr {
            module: Vec::new(),
            mode,
            resource_type: rtype.to_owned(),
            name: name.to_owned(),
        };
        let key = addr.to_string();
        if let Some(prev) = module.resources.get(&key) {
            let what = if mode == Mode::Data {
                "data source"
            } else {
                "resource"
            };
            self.duplicate(what, &key, header, prev.span);
            return;
        }
        let mut decl = ResourceDecl {
            addr,
            count: None,
            for_each: None,
            depends_on: Vec::new(),
            provider: None,
            lifecycle: Lifecycle::default(),
            body: BodyDecl::default(),
            span: header,
            references: Vec::new(),
        };
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let expr = self.lower.expr(&a.value);
                    let span = self.attr_span(a);
                    match a.key.value().as_str() {
                        "count" => decl.count = Some(expr),
                        "for_each" => decl.for_each = Some(expr),
                        "depends_on" => decl.depends_on = self.depends_on(&expr),
                        "provider" => {
                            decl.provider = self
                                .provider_ref(&expr, "a resource")
                                .map(|provider| ProviderUse { provider, span })
                        }
                        attr => {
                            decl.body.attributes.insert(
                                attr.to_owned(),
                                AttrDecl {
                                    name: attr.to_owned(),
                                    expr,
                                    span,
                                },
                            );
                        }
                    }
                }
                Structure::Block(inner) if inner.ident.value().as_str() == "lifecycle" => {
                    decl.lifecycle = self.lifecycle(inner)
                }
                Structure::Block(inner) => {
                    let nested = self.block_decl(inner);
                    decl.body.blocks.push(nested);
                }
            }
        }
        if decl.count.is_some() && decl.for_each.is_some() {
            self.diags.error(
                "Invalid combination of \"count\" and \"for_each\"",
                "A resource may use count or for_each, not both.",
                Some(header),
            );
        }
        // A body usually holds a few attributes; the map grew to hold more.
        // At 100,000 resources the spare room was 29 MB (bench/README.md).
        decl.body.attributes.shrink_to_fit();
        decl.references = decl.collect_references();
        module.resources.insert(key, Box::new(decl));
    }

    fn lifecycle(&mut self, b: &Block) -> Lifecycle {
        let mut l = Lifecycle {
            span: Some(self.span(b.ident.span())),
            ..Lifecycle::default()
        };
        for s in b.body.iter() {
            let a = match s {
                Structure::Attribute(a) => a,
                Structure::Block(inner) => {
                    let kind = inner.ident.value().to_string();
                    match (kind.as_str(), self.condition(inner)) {
                        ("precondition", Some(c)) => l.preconditions.push(c),
                        ("postcondition", Some(c)) => l.postconditions.push(c),
                        ("precondition" | "postcondition", None) => {}
                        _ => self.diags.error(
                            format!("Unexpected block \"{kind}\" in lifecycle"),
                            "lifecycle takes precondition and postcondition blocks.",
                            Some(self.span(inner.ident.span())),
                        ),
                    }
                    continue;
                }
            };
            let expr = self.lower.expr(&a.value);
            match a.key.value().as_str() {
                "create_before_destroy" => {
                    l.create_before_destroy = self.literal_bool(&expr, "create_before_destroy")
                }
                "prevent_destroy" => {
                    l.prevent_destroy = self.literal_bool(&expr, "prevent_destroy")
                }
                "ignore_changes" => {
                    l.ignore_changes = match &expr.kind {
                        ExprKind::Variable(all) if all == "all" => vec!["*".into()],
                        ExprKind::Array(items) => items
                            .iter()
                            .filter_map(|i| match &i.kind {
                                ExprKind::Variable(n) => Some(n.clone()),
                                _ => None,
                            })
                            .collect(),
                        _ => {
                            self.diags.error(
                                "Invalid ignore_changes",
                                "ignore_changes takes a list of attribute names, like [tags, content], or all.",
                                Some(expr.span),
                            );
                            Vec::new()
                        }
                    }
                }
                "replace_triggered_by" => match &expr.kind {
                    ExprKind::Array(items) => l.replace_triggered_by = items.clone(),
                    _ => self.diags.error(
                        "Invalid replace_triggered_by",
                        "replace_triggered_by takes a list of references, like [null_resource.config].",
                        Some(expr.span),
                    ),
                },
                other => self.unexpected_argument(other, "lifecycle", self.attr_span(a)),
            }
        }
        l
    }

    fn block_decl(&mut self, b: &Block) -> BlockDecl {
        if b.ident.value().as_str() == "dynamic" {
            return self.dynamic_block(b);
        }
        BlockDecl {
            name: b.ident.value().to_string(),
            labels: b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
            body: self.plain_body(&b.body),
            span: self.span(b.ident.span()),
            dynamic: None,
        }
    }

    /// `dynamic "NAME" { for_each = ..., iterator = it, content { ... } }`.
    fn dynamic_block(&mut self, b: &Block) -> BlockDecl {
        let span = self.span(b.ident.span());
        let name = self
            .labels(b, &["BLOCK_TYPE"])
            .map(|l| l.concat())
            .unwrap_or_default();
        let mut for_each = None;
        let mut iterator = name.clone();
        let mut content = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let expr = self.lower.expr(&a.value);
                    match a.key.value().as_str() {
                        "for_each" => for_each = Some(expr),
                        "iterator" => match &expr.kind {
                            ExprKind::Variable(n) => iterator = n.clone(),
                            _ => self.diags.error(
                                "Invalid iterator",
                                "iterator takes a bare name, like iterator = rule.",
                                Some(expr.span),
                            ),
                        },
                        "labels" => {}
                        other => self.unexpected_argument(other, "dynamic", self.attr_span(a)),
                    }
                }
                Structure::Block(inner) if inner.ident.value().as_str() == "content" => {
                    content = Some(self.plain_body(&inner.body))
                }
                Structure::Block(inner) => self.diags.error(
                    format!("Unexpected block \"{}\" in dynamic", inner.ident.value()),
                    "A dynamic block holds for_each, an optional iterator, and one content block.",
                    Some(self.span(inner.ident.span())),
                ),
            }
        }
        let for_each = for_each.unwrap_or_else(|| {
            self.diags.error(
                "Missing for_each in dynamic block",
                "A dynamic block needs for_each = <collection>.",
                Some(span),
            );
            Expr {
                kind: ExprKind::Literal(dumcel_planner::Value::List(Vec::new())),
                span,
            }
        });
        if content.is_none() {
            self.diags.error(
                "Missing content block in dynamic block",
                "A dynamic block needs content { ... } describing each generated block.",
                Some(span),
            );
        }
        BlockDecl {
            name,
            labels: Vec::new(),
            body: content.unwrap_or_default(),
            span,
            dynamic: Some(DynamicBlock { for_each, iterator }),
        }
    }

    fn plain_body(&mut self, body: &Body) -> BodyDecl {
        let mut out = BodyDecl::default();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.value().to_string();
                    let span = self.attr_span(a);
                    if out.attributes.contains_key(&name) {
                        self.diags.error(
                            format!("Duplicate argument \"{name}\""),
                            "Each argument may be set once in a block; remove one.",
                            Some(span),
                        );
                        continue;
                    }
                    out.attributes.insert(
                        name.clone(),
                        AttrDecl {
                            name,
                            expr: self.lower.expr(&a.value),
                            span,
                        },
                    );
                }
                Structure::Block(b) => {
                    let nested = self.block_decl(b);
                    out.blocks.push(nested);
                }
            }
        }
        out
    }

    fn output(&mut self, name: &str, b: &Block, header: Span, module: &mut Module) {
        if let Some(prev) = module.outputs.get(name) {
            self.duplicate("output", name, header, prev.span);
            return;
        }
        let mut value = None;
        let mut decl_description = None;
        let mut sensitive = false;
        let mut depends_on = Vec::new();
        for s in b.body.iter() {
            let Structure::Attribute(a) = s else { continue };
            let expr = self.lower.expr(&a.value);
            match a.key.value().as_str() {
                "value" => value = Some(expr),
                "description" => decl_description = self.literal_string(&expr, "description"),
                "sensitive" => sensitive = self.literal_bool(&expr, "sensitive"),
                "depends_on" => depends_on = self.depends_on(&expr),
                other => self.unexpected_argument(other, "output", self.attr_span(a)),
            }
        }
        let Some(value) = value else {
            self.diags.error(
                format!("Output \"{name}\" has no value"),
                "Add `value = <expression>` to the output block.",
                Some(header),
            );
            return;
        };
        module.outputs.insert(
            name.to_owned(),
            OutputDecl {
                name: name.to_owned(),
                value,
                description: decl_description,
                sensitive,
                depends_on,
                span: header,
            },
        );
    }

    fn settings(&mut self, b: &Block, module: &mut Module) {
        for s in b.body.iter() {
            match s {
                Structure::Block(inner) if inner.ident.value().as_str() == "backend" => {
                    let Some(labels) = self.labels(inner, &["TYPE"]) else {
                        continue;
                    };
                    let kind = labels.concat();
                    let body = self.plain_body(&inner.body);
                    module.backend = Some(BackendDecl {
                        kind,
                        body,
                        span: self.span(inner.ident.span()),
                    });
                }
                Structure::Attribute(a) if a.key.value().as_str() == "required_version" => {
                    let e = self.lower.expr(&a.value);
                    if let Some(c) = self.literal_string(&e, "required_version") {
                        module.required_version = Some((c, e.span));
                    }
                }
                Structure::Block(inner) if inner.ident.value().as_str() == "required_providers" => {
                    self.required_providers(inner, module);
                }
                // experiments, cloud, provider_meta: nothing to do here.
                _ => {}
            }
        }
    }
}

impl FileLoader<'_> {
    /// `NAME = { source = "NS/TYPE", version = "..." }` or the old
    /// `NAME = "VERSION"` (source `hashicorp/NAME`). Versions are not
    /// checked: dumcel's providers are built in.
    fn required_providers(&mut self, b: &Block, module: &mut Module) {
        for s in b.body.iter() {
            let Structure::Attribute(a) = s else {
                continue;
            };
            let name = a.key.value().to_string();
            let e = self.lower.expr(&a.value);
            let source = match &e.kind {
                ExprKind::Object(items) => items.iter().find_map(|(k, v)| {
                    let is_source = matches!(k, ObjectKey::Name(n) if n == "source")
                        || matches!(k, ObjectKey::Expr(k) if k.as_literal().and_then(|v| v.as_str()) == Some("source"));
                    is_source.then_some(v)
                }),
                _ => None,
            };
            let source = match source {
                Some(v) => match self.literal_string(v, "A provider's source") {
                    Some(s) => s,
                    None => continue,
                },
                None => name.clone(),
            };
            module
                .required_providers
                .push(super::requirements::RequiredProvider {
                    name,
                    source: super::requirements::normalize_source(&source),
                    span: e.span,
                });
        }
    }
}

/// `string`, `list(number)`, `map(any)`, `object({ a = string })`, `tuple([string, bool])`.
pub fn type_constraint(e: &Expr) -> Result<TypeConstraint, String> {
    let hint =
        "Use string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...]).";
    match &e.kind {
        ExprKind::Variable(name) => match name.as_str() {
            "string" => Ok(TypeConstraint::String),
            "number" => Ok(TypeConstraint::Number),
            "bool" => Ok(TypeConstraint::Bool),
            "any" => Ok(TypeConstraint::Any),
            "list" => Ok(TypeConstraint::List(Box::new(TypeConstraint::Any))),
            "map" => Ok(TypeConstraint::Map(Box::new(TypeConstraint::Any))),
            "set" => Ok(TypeConstraint::Set(Box::new(TypeConstraint::Any))),
            other => Err(format!("\"{other}\" is not a type. {hint}")),
        },
        ExprKind::Call { name, args, .. } => {
            let one = |args: &[Expr]| -> Result<Box<TypeConstraint>, String> {
                match args {
                    [inner] => Ok(Box::new(type_constraint(inner)?)),
                    _ => Err(format!("{name}(...) takes one element type. {hint}")),
                }
            };
            match name.as_str() {
                "list" => Ok(TypeConstraint::List(one(args)?)),
                "set" => Ok(TypeConstraint::Set(one(args)?)),
                "map" => Ok(TypeConstraint::Map(one(args)?)),
                "optional" => match args.as_slice() {
                    [inner] => Ok(TypeConstraint::Optional(
                        Box::new(type_constraint(inner)?),
                        None,
                    )),
                    // Any constant expression (`["index"]`, `{ a = 1 }`,
                    // `upper("x")`): evaluated with nothing in scope.
                    [inner, default] => {
                        match crate::eval::eval(default, &crate::eval::Scope::default()) {
                            Ok(v) => Ok(TypeConstraint::Optional(
                                Box::new(type_constraint(inner)?),
                                Some(v),
                            )),
                            Err(e) => Err(format!(
                                "optional(TYPE, DEFAULT) needs a constant default: {}",
                                e.detail
                            )),
                        }
                    }
                    _ => Err(format!(
                        "optional(...) takes a type and an optional default. {hint}"
                    )),
                },
                "object" => match args.as_slice() {
                    [
                        Expr {
                            kind: ExprKind::Object(items),
                            ..
                        },
                    ] => {
                        let mut fields = indexmap::IndexMap::new();
                        for (k, v) in items {
                            let key = match k {
                                super::ast::ObjectKey::Name(n) => n.clone(),
                                super::ast::ObjectKey::Expr(e) => e
                                    .as_literal()
                                    .and_then(|v| v.as_str())
                                    .map(str::to_owned)
                                    .ok_or_else(|| {
                                        format!("object attribute names must be names. {hint}")
                                    })?,
                            };
                            fields.insert(key, type_constraint(v)?);
                        }
                        Ok(TypeConstraint::Object(fields))
                    }
                    _ => Err(format!("object(...) takes {{ name = type, ... }}. {hint}")),
                },
                "tuple" => match args.as_slice() {
                    [
                        Expr {
                            kind: ExprKind::Array(items),
                            ..
                        },
                    ] => Ok(TypeConstraint::Tuple(
                        items
                            .iter()
                            .map(type_constraint)
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Err(format!("tuple(...) takes [type, ...]. {hint}")),
                },
                other => Err(format!("\"{other}\" is not a type constructor. {hint}")),
            }
        }
        _ => Err(hint.to_owned()),
    }
}

/// The address a reference expression names, if it names one: a resource or
/// data source, with an optional literal index.
/// `aws` or `aws.use1` written as a reference.
pub fn provider_ref_of(e: &Expr) -> Option<ProviderRef> {
    match &e.kind {
        ExprKind::Variable(name) if is_identifier(name) => {
            Some(ProviderRef::default_of(name.clone()))
        }
        ExprKind::Traversal(base, steps) => {
            let ExprKind::Variable(name) = &base.kind else {
                return None;
            };
            match steps.as_slice() {
                [Step::Attr(alias, _)] if is_identifier(name) && is_identifier(alias) => {
                    Some(ProviderRef::new(name.clone(), Some(alias.clone())))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A name HCL allows as an identifier.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub fn address_of(e: &Expr) -> Option<String> {
    let ExprKind::Traversal(base, steps) = &e.kind else {
        return None;
    };
    let ExprKind::Variable(root) = &base.kind else {
        return None;
    };
    let mut out = root.clone();
    for step in steps {
        match step {
            Step::Attr(name, _) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Index(ix) => match ix.as_literal()? {
                dumcel_planner::Value::Number(n) if n.fract() == 0.0 => {
                    out.push_str(&format!("[{}]", *n as i64))
                }
                dumcel_planner::Value::String(k) => {
                    out.push_str(&format!("[{}]", serde_json::to_string(k).ok()?))
                }
                _ => return None,
            },
            Step::AttrSplat | Step::FullSplat => return None,
        }
    }
    out.parse::<dumcel_planner::InstanceAddr>()
        .ok()
        .map(|a| a.to_string())
}

/// `./a/../b/./c` as `b/c`: lexical, so module paths print the way they read
/// (and manifest directories read as Terraform's).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            // `a/..` is nothing, `/..` is `/`, but `..` and `../..` stay:
            // popping a `..` would go down instead of up.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}
