//! `dumcel init`'s module installer, as `terraform init` installs modules:
//! walks the module calls from the root, clones each git source with the
//! `git` command into `.dumcel/modules/<key>`, and records every module in
//! `.dumcel/modules/modules.json`. Only init fetches; the loader reads the
//! manifest (so the pipeline's sandboxed runs never reach the network).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use dumcel_engine::config::load::{load_one, normalize};
use dumcel_engine::config::module_manifest::{MODULES_DIR, Manifest, Record};
use dumcel_engine::config::module_source::{self, GitSource, ModuleSource};
use dumcel_engine::config::{Diagnostic, Diagnostics, Module, SourceMap, Span};

use crate::ui::Ui;

/// How deep module calls may nest: the loader's limit, so that a module
/// calling itself through git stops here instead of cloning forever.
const MAX_DEPTH: usize = 16;

/// Installs the modules the stack in the working directory calls. With
/// `upgrade`, git modules are fetched again even if installed from the
/// same source.
pub fn install(ui: &Ui, upgrade: bool) -> anyhow::Result<()> {
    let root = Path::new(".");
    let mut sources = SourceMap::default();
    let module = load_one(root, &mut sources).map_err(|d| ui.fail(&sources, &d))?;
    if module.calls.is_empty() {
        return Ok(());
    }
    println!("{}", ui.bold("Initializing modules..."));
    // An unreadable manifest is replaced: everything is fetched again.
    let previous = Manifest::read(root).ok().flatten().unwrap_or_default();
    let mut installer = Installer {
        root,
        upgrade,
        previous,
        records: Vec::new(),
        sources,
    };
    let root_canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let walked = installer.walk(root, &module, "", None, &[root_canonical]);
    if let Err(d) = walked {
        return Err(ui.fail(&installer.sources, &d));
    }
    Manifest {
        modules: installer.records,
    }
    .write(root)
    .map_err(|e| crate::session::report(format!("writing {MODULES_DIR}/modules.json: {e}")))?;
    Ok(())
}

struct Installer<'a> {
    root: &'a Path,
    upgrade: bool,
    /// What the previous init installed: kept when the source is unchanged.
    previous: Manifest,
    records: Vec<Record>,
    sources: SourceMap,
}

impl Installer<'_> {
    /// Installs the modules `module` (in `dir`, with key `prefix`) calls,
    /// and theirs. `package` is the checkout `dir` is in, if fetched: local
    /// paths may not leave it. `chain` holds the canonical directories from
    /// the root, to stop at a module that reaches itself (the loader names
    /// that mistake).
    fn walk(
        &mut self,
        dir: &Path,
        module: &Module,
        prefix: &str,
        package: Option<&Path>,
        chain: &[PathBuf],
    ) -> Result<(), Diagnostics> {
        let mut names: Vec<&String> = module.calls.keys().collect();
        names.sort();
        for name in names {
            let call = &module.calls[name];
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let span = Some(call.span);
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(Diagnostic::error(
                    format!("Invalid module name \"{name}\""),
                    "A module's name holds letters, digits, underscores and dashes.",
                    span,
                )
                .into());
            }
            if chain.len() > MAX_DEPTH {
                return Err(Diagnostic::error(
                    format!("Modules nest more than {MAX_DEPTH} deep at \"{name}\""),
                    format!("Module {key} is too deep; flatten the module tree."),
                    span,
                )
                .into());
            }
            let (child, child_package) = match module_source::parse(&call.source) {
                Ok(ModuleSource::Local(path)) => {
                    let child = normalize(&dir.join(&path));
                    if let Some(package) = package
                        && !child.starts_with(package)
                    {
                        return Err(Diagnostic::error(
                            "Local module path escapes module package",
                            format!(
                                "The source \"{path}\" of module {key} leaves the repository its caller was fetched from ({}); a fetched module may only call local modules inside it.",
                                package.display()
                            ),
                            span,
                        )
                        .into());
                    }
                    self.record(&key, &call.source, &child);
                    (child, package.map(Path::to_path_buf))
                }
                Ok(ModuleSource::Git(git)) => {
                    let (child, checkout) = self.git(&key, &git, span)?;
                    (child, Some(checkout))
                }
                Err(why) => {
                    return Err(Diagnostic::error(
                        format!(
                            "Module \"{name}\": unsupported source \"{}\"",
                            module_source::redact_url(&call.source)
                        ),
                        why,
                        span,
                    )
                    .into());
                }
            };
            // A missing directory is the loader's to report, after init.
            if !child.is_dir() {
                continue;
            }
            let canonical = std::fs::canonicalize(&child).unwrap_or_else(|_| child.clone());
            if chain.contains(&canonical) {
                continue;
            }
            let child_module = load_one(&child, &mut self.sources)?;
            let mut child_chain = chain.to_vec();
            child_chain.push(canonical);
            self.walk(
                &child,
                &child_module,
                &key,
                child_package.as_deref(),
                &child_chain,
            )?;
        }
        Ok(())
    }

    /// Prints and records where the module with `key` is.
    fn record(&mut self, key: &str, source: &str, dir: &Path) {
        let shown = dir.display().to_string();
        println!("- {key} in {shown}");
        self.records.push(Record {
            key: key.to_owned(),
            source: source.to_owned(),
            version: None,
            dir: shown,
        });
    }

    /// Fetches a git module unless installed from the same source already;
    /// returns the module's directory and its checkout's.
    fn git(
        &mut self,
        key: &str,
        git: &GitSource,
        span: Option<Span>,
    ) -> Result<(PathBuf, PathBuf), Diagnostic> {
        let checkout = normalize(&self.root.join(MODULES_DIR).join(key));
        let child = match &git.subdir {
            Some(sub) => checkout.join(sub),
            None => checkout.clone(),
        };
        let source = git.normalized();
        let installed = self
            .previous
            .get(key)
            .is_some_and(|r| r.source == source && self.root.join(&r.dir).is_dir());
        if !installed || self.upgrade {
            println!("Downloading {} for {key}...", git.display_package());
            fetch(git, &checkout).map_err(|message| {
                Diagnostic::error(
                    "Failed to download module",
                    format!(
                        "Could not download module \"{key}\" source code from \"{}\": {message}",
                        git.display_package()
                    ),
                    span,
                )
            })?;
            if !child.is_dir() {
                return Err(Diagnostic::error(
                    "Failed to download module",
                    format!(
                        "Module \"{key}\": the repository \"{}\" has no directory \"{}\"; fix the path after // in the source.",
                        git.display_package(),
                        git.subdir.as_deref().unwrap_or_default()
                    ),
                    span,
                ));
            }
        }
        self.record(key, &source, &child);
        Ok((child, checkout))
    }
}

