//! Errors and warnings about the user's configuration, each with the span it
//! is about and a hint saying what to do. The CLI renders them with the
//! source line and a caret.

use std::fmt;

use super::source::{SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: String,
    /// More about it, and what to do.
    pub detail: String,
    pub span: Option<Span>,
}

impl Diagnostic {
    pub fn error(
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Span>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            span,
        }
    }

    pub fn warning(
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Span>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail, span)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A set of diagnostics; an `Err` of it means at least one is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn error(
        &mut self,
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Span>,
    ) {
        self.0.push(Diagnostic::error(summary, detail, span));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err(self)` when any is an error, else the warnings.
    pub fn into_result(self) -> Result<Diagnostics, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(self)
        }
    }

    /// Plain text, one `file:line:col: summary` line and detail per diagnostic.
    pub fn render_plain(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        for d in &self.0 {
            let kind = match d.severity {
                Severity::Error => "Error",
                Severity::Warning => "Warning",
            };
            match d.span {
                Some(span) => out.push_str(&format!(
                    "{kind}: {}: {}\n",
                    sources.describe(span),
                    d.summary
                )),
                None => out.push_str(&format!("{kind}: {}\n", d.summary)),
            }
            if !d.detail.is_empty() {
                out.push_str(&format!("  {}\n", d.detail));
            }
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{}", d.summary)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
