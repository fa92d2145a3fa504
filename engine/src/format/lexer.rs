//! A small HCL tokenizer for the formatter.
//!
//! It only needs to be precise about where tokens begin and end, not about
//! their meaning: the formatter only ever changes the whitespace *between*
//! tokens. String literals, templates and heredocs are kept as single opaque
//! tokens (including any `${...}` / `%{...}` sequences and nested strings
//! inside them), so their content can never be touched.
//!
//! The tokenizer is only run on input that `hcl-edit` already accepted, so it
//! does not try to produce good diagnostics: any surprise is reported as a
//! bare [`LexError`] and the formatter then leaves the source alone.

use std::borrow::Cow;

/// The kind of a token, as far as layout decisions are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A line break (`\n` or `\r\n`).
    Newline,
    /// `# ...` or `// ...` up to (not including) the line break.
    LineComment,
    /// `/* ... */`, possibly spanning several lines.
    BlockComment,
    /// An identifier or keyword.
    Ident,
    /// A number literal.
    Number,
    /// A whole quoted string or template, `"..."`.
    String,
    /// A whole heredoc, from `<<` up to and including its closing marker.
    Heredoc,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    Comma,
    /// `=` (attribute / object item assignment).
    Equal,
    Dot,
    Ellipsis,
    DoubleColon,
    Colon,
    Question,
    FatArrow,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    EqualOp,
    NotEqual,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// Anything else (never produced for valid HCL).
    Other,
}

impl Kind {
    /// How the token changes the bracket nesting depth.
    pub(super) fn bracket_change(self) -> i32 {
        match self {
            Kind::OBrace | Kind::OBrack | Kind::OParen => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen => -1,
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub(super) kind: Kind,
    pub(super) text: Cow<'a, str>,
    /// Number of spaces written before the token (set by the layout pass).
    pub(super) spaces: usize,
}

impl Token<'_> {
    /// The number of columns the token occupies (one per `char`).
    pub(super) fn width(&self) -> usize {
        self.text.chars().count()
    }
}

/// The input could not be tokenized (unterminated string, heredoc, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LexError {
    pub(super) offset: usize,
}

/// Splits `src` into tokens. Whitespace other than line breaks is dropped.
pub(super) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, LexError> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

/// Whether `c` may start an identifier. Non-ASCII characters are accepted
/// liberally: the input has already been validated by the real parser.
fn is_id_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || (!c.is_ascii() && !c.is_whitespace())
}

fn is_id_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || (!c.is_ascii() && !c.is_whitespace())
}