/// Clones the repository into `dest` (emptied first) and checks out the
/// ref. On failure `dest` is removed, so nothing half-fetched is loaded.
fn fetch(git: &GitSource, dest: &Path) -> Result<(), String> {
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .map_err(|e| format!("cannot remove the previous copy {}: {e}", dest.display()))?;
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let result = clone_and_checkout(git, dest);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(dest);
    }
    result
}

fn clone_and_checkout(git: &GitSource, dest: &Path) -> Result<(), String> {
    let mut clone = git_command();
    clone.args(["clone", "--quiet"]);
    if let Some(depth) = git.depth {
        // A shallow clone has only the named branch or tag's commits.
        clone.arg("--depth").arg(depth.to_string());
        if let Some(reference) = &git.reference {
            clone.arg("--branch").arg(reference);
        }
    }
    clone.arg("--").arg(&git.url).arg(dest);
    run(clone, git)?;
    if git.depth.is_none()
        && let Some(reference) = &git.reference
    {
        let mut checkout = git_command();
        checkout
            .arg("-C")
            .arg(dest)
            .args(["checkout", "--quiet"])
            .arg(reference)
            .arg("--");
        run(checkout, git)?;
    }
    if dest.join(".gitmodules").is_file() {
        let mut submodules = git_command();
        submodules.arg("-C").arg(dest).args([
            "submodule",
            "update",
            "--init",
            "--recursive",
            "--quiet",
        ]);
        run(submodules, git)?;
    }
    Ok(())
}

/// `git`, never asking for anything: init runs unattended too.
fn git_command() -> Command {
    let mut c = Command::new("git");
    c.env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Runs git; an error carries git's own message, without credentials.
fn run(mut command: Command, git: &GitSource) -> Result<(), String> {
    let output = command.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "the git command was not found; install git to fetch git module sources".to_owned()
        } else {
            format!("cannot run git: {e}")
        }
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .trim()
        .replace(&git.url, &module_source::redact_url(&git.url));
    let message = strip_userinfo(&message, &git.url);
    Err(if message.is_empty() {
        format!("git exited with {}", output.status)
    } else {
        format!("git: {message}")
    })
}

/// Git may show the URL rewritten (`https://user@host/`, no password): an
/// http(s) URL's user name and password, which are credentials (a token as
/// the user name, often), are removed wherever they appear. An ssh URL's
/// user (`git@`) is only a name.
fn strip_userinfo(message: &str, url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return message.to_owned();
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return message.to_owned();
    }
    let authority = rest.split('/').next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return message.to_owned();
    };
    let mut out = message.replace(&format!("{userinfo}@"), "");
    for part in userinfo.split(':').filter(|p| !p.is_empty()) {
        out = out.replace(part, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_git_messages() {
        let url = "https://alice:t0ken@example.com/r.git";
        assert_eq!(
            strip_userinfo(
                "fatal: could not read from 'https://alice:t0ken@example.com/r.git' t0ken",
                url
            ),
            "fatal: could not read from 'https://example.com/r.git' ***"
        );
        assert_eq!(
            strip_userinfo("no url here", "file:///tmp/r.git"),
            "no url here"
        );
    }

    #[test]
    fn paths_read_as_terraform_writes_them() {
        assert_eq!(
            normalize(Path::new("./.dumcel/modules/x/modules/x")),
            Path::new(".dumcel/modules/x/modules/x")
        );
        assert_eq!(
            normalize(Path::new(".dumcel/modules/x/modules/x/../y")),
            Path::new(".dumcel/modules/x/modules/y")
        );
        assert_eq!(normalize(Path::new("./local")), Path::new("local"));
    }
}
