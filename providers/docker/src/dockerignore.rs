//! `.dockerignore`: which files of a build context are left out, with the
//! Docker CLI's rules: one pattern a line (`#` comments), `*` and `?` within a
//! path segment, `**` across segments, `!` to take a path back in, the last
//! matching line wins, and a pattern that matches a directory covers
//! everything under it. The Dockerfile and `.dockerignore` are always sent.
//!
//! The patterns come from the build context, which may be an untrusted
//! branch's checkout, so matching must not backtrack: each line is rewritten
//! segment by segment into `globset` syntax (which compiles to a regex and
//! matches in linear time) with the exact meaning Docker gives it. The
//! rewrite spells every literal and class member out so that globset's own
//! extras (`{a,b}` alternates, `[[:alpha:]]`, `**` inside a segment) never
//! apply.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone)]
pub struct Ignore {
    /// One glob per rule that can match something, in file order.
    set: GlobSet,
    /// Whether the glob at the same index in `set` is a `!` exception.
    negate: Vec<bool>,
    /// Relative paths sent whatever the patterns say.
    always: Vec<String>,
}

impl Ignore {
    /// The rules of `root/.dockerignore` (none when there is no such file).
    pub fn load(root: &Path, dockerfile: &str) -> io::Result<Ignore> {
        let text = match std::fs::read_to_string(root.join(".dockerignore")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        Ignore::parse(&text, dockerfile)
    }

    /// The rules of a `.dockerignore` text. Fails only when the patterns are
    /// too large to compile (globset's regex size limit), as Docker refuses a
    /// pattern it cannot compile.
    pub fn parse(text: &str, dockerfile: &str) -> io::Result<Ignore> {
        let mut set = GlobSetBuilder::new();
        let mut negate = Vec::new();
        let lines = text.lines().enumerate().map(|(n, l)| (n + 1, l.trim()));
        for (number, line) in lines.filter(|(_, l)| !l.is_empty() && !l.starts_with('#')) {
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let Some(glob) = translate(pattern) else {
                continue;
            };
            let glob = GlobBuilder::new(&glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| invalid(number, e))?;
            set.add(glob);
            negate.push(negated);
        }
        Ok(Ignore {
            set: set.build().map_err(|e| invalid(0, e))?,
            negate,
            always: vec![normalize(dockerfile), ".dockerignore".to_owned()],
        })
    }

    /// Whether any rule takes paths back in (then an excluded directory must
    /// still be walked).
    pub fn has_exceptions(&self) -> bool {
        self.negate.iter().any(|&n| n)
    }

    /// Whether the entry at `rel` (relative, `/`-separated) is left out.
    pub fn excludes(&self, rel: &str) -> bool {
        if self.always.iter().any(|a| a == rel) {
            return false;
        }
        // A pattern matching the path or one of its parent directories; of
        // all the rules that match, the last one decides.
        let ends = rel.match_indices('/').map(|(i, _)| i).chain([rel.len()]);
        let mut hits = Vec::new();
        let mut last = None;
        for end in ends {
            self.set.matches_into(&rel[..end], &mut hits);
            last = last.max(hits.iter().copied().max());
        }
        last.is_some_and(|i| !self.negate[i])
    }
}

fn invalid(line: usize, e: globset::Error) -> io::Error {
    let at = if line == 0 {
        String::new()
    } else {
        format!(" line {line}:")
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(".dockerignore:{at} {e}"),
    )
}

fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A `.dockerignore` pattern as a globset glob with the same meaning, or
/// `None` when it can match nothing (no segments left after cleaning, or an
/// empty character class).
///
/// Segments are cleaned as Docker does (a leading `/`, empty and `.`
/// segments dropped). A segment that is exactly `**` spans any number of
/// segments, consecutive ones collapse into one, and trailing ones are
/// dropped: a rule also covers everything under what it matches, so `a/**`
/// means `a`. Inside a segment, a run of stars is one `*`.
fn translate(pattern: &str) -> Option<String> {
    let mut segments: Vec<&str> = Vec::new();
    for s in pattern.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if !(s == "**" && segments.last() == Some(&"**")) {
            segments.push(s);
        }
    }
    if segments.is_empty() {
        return None;
    }
    while segments.len() > 1 && segments.last() == Some(&"**") {
        segments.pop();
    }
    let mut glob = String::new();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            glob.push('/');
        }
        if *segment == "**" {
            glob.push_str("**");
        } else {
            glob.push_str(&translate_segment(segment)?);
        }
    }
    Some(glob)
}

