//! Line-based layout: indentation, spacing between tokens and alignment of
//! `=` signs and trailing comments, following the rules of `terraform fmt`.
//!
//! Every source line is split into up to three cells:
//!
//! - `lead`: everything before the other two cells;
//! - `assign`: from the first `=` (not at the start of the line) to the end,
//!   but only when the brackets after that `=` are balanced, i.e. the line
//!   holds a whole single-line attribute or object item;
//! - `comment`: a trailing `#` / `//` comment after some other tokens.
//!
//! The `assign` cells of consecutive lines are aligned in one column, and so
//! are the `comment` cells. Any line without such a cell (a blank line, a
//! comment line, a block header, a multi-line value, ...) ends the group.

use super::lexer::{Kind, Token};

/// Two spaces per indentation level.
const INDENT: usize = 2;

#[derive(Debug, Default)]
struct Line<'a> {
    lead: Vec<Token<'a>>,
    assign: Vec<Token<'a>>,
    comment: Option<Token<'a>>,
    /// Whether the line was terminated by a line break in the input.
    newline: bool,
}

/// Lays the tokens out and renders them. Line breaks stay as written, at
/// the end of the file too (as `terraform fmt` leaves them); blank lines
/// lose their spaces.
pub(super) fn render(tokens: Vec<Token<'_>>) -> String {
    let mut lines = split_lines(tokens);
    quote_block_labels(&mut lines);
    indent(&mut lines);
    space(&mut lines);
    align(&mut lines);

    let mut out = String::new();
    for line in &lines {
        for token in line.lead.iter().chain(&line.assign).chain(&line.comment) {
            out.extend(std::iter::repeat_n(' ', token.spaces));
            out.push_str(&token.text);
        }
        if line.newline {
            out.push('\n');
        }
    }
    out
}

/// Old-style bare block labels (`resource aws_s3_bucket b {`) are quoted,
/// as `terraform fmt` quotes them: a line that is a block header, a name
/// then labels then `{`.
fn quote_block_labels(lines: &mut [Line<'_>]) {
    for line in lines {
        let lead = &mut line.lead;
        let Some(open) = lead.iter().position(|t| t.kind == Kind::OBrace) else {
            continue;
        };
        // `for k in {} :` opens a for expression, not a block.
        let header = open >= 2
            && lead[0].kind == Kind::Ident
            && lead[0].text != "for"
            && lead[1..open]
                .iter()
                .all(|t| matches!(t.kind, Kind::Ident | Kind::String));
        if !header {
            continue;
        }
        for label in &mut lead[1..open] {
            if label.kind == Kind::Ident {
                label.text = format!("\"{}\"", label.text).into();
                label.kind = Kind::String;
            }
        }
    }
}

fn split_lines(tokens: Vec<Token<'_>>) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut current = Line::default();
    for token in tokens {
        if token.kind == Kind::Newline {
            current.newline = true;
            lines.push(std::mem::take(&mut current));
        } else {
            current.lead.push(token);
        }
    }
    if !current.lead.is_empty() {
        lines.push(current);
    }

    for line in &mut lines {
        if line.lead.len() > 1
            && line
                .lead
                .last()
                .is_some_and(|t| t.kind == Kind::LineComment)
        {
            line.comment = line.lead.pop();
        }
        let equal = line
            .lead
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, t)| t.kind == Kind::Equal)
            .map(|(i, _)| i);
        if let Some(i) = equal {
            let net: i32 = line.lead[i..].iter().map(|t| t.kind.bracket_change()).sum();
            if net == 0 {
                line.assign = line.lead.split_off(i);
            }
        }
    }
    lines
}

