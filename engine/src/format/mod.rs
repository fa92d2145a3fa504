//! `dumcel fmt`: rewrites HCL source into the canonical layout, the one
//! `terraform fmt` produces.
//!
//! Only whitespace between tokens changes:
//!
//! - two spaces of indentation per level of bracket nesting (block bodies,
//!   objects, multi-line tuples and function calls); a line that closes
//!   brackets is indented at the outer level;
//! - canonical spacing between tokens on a line (`a = b`, `f(a, b)`,
//!   `{ a = 1 }`, `x[0]`, `-1`, `!x`, `a ? b : c`, ...);
//! - the `=` of consecutive single-line attributes / object items aligned in
//!   one column, and likewise consecutive trailing comments;
//! - no trailing whitespace outside comments, strings and heredocs; line
//!   breaks and blank lines are kept as they are, at the end of the file too.
//!
//! Comments stay where they are (re-indented with their line). String
//! literals, templates (including their `${...}` and `%{...}` sequences) and
//! heredocs are never touched.
//!
//! Unlike `terraform fmt`, spacing inside `${...}` / `%{...}` sequences is
//! left as written, since templates are never touched.
//!
//! As a safety net the result is parsed again and must describe exactly the
//! same configuration as the input; if it does not, the input is returned
//! unchanged.

mod layout;
mod lexer;

#[cfg(test)]
mod tests;

/// The source is not valid HCL.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A syntax error at a (one-based) line and column.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Rewrites HCL source into the canonical style. Comments are preserved
/// exactly, trailing whitespace included, as `terraform fmt` keeps them. Idempotent: `format(format(x)) == format(x)`.
///
/// # Errors
///
/// [`FormatError::Syntax`] if `source` is not valid HCL.
pub fn format_source(source: &str) -> Result<String, FormatError> {
    let before = parse(source)?;
    let Some(formatted) = format_unchecked(source) else {
        tracing::warn!("formatter could not tokenize valid HCL; leaving it unformatted");
        return Ok(source.to_owned());
    };
    Ok(checked(source, &before, formatted))
}

/// The safety net: `formatted` if it describes the same configuration as
/// `source` (whose parsed form is `before`), otherwise `source` unchanged.
fn checked(source: &str, before: &hcl::Body, formatted: String) -> String {
    match parse(&formatted) {
        Ok(after) if after == *before => formatted,
        Ok(_) => {
            tracing::warn!(
                "formatting would change the meaning of the file; leaving it unformatted"
            );
            source.to_owned()
        }
        Err(error) => {
            tracing::warn!(%error, "formatted file does not parse; leaving it unformatted");
            source.to_owned()
        }
    }
}

fn parse(source: &str) -> Result<hcl::Body, FormatError> {
    let body = hcl_edit::parser::parse_body(source).map_err(|e| FormatError::Syntax {
        line: e.location().line(),
        column: e.location().column(),
        message: e.message().to_owned(),
    })?;
    let mut body = hcl::Body::from(body);
    quote_labels(&mut body);
    Ok(body)
}

/// `resource aws_s3_bucket b {` and `resource "aws_s3_bucket" "b" {` mean
/// the same; `fmt` quotes the first as `terraform fmt` does, so the safety
/// net compares labels without their quoting.
fn quote_labels(body: &mut hcl::Body) {
    for structure in body.0.iter_mut() {
        if let hcl::Structure::Block(block) = structure {
            for label in &mut block.labels {
                if let hcl::BlockLabel::Identifier(id) = label {
                    *label = hcl::BlockLabel::String(id.as_str().to_owned());
                }
            }
            quote_labels(&mut block.body);
        }
    }
}

/// Formats without any check of the result; `None` if the source cannot be
/// tokenized (which does not happen for source the parser accepts).
fn format_unchecked(source: &str) -> Option<String> {
    let tokens = lexer::tokenize(source).ok()?;
    Some(layout::render(tokens))
}