/// One segment: `*` any run of characters, `?` one character, `[abc]` /
/// `[a-z]` / `[^a]` / `[!a]` a class (an unclosed `[` is a literal), `\`
/// escapes the next character (a trailing one is a literal).
fn translate_segment(segment: &str) -> Option<String> {
    let chars: Vec<char> = segment.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
                out.push('*');
                continue;
            }
            '?' => out.push('?'),
            '[' => {
                if let Some(len) = chars[i + 1..].iter().position(|&c| c == ']') {
                    out.push_str(&class(&chars[i + 1..i + 1 + len])?);
                    i += len + 2;
                    continue;
                }
                literal(&mut out, '[');
            }
            '\\' if i + 1 < chars.len() => {
                literal(&mut out, chars[i + 1]);
                i += 1;
            }
            c => literal(&mut out, c),
        }
        i += 1;
    }
    Some(out)
}

/// A literal character, escaped unless it is alphanumeric.
fn literal(out: &mut String, c: char) {
    if !c.is_alphanumeric() {
        out.push('\\');
    }
    out.push(c);
}

/// Characters that globset reads specially inside a class when they stand at
/// an end of a range or first: each is emitted on its own, where it is plain.
const AWKWARD: [char; 5] = [']', '-', '!', '^', '['];

/// The text between `[` and the first `]`, as a globset class (or a glob
/// equal to it); `None` for a class that matches nothing.
///
/// Docker's reading: a leading `^` or `!` negates; `x-y` is a range (one
/// whose end comes before its start matches nothing); any other character,
/// `-` at either end included, stands for itself.
fn class(content: &[char]) -> Option<String> {
    let (negated, content) = match content.split_first() {
        Some(('^' | '!', rest)) => (true, rest),
        _ => (false, content),
    };
    let mut ranges: Vec<(char, char)> = Vec::new();
    let mut i = 0;
    while i < content.len() {
        if i + 2 < content.len() && content[i + 1] == '-' {
            if content[i] <= content[i + 2] {
                ranges.push((content[i], content[i + 2]));
            }
            i += 3;
        } else {
            ranges.push((content[i], content[i]));
            i += 1;
        }
    }
    // Take the awkward characters out of the ranges, to be placed by hand.
    let mut awkward = [false; AWKWARD.len()];
    for (k, &c) in AWKWARD.iter().enumerate() {
        let mut split = Vec::new();
        for &(lo, hi) in &ranges {
            if lo <= c && c <= hi {
                awkward[k] = true;
                if lo < c {
                    split.push((lo, prev_char(c)));
                }
                if c < hi {
                    split.push((next_char(c), hi));
                }
            } else {
                split.push((lo, hi));
            }
        }
        ranges = split;
    }
    let [close, dash, bang, caret, open] = awkward;
    if ranges.is_empty() && !close && !dash && !open {
        // Only `!` and `^` (or nothing) are left: a leading `!` or `^` would
        // read as a negation, so these few sets are spelt without a class.
        return match (negated, bang, caret) {
            (true, false, false) => Some("?".to_owned()),
            (true, ..) => Some(format!(
                "[!{}{}]",
                if bang { "!" } else { "" },
                if caret { "^" } else { "" }
            )),
            (false, true, true) => Some(r"{\!,\^}".to_owned()),
            (false, true, false) => Some(r"\!".to_owned()),
            (false, false, true) => Some(r"\^".to_owned()),
            (false, false, false) => None,
        };
    }
    let mut out = String::from(if negated { "[!" } else { "[" });
    // `]` is plain only first; `-` first or last (first when nothing else
    // could go there before a `!` or `^`).
    let dash_first = dash && !close && ranges.is_empty() && !open;
    if close {
        out.push(']');
    }
    if dash_first {
        out.push('-');
    }
    if open {
        // `[-[`, so that a `:` after it cannot start a POSIX class.
        out.push_str("[-[");
    }
    for (lo, hi) in ranges {
        if lo == hi {
            out.push(lo);
        } else {
            let _ = write!(out, "{lo}-{hi}");
        }
    }
    if bang {
        out.push('!');
    }
    if caret {
        out.push('^');
    }
    if dash && !dash_first {
        out.push('-');
    }
    out.push(']');
    Some(out)
}