/// Indentation from bracket nesting: a line that opens brackets (net) indents
/// the following lines by one level, however many it opened; a line that
/// closes brackets is itself indented at the outer level.
fn indent(lines: &mut [Line<'_>]) {
    // For every open indentation level, how many brackets opened it.
    let mut levels: Vec<i32> = Vec::new();
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        let net: i32 = line
            .lead
            .iter()
            .chain(&line.assign)
            .map(|t| t.kind.bracket_change())
            .sum();
        if net > 0 {
            line.lead[0].spaces = INDENT * levels.len();
            levels.push(net);
            continue;
        }
        let mut closed = -net;
        while closed > 0 {
            let Some(top) = levels.last_mut() else {
                break;
            };
            if closed >= *top {
                closed -= *top;
                levels.pop();
            } else {
                *top -= closed;
                closed = 0;
            }
        }
        line.lead[0].spaces = INDENT * levels.len();
    }
}

fn space(lines: &mut [Line<'_>]) {
    for line in lines {
        space_cell(&mut line.lead);
        if let Some(first) = line.assign.first_mut() {
            first.spaces = 1;
        }
        space_cell(&mut line.assign);
    }
}

/// Sets the spaces before every token of a cell but the first.
fn space_cell(cell: &mut [Token<'_>]) {
    for i in 1..cell.len() {
        let before = i.checked_sub(2).map(|j| cell[j].kind);
        let spaced = space_between(&cell[i - 1], before, &cell[i]);
        cell[i].spaces = usize::from(spaced);
    }
}

/// Whether there is a space between `subject` and the token `after` it;
/// `before` is the kind of the token before `subject` in the same cell.
fn space_between(subject: &Token<'_>, before: Option<Kind>, after: &Token<'_>) -> bool {
    use Kind::*;
    let (s, a) = (subject.kind, after.kind);
    match () {
        // A function name and its argument list.
        () if s == Ident && a == OParen => false,
        // Namespaced function names (`provider::name::func`).
        () if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) => false,
        () if s == Dot || a == Dot => false,
        () if a == Comma || a == Ellipsis => false,
        () if s == Comma => true,
        // `in` of a for expression is a keyword even before a tuple.
        () if s == Ident && subject.text == "in" && before == Some(Ident) => true,
        // Index brackets stick to what they index.
        () if a == OBrack && (s == Ident || s == Number || s.bracket_change() < 0) => false,
        () if s == Bang => false,
        // A minus that cannot end an operand is a negation.
        () if s == Minus => !matches!(
            before,
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | Gt
                    | Ge
                    | Lt
                    | Le
                    | And
                    | Or
                    | Bang
            )
        ),
        // Braces are padded (`{ a = 1 }`), except an empty pair (`{}`).
        () if s == OBrace || a == CBrace => !(s == OBrace && a == CBrace),
        () if s.bracket_change() > 0 => false,
        () if a.bracket_change() < 0 => false,
        () => true,
    }
}

fn columns(cell: &[Token<'_>]) -> usize {
    cell.iter().map(|t| t.spaces + t.width()).sum()
}

/// Aligns the `assign` cells, then the `comment` cells, of consecutive lines.
fn align(lines: &mut [Line<'_>]) {
    for group in groups(lines, |line| !line.assign.is_empty()) {
        let lines = &mut lines[group];
        let width = lines.iter().map(|l| columns(&l.lead)).max().unwrap_or(0);
        for line in lines {
            let lead = columns(&line.lead);
            line.assign[0].spaces = width - lead + 1;
        }
    }
    for group in groups(lines, |line| line.comment.is_some()) {
        let lines = &mut lines[group];
        let code = |l: &Line<'_>| columns(&l.lead) + columns(&l.assign);
        let width = lines.iter().map(code).max().unwrap_or(0);
        for line in lines {
            let spaces = width - code(line) + 1;
            if let Some(comment) = &mut line.comment {
                comment.spaces = spaces;
            }
        }
    }
}

/// The ranges of consecutive lines satisfying `member`.
fn groups(lines: &[Line<'_>], member: impl Fn(&Line<'_>) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = None;
    for (i, line) in lines.iter().enumerate() {
        match (member(line), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                groups.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        groups.push(s..lines.len());
    }
    groups
}
