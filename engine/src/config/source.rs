//! The text of every loaded file, so diagnostics can say `file:line:col` and
//! show the line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A byte range in one loaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: u32, range: std::ops::Range<usize>) -> Span {
        Span {
            file,
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the working directory when possible).
    pub name: String,
    pub path: PathBuf,
    /// Shared: a stack keeps its sources for its diagnostics, and the command
    /// keeps them too for errors raised before the stack exists. An 11 MB
    /// file was copied for that (bench/README.md).
    pub text: Arc<str>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: &Path, name: String, text: String) -> u32 {
        self.files.push(SourceFile {
            name,
            path: path.to_path_buf(),
            text: text.into(),
        });
        (self.files.len() - 1) as u32
    }

    pub fn get(&self, file: u32) -> Option<&SourceFile> {
        self.files.get(file as usize)
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// 1-based line and column of a span's start.
    pub fn line_col(&self, span: Span) -> Option<(usize, usize)> {
        let text = &self.get(span.file)?.text;
        let start = (span.start as usize).min(text.len());
        let before = text.get(..start)?;
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count() + 1)
            .unwrap_or(1);
        Some((line, col))
    }

    /// `main.hcl:3:13` for messages without the source excerpt.
    pub fn describe(&self, span: Span) -> String {
        match (self.get(span.file), self.line_col(span)) {
            (Some(f), Some((l, c))) => format!("{}:{l}:{c}", f.name),
            _ => "<unknown>".to_owned(),
        }
    }

    /// The source text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }
}