/// The neighbours of the ASCII characters in `AWKWARD`.
fn prev_char(c: char) -> char {
    char::from(c as u8 - 1)
}

fn next_char(c: char) -> char {
    char::from(c as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::Ignore;
    use proptest::prelude::*;

    fn parse(text: &str) -> Ignore {
        Ignore::parse(text, "Dockerfile").unwrap()
    }

    #[test]
    fn patterns_exceptions_and_directories() {
        let ignore = parse(
            "# build output\nnode_modules\n*.log\n!keep.log\ndocs/**/*.md\n/tmp/\nsecret?.txt\n[ab].bin\nDockerfile\n",
        );
        for out in [
            "node_modules",
            "node_modules/x/index.js",
            "error.log",
            "docs/a/b/page.md",
            "docs/page.md",
            "tmp/file",
            "secret1.txt",
            "a.bin",
        ] {
            assert!(ignore.excludes(out), "{out} is left out");
        }
        for kept in [
            "keep.log",
            "src/error.log",
            "docs/page.txt",
            "secret10.txt",
            "c.bin",
            "Dockerfile",
            "app/node_modules_notes",
        ] {
            assert!(!ignore.excludes(kept), "{kept} is sent");
        }
        assert!(ignore.has_exceptions());
    }

    #[test]
    fn the_last_matching_line_wins() {
        let ignore = parse("*.md\n!README.md\nREADME.md\n");
        assert!(ignore.excludes("README.md"));
        assert!(ignore.excludes("notes.md"));
        assert!(!parse("").excludes("anything"));
    }

    #[test]
    fn globset_extras_keep_their_plain_meaning() {
        // Braces, POSIX classes and `**` inside a segment are not Docker's.
        let ignore = parse("{a,b}.txt\n[[:alpha:]]\nx**y\n");
        assert!(ignore.excludes("{a,b}.txt"));
        assert!(!ignore.excludes("a.txt"));
        assert!(ignore.excludes("[]"));
        assert!(ignore.excludes(":]"));
        assert!(!ignore.excludes("q"));
        assert!(ignore.excludes("xzzy"));
        assert!(!ignore.excludes("x/y"));
        // Classes with `]`, `-`, `!`, `^` as members, escapes, an unclosed `[`.
        let ignore = parse("[a!]1\n[!^]2\n[x-]3\n\\*4\n[5\nz\\\n");
        for out in ["a1", "!1", "q2", "x3", "-3", "*4", "[5", "z\\"] {
            assert!(ignore.excludes(out), "{out} is left out");
        }
        for kept in ["^2", "y3", "a4", "5", "z"] {
            assert!(!ignore.excludes(kept), "{kept} is sent");
        }
    }

    #[test]
    fn pathological_patterns_finish() {
        // A backtracking matcher tries every way to split the path among the
        // stars (or the `**` segments): billions of years for these.
        let stars = "*a".repeat(30) + "*b";
        let deep = "**/a/".repeat(30) + "b";
        let ignore = parse(&format!("{stars}\n{deep}\n"));
        let long_name = "a".repeat(200);
        let deep_path = vec!["a"; 60].join("/");
        assert!(!ignore.excludes(&long_name));
        assert!(!ignore.excludes(&deep_path));
        assert!(ignore.excludes(&(long_name + "b")));
        assert!(ignore.excludes(&(deep_path + "/b/c")));
    }

    #[test]
    fn patterns_too_large_to_compile_are_an_error() {
        let huge = "[a-z]?".repeat(200_000);
        let err = Ignore::parse(&huge, "Dockerfile").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }

    /// The backtracking matcher this module used before globset: exponential
    /// on crafted patterns, kept here as the reference for Docker's meaning
    /// on small ones.
    mod reference {
        pub fn excludes(text: &str, rel: &str) -> bool {
            let path: Vec<&str> = rel.split('/').collect();
            let mut excluded = false;
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (negate, pattern) = match line.strip_prefix('!') {
                    Some(p) => (true, p.trim()),
                    None => (false, line),
                };
                let segments: Vec<&str> = pattern
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != ".")
                    .collect();
                if segments.is_empty() {
                    continue;
                }
                if (1..=path.len()).any(|n| matches(&segments, &path[..n])) {
                    excluded = !negate;
                }
            }
            excluded
        }

        fn matches(pattern: &[&str], path: &[&str]) -> bool {
            match pattern.split_first() {
                None => path.is_empty(),
                Some((&"**", rest)) => (0..=path.len()).any(|skip| matches(rest, &path[skip..])),
                Some((first, rest)) => match path.split_first() {
                    Some((segment, tail)) => {
                        glob(first.as_bytes(), segment.as_bytes()) && matches(rest, tail)
                    }
                    None => false,
                },
            }
        }

        fn glob(pattern: &[u8], text: &[u8]) -> bool {
            match pattern.split_first() {
                None => text.is_empty(),
                Some((b'*', rest)) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
                Some((b'?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
                Some((b'[', rest)) => {
                    let Some(end) = rest.iter().position(|&c| c == b']') else {
                        return text.first() == Some(&b'[') && glob(rest, &text[1..]);
                    };
                    let Some((&c, tail)) = text.split_first() else {
                        return false;
                    };
                    let (negated, class) = match rest[..end].split_first() {
                        Some((b'^' | b'!', class)) => (true, class),
                        _ => (false, &rest[..end]),
                    };
                    let mut hit = false;
                    let mut i = 0;
                    while i < class.len() {
                        if i + 2 < class.len() && class[i + 1] == b'-' {
                            hit |= class[i] <= c && c <= class[i + 2];
                            i += 3;
                        } else {
                            hit |= class[i] == c;
                            i += 1;
                        }
                    }
                    hit != negated && glob(&rest[end + 1..], tail)
                }
                Some((b'\\', rest)) if !rest.is_empty() => {
                    text.first() == Some(&rest[0]) && glob(&rest[1..], &text[1..])
                }
                Some((&p, rest)) => text.first() == Some(&p) && glob(rest, &text[1..]),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Same answers as the reference on small patterns and paths built
        /// from the characters that mean something to either syntax.
        #[test]
        fn agrees_with_the_reference(
            lines in prop::collection::vec(r"!?[ab*?/\[\]!^\-\\{},:.]{1,10}", 1..4),
            paths in prop::collection::vec(r"[ab*?\[\]!^\-\\{},:.]{1,4}(/[ab*?\[\]!^\-\\{},:.]{1,4}){0,3}", 1..6),
        ) {
            let text = lines.join("\n");
            let ignore = Ignore::parse(&text, "Dockerfile").unwrap();
            for path in &paths {
                // A walk of the context never yields a `.` or `..` entry
                // (the reference, which cleans nothing, would match `*.`
                // against `..`).
                if path == "Dockerfile"
                    || path == ".dockerignore"
                    || path.split('/').any(|s| s == "." || s == "..")
                {
                    continue;
                }
                prop_assert_eq!(
                    ignore.excludes(path),
                    reference::excludes(&text, path),
                    "{:?} against {:?}", text, path
                );
            }
        }
    }
}