const PUNCTUATION: &[(&str, Kind)] = &[
    ("...", Kind::Ellipsis),
    ("::", Kind::DoubleColon),
    ("==", Kind::EqualOp),
    ("!=", Kind::NotEqual),
    ("<=", Kind::Le),
    (">=", Kind::Ge),
    ("&&", Kind::And),
    ("||", Kind::Or),
    ("=>", Kind::FatArrow),
    ("{", Kind::OBrace),
    ("}", Kind::CBrace),
    ("[", Kind::OBrack),
    ("]", Kind::CBrack),
    ("(", Kind::OParen),
    (")", Kind::CParen),
    (",", Kind::Comma),
    ("=", Kind::Equal),
    (".", Kind::Dot),
    (":", Kind::Colon),
    ("?", Kind::Question),
    ("+", Kind::Plus),
    ("-", Kind::Minus),
    ("*", Kind::Star),
    ("/", Kind::Slash),
    ("%", Kind::Percent),
    ("!", Kind::Bang),
    ("<", Kind::Lt),
    (">", Kind::Gt),
];

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn rest_at(&self, pos: usize) -> &'a str {
        &self.src[pos..]
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.rest_at(pos).chars().next()
    }

    fn token(&mut self, kind: Kind, start: usize, end: usize) -> Token<'a> {
        self.pos = end;
        Token {
            kind,
            text: Cow::Borrowed(&self.src[start..end]),
            spaces: 0,
        }
    }

    fn next_token(&mut self) -> Result<Option<Token<'a>>, LexError> {
        loop {
            let start = self.pos;
            let rest = self.rest_at(start);
            let Some(c) = rest.chars().next() else {
                return Ok(None);
            };
            let token = match c {
                ' ' | '\t' => {
                    self.pos += 1;
                    continue;
                }
                '\r' if rest.starts_with("\r\n") => self.token(Kind::Newline, start, start + 2),
                '\r' => {
                    self.pos += 1;
                    continue;
                }
                '\n' => self.token(Kind::Newline, start, start + 1),
                '#' => self.line_comment(start),
                '/' if rest.starts_with("//") => self.line_comment(start),
                '/' if rest.starts_with("/*") => self.block_comment(start)?,
                '"' => {
                    let end = self.scan_string(start)?;
                    self.token(Kind::String, start, end)
                }
                '<' if self.heredoc_start(start).is_some() => {
                    let end = self.scan_heredoc(start)?;
                    self.token(Kind::Heredoc, start, end)
                }
                '0'..='9' => {
                    let end = self.scan_number(start);
                    self.token(Kind::Number, start, end)
                }
                c if is_id_start(c) => {
                    let len: usize = rest
                        .chars()
                        .take_while(|&c| is_id_continue(c))
                        .map(char::len_utf8)
                        .sum();
                    self.token(Kind::Ident, start, start + len)
                }
                _ => match PUNCTUATION.iter().find(|(p, _)| rest.starts_with(p)) {
                    Some(&(p, kind)) => self.token(kind, start, start + p.len()),
                    None => self.token(Kind::Other, start, start + c.len_utf8()),
                },
            };
            return Ok(Some(token));
        }
    }

    /// `#` or `//` comment; the line break is not part of it. Its trailing
    /// whitespace is kept, as `terraform fmt` keeps it.
    fn line_comment(&mut self, start: usize) -> Token<'a> {
        let end = self
            .rest_at(start)
            .find('\n')
            .map_or(self.src.len(), |i| start + i);
        self.pos = end;
        Token {
            kind: Kind::LineComment,
            text: Cow::Borrowed(self.src[start..end].trim_end_matches('\r')),
            spaces: 0,
        }
    }

    /// `/* ... */`, kept as written (`terraform fmt` keeps its lines'
    /// trailing whitespace too).
    fn block_comment(&mut self, start: usize) -> Result<Token<'a>, LexError> {
        let close = self
            .rest_at(start + 2)
            .find("*/")
            .ok_or(LexError { offset: start })?;
        let end = start + 2 + close + 2;
        self.pos = end;
        let text = Cow::Borrowed(&self.src[start..end]);
        Ok(Token {
            kind: Kind::BlockComment,
            text,
            spaces: 0,
        })
    }

    fn scan_number(&self, start: usize) -> usize {
        let bytes = self.src.as_bytes();
        let digits = |mut i: usize| {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let is_digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let mut end = digits(start);
        if bytes.get(end) == Some(&b'.') && is_digit(end + 1) {
            end = digits(end + 1);
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            if is_digit(end + 1) {
                end = digits(end + 1);
            } else if matches!(bytes.get(end + 1), Some(b'+' | b'-')) && is_digit(end + 2) {
                end = digits(end + 2);
            }
        }
        end
    }

    /// Scans a quoted string starting at the `"` at `start`; returns the
    /// offset just past the closing quote.
    fn scan_string(&self, start: usize) -> Result<usize, LexError> {
        let err = LexError { offset: start };
        let mut pos = start + 1;
        loop {
            let rest = self.rest_at(pos);
            let c = rest.chars().next().ok_or(err)?;
            match c {
                '"' => return Ok(pos + 1),
                '\\' => {
                    let escaped = self.char_at(pos + 1).ok_or(err)?;
                    pos += 1 + escaped.len_utf8();
                }
                _ if rest.starts_with("$${") || rest.starts_with("%%{") => pos += 3,
                _ if rest.starts_with("${") || rest.starts_with("%{") => {
                    pos = self.scan_template_sequence(pos + 2)?;
                }
                _ => pos += c.len_utf8(),
            }
        }
    }

    /// Scans the inside of a `${ ... }` or `%{ ... }` sequence starting after
    /// its opening; returns the offset just past the matching `}`.
    fn scan_template_sequence(&self, start: usize) -> Result<usize, LexError> {
        let err = LexError { offset: start };
        let mut depth = 0usize;
        let mut pos = start;
        loop {
            let rest = self.rest_at(pos);
            let c = rest.chars().next().ok_or(err)?;
            match c {
                '"' => pos = self.scan_string(pos)?,
                '<' if self.heredoc_start(pos).is_some() => pos = self.scan_heredoc(pos)?,
                '#' => pos += rest.find('\n').unwrap_or(rest.len()),
                '/' if rest.starts_with("//") => pos += rest.find('\n').unwrap_or(rest.len()),
                '/' if rest.starts_with("/*") => {
                    pos += 2 + rest[2..].find("*/").ok_or(err)? + 2;
                }
                '{' => {
                    depth += 1;
                    pos += 1;
                }
                '}' if depth == 0 => return Ok(pos + 1),
                '}' => {
                    depth -= 1;
                    pos += 1;
                }
                _ => pos += c.len_utf8(),
            }
        }
    }

    /// If a heredoc starts at `start` (`<<ID` or `<<-ID` then a line break),
    /// returns its delimiter and the offset where its content begins.
    fn heredoc_start(&self, start: usize) -> Option<(&'a str, usize)> {
        let rest = self.rest_at(start).strip_prefix("<<")?;
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        let first = rest.chars().next()?;
        if !is_id_start(first) {
            return None;
        }
        let len: usize = rest
            .chars()
            .take_while(|&c| is_id_continue(c))
            .map(char::len_utf8)
            .sum();
        let delimiter = &rest[..len];
        let after = &rest[len..];
        let newline = if after.starts_with('\n') {
            1
        } else if after.starts_with("\r\n") {
            2
        } else {
            return None;
        };
        let content = self.src.len() - after.len() + newline;
        Some((delimiter, content))
    }

    /// Scans a heredoc starting at the `<<` at `start`; returns the offset
    /// just past its closing delimiter.
    fn scan_heredoc(&self, start: usize) -> Result<usize, LexError> {
        let err = LexError { offset: start };
        let (delimiter, content) = self.heredoc_start(start).ok_or(err)?;
        // Like the parser, prefer a non-empty template closed by a later
        // delimiter line; a delimiter on the very first line only closes an
        // empty heredoc when no later one does.
        self.scan_heredoc_body(content, delimiter)
            .or_else(|e| self.closing_delimiter_at(content, delimiter).ok_or(e))
    }

    fn scan_heredoc_body(&self, content: usize, delimiter: &str) -> Result<usize, LexError> {
        let err = LexError { offset: content };
        let mut pos = content;
        loop {
            let rest = self.rest_at(pos);
            let c = rest.chars().next().ok_or(err)?;
            let line_break = if c == '\n' {
                1
            } else if rest.starts_with("\r\n") {
                2
            } else {
                0
            };
            if line_break > 0 {
                pos += line_break;
                if let Some(end) = self.closing_delimiter_at(pos, delimiter) {
                    return Ok(end);
                }
            } else if rest.starts_with("$${") || rest.starts_with("%%{") {
                pos += 3;
            } else if rest.starts_with("${") || rest.starts_with("%{") {
                pos = self.scan_template_sequence(pos + 2)?;
            } else {
                pos += c.len_utf8();
            }
        }
    }

    /// If the line starting at `pos` is the closing `delimiter` (optionally
    /// indented), returns the offset just past the delimiter.
    fn closing_delimiter_at(&self, pos: usize, delimiter: &str) -> Option<usize> {
        let rest = self.rest_at(pos);
        let trimmed = rest.trim_start_matches([' ', '\t']);
        let after = trimmed.strip_prefix(delimiter)?;
        if after.chars().next().is_some_and(is_id_continue) {
            return None;
        }
        Some(self.src.len() - after.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        tokenize(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text.into_owned()))
            .collect()
    }

    #[test]
    fn punctuation_and_words() {
        let got = kinds("a-b = x...  != -1.5e3 :: <= => foo.0");
        let want = [
            (Kind::Ident, "a-b"),
            (Kind::Equal, "="),
            (Kind::Ident, "x"),
            (Kind::Ellipsis, "..."),
            (Kind::NotEqual, "!="),
            (Kind::Minus, "-"),
            (Kind::Number, "1.5e3"),
            (Kind::DoubleColon, "::"),
            (Kind::Le, "<="),
            (Kind::FatArrow, "=>"),
            (Kind::Ident, "foo"),
            (Kind::Dot, "."),
            (Kind::Number, "0"),
        ];
        let want: Vec<_> = want.iter().map(|(k, s)| (*k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn strings_are_opaque() {
        let src = r#"x = "a ${ "}" } \" %{ if b }{%{ endif } $${x" # c"#;
        let got = kinds(src);
        assert_eq!(got[2].0, Kind::String);
        assert_eq!(got[2].1, r#""a ${ "}" } \" %{ if b }{%{ endif } $${x""#);
        assert_eq!(got[3], (Kind::LineComment, "# c".to_string()));
    }

    #[test]
    fn heredocs_are_opaque() {
        let src = "x = <<-EOT\n   a = {\n  ${ \"\n\" }\n  EOTX\n  EOT\ny = 1\n";
        let got = kinds(src);
        assert_eq!(got[2].0, Kind::Heredoc);
        assert_eq!(
            got[2].1,
            "<<-EOT\n   a = {\n  ${ \"\n\" }\n  EOTX\n  EOT".to_string()
        );
        assert_eq!(got[3].0, Kind::Newline);
        assert_eq!(got[4], (Kind::Ident, "y".to_string()));
    }

    #[test]
    fn empty_heredoc() {
        let got = kinds("x = <<EOT\nEOT\n");
        assert_eq!(got[2], (Kind::Heredoc, "<<EOT\nEOT".to_string()));
    }

    #[test]
    fn comments() {
        let got = kinds("a // one  \r\n/* two  \n three */ b # four");
        let want = [
            (Kind::Ident, "a"),
            (Kind::LineComment, "// one  "),
            (Kind::Newline, "\n"),
            (Kind::BlockComment, "/* two  \n three */"),
            (Kind::Ident, "b"),
            (Kind::LineComment, "# four"),
        ];
        let want: Vec<_> = want.iter().map(|(k, s)| (*k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn unterminated_input_is_an_error() {
        assert!(tokenize("x = \"abc").is_err());
        assert!(tokenize("x = <<EOT\nabc\n").is_err());
        assert!(tokenize("/* abc").is_err());
    }
}
