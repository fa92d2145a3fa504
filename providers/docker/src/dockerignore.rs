//! `.dockerignore`: which files of a build context are left out, with the
//! Docker CLI's rules: one pattern a line (`#` comments), `*` and `?` within a
//! path segment, `**` across segments, `!` to take a path back in, the last
//! matching line wins, and a pattern that matches a directory covers
//! everything under it. The Dockerfile and `.dockerignore` are always sent.

use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Ignore {
    rules: Vec<Rule>,
    /// Relative paths sent whatever the patterns say.
    always: Vec<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    negate: bool,
    segments: Vec<String>,
}

impl Ignore {
    /// The rules of `root/.dockerignore` (none when there is no such file).
    pub fn load(root: &Path, dockerfile: &str) -> std::io::Result<Ignore> {
        let text = match std::fs::read_to_string(root.join(".dockerignore")) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        Ok(Ignore::parse(&text, dockerfile))
    }

    pub fn parse(text: &str, dockerfile: &str) -> Ignore {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|line| {
                let (negate, pattern) = match line.strip_prefix('!') {
                    Some(p) => (true, p.trim()),
                    None => (false, line),
                };
                let segments: Vec<String> = pattern
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != ".")
                    .map(str::to_owned)
                    .collect();
                (!segments.is_empty()).then_some(Rule { negate, segments })
            })
            .collect();
        Ignore {
            rules,
            always: vec![normalize(dockerfile), ".dockerignore".to_owned()],
        }
    }

    /// Whether any rule takes paths back in (then an excluded directory must
    /// still be walked).
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.negate)
    }

    /// Whether the entry at `rel` (relative, `/`-separated) is left out.
    pub fn excludes(&self, rel: &str) -> bool {
        if self.always.iter().any(|a| a == rel) {
            return false;
        }
        let path: Vec<&str> = rel.split('/').collect();
        let mut excluded = false;
        for rule in &self.rules {
            // A pattern matching the path or one of its parent directories.
            if (1..=path.len()).any(|n| matches(&rule.segments, &path[..n])) {
                excluded = !rule.negate;
            }
        }
        excluded
    }
}

fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Pattern segments against path segments; `**` takes any number of them.
fn matches(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| matches(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((segment, tail)) => {
                glob(first.as_bytes(), segment.as_bytes()) && matches(rest, tail)
            }
            None => false,
        },
    }
}

/// One segment: `*` any run of bytes, `?` one byte, `[abc]` / `[a-z]` / `[^a]`
/// a class, `\` escapes.
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

#[cfg(test)]
mod tests {
    use super::Ignore;

    #[test]
    fn patterns_exceptions_and_directories() {
        let ignore = Ignore::parse(
            "# build output\nnode_modules\n*.log\n!keep.log\ndocs/**/*.md\n/tmp/\nsecret?.txt\n[ab].bin\nDockerfile\n",
            "Dockerfile",
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
        let ignore = Ignore::parse("*.md\n!README.md\nREADME.md\n", "Dockerfile");
        assert!(ignore.excludes("README.md"));
        assert!(ignore.excludes("notes.md"));
        assert!(!Ignore::parse("", "Dockerfile").excludes("anything"));
    }
}
