//! Printing: diagnostics with their source lines, progress lines, colours.

use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

use dumcel_engine::config::{Diagnostics, Severity, SourceMap};
use dumcel_engine::hooks::Hooks;
use dumcel_planner::Action;

use crate::progress_lines;

/// An error already shown to the user; main only sets the exit code.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("errors were reported above")
    }
}

impl std::error::Error for Reported {}

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub color: bool,
}

impl Ui {
    pub fn new(no_color: bool) -> Ui {
        Ui {
            color: !no_color
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn render_options(&self) -> dumcel_planner::render::RenderOptions {
        dumcel_planner::render::RenderOptions { color: self.color }
    }

    pub fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    pub fn green(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1;32m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    /// Prints diagnostics to stderr with file:line:col, the line and a caret.
    pub fn diagnostics(&self, sources: &SourceMap, diags: &Diagnostics) {
        progress_lines::flush();
        eprint!("{}", render_diagnostics(sources, diags));
    }

    /// Prints diagnostics and returns the error that says they were reported.
    pub fn fail(&self, sources: &SourceMap, diags: &Diagnostics) -> anyhow::Error {
        self.diagnostics(sources, diags);
        anyhow::Error::new(Reported)
    }
}

pub fn render_diagnostics(sources: &SourceMap, diags: &Diagnostics) -> String {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources
        .files()
        .iter()
        .map(|f| files.add(f.name.clone(), f.text.clone()))
        .collect();
    let config = term::Config::default();
    let mut out = String::new();
    for d in &diags.0 {
        let mut cs = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        }
        .with_message(&d.summary);
        let located = d.span.and_then(|span| {
            let id = *ids.get(span.file as usize)?;
            let text = &sources.get(span.file)?.text;
            let start = (span.start as usize).min(text.len());
            let end = (span.end as usize).clamp(start, text.len());
            Some((id, start..end))
        });
        if let Some((id, range)) = located {
            cs = cs.with_labels(vec![Label::primary(id, range)]);
        }
        if !d.detail.is_empty() {
            cs = cs.with_notes(vec![d.detail.clone()]);
        }
        match term::emit_into_string(&config, &files, &cs) {
            Ok(s) => out.push_str(&s),
            Err(_) => out.push_str(&diags.render_plain(sources)),
        }
        out.push('\n');
    }
    out
}

/// `2s`, `1m5s`, as Terraform prints elapsed time.
struct Elapsed(Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        if s >= 60 {
            write!(f, "{}m{}s", s / 60, s % 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

fn verb(action: Action) -> (&'static str, &'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Still creating...", "Creation complete"),
        Action::Update => (
            "Modifying...",
            "Still modifying...",
            "Modifications complete",
        ),
        Action::Replace => ("Replacing...", "Still replacing...", "Replacement complete"),
        Action::Delete => (
            "Destroying...",
            "Still destroying...",
            "Destruction complete",
        ),
        Action::Read | Action::NoOp => ("Reading...", "Still reading...", "Read complete"),
    }
}

/// Progress lines while plan and apply run, on stdout (in batches: see
/// `progress_lines`).
pub struct ProgressHooks {
    pub quiet: bool,
}

/// ` [id=ID]` when there is an id.
struct Id<'a>(Option<&'a str>);

impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " [id={id}]"),
            None => Ok(()),
        }
    }
}

impl ProgressHooks {
    /// Formatted straight into the batch: an apply prints two lines per
    /// resource.
    fn line(&self, line: fmt::Arguments<'_>) {
        if !self.quiet {
            progress_lines::print(line);
        }
    }
}

impl Hooks for ProgressHooks {
    fn refreshing(&self, address: &str, id: Option<&str>) {
        self.line(format_args!("{address}: Refreshing state...{}", Id(id)));
    }

    fn applying(&self, address: &str, action: Action) {
        self.line(format_args!("{address}: {}", verb(action).0));
    }

    fn still_applying(&self, address: &str, action: Action, e: Duration) {
        self.line(format_args!(
            "{address}: {} [{} elapsed]",
            verb(action).1,
            Elapsed(e)
        ));
    }

    fn applied(&self, address: &str, action: Action, e: Duration, id: Option<&str>) {
        self.line(format_args!(
            "{address}: {} after {}{}",
            verb(action).2,
            Elapsed(e),
            Id(id)
        ));
    }

    fn failed(&self, address: &str, _action: Action, e: Duration, message: &str) {
        let first = message.lines().next().unwrap_or(message);
        self.line(format_args!(
            "{address}: Failed after {}: {first}",
            Elapsed(e)
        ));
    }

    fn progress(&self, address: &str, line: &str) {
        self.line(format_args!("{address}: {line}"));
    }

    fn warning(&self, message: &str) {
        progress_lines::flush();
        eprintln!("Warning: {message}");
    }
}
