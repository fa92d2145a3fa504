//! `fileset(path, pattern)`: the regular files under `path` whose paths
//! (relative to `path`, with `/`) match a glob, as a sorted set, as in
//! Terraform.
//!
//! Terraform's glob syntax: `*` (not across `/`), `**` (any number of
//! directories), `?`, `{a,b}`, `[abc]` / `[!abc]`, `\` escapes. The pattern is
//! cleaned as Go's `filepath.Join` does, so `./x/../*.md` is `*.md`. A missing
//! directory gives an empty set. Symlinked directories are not descended into
//! (so `**` cannot loop); symlinked files count when their target is a regular
//! file. With [`FuncContext::confine_files`] set, `path` must lie inside the
//! checkout, the pattern may not leave it with `..`, and a symlinked file
//! whose target is outside is left out.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use super::confine::{confine, outside};
use super::filesystem::clean;
use super::{Args, Arity, Def, FuncContext, MAX_ELEMENTS, make_set};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[Def::new("fileset", Arity::Exactly(2), fileset)];

fn fileset(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?.into_owned();
    let pattern = a.string(1)?.into_owned();
    let cleaned = clean(&pattern);
    if cleaned.starts_with('/') {
        return Err(format!(
            "the pattern {pattern:?} is absolute; give a pattern relative to the path {given:?}"
        ));
    }
    // `..` left at the front after cleaning climbs above `path`: walk from
    // there and keep the `../` in the results, as Terraform's do.
    let ups = cleaned.split('/').take_while(|part| *part == "..").count();
    let rest = cleaned.split('/').skip(ups).collect::<Vec<_>>().join("/");
    let climb = "../".repeat(ups);

    let (dir, root) = match ctx.confine_files {
        Some(root) => {
            if ups > 0 {
                return Err(outside(&format!("{given}/{pattern}")));
            }
            let dir = confine(root, ctx.base_dir, &given)?;
            let root = root
                .canonicalize()
                .map_err(|e| format!("cannot resolve the checkout {}: {e}", root.display()))?;
            (dir, Some(root))
        }
        None => (ctx.base_dir.join(&given), None),
    };
    let start = dir.join(&climb);
    let matcher = GlobBuilder::new(&rest)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| {
            let joined = format!("{}/{cleaned}", given.trim_end_matches('/'));
            format!("failed to glob pattern {joined:?}: {}", e.kind())
        })?
        .compile_matcher();
    // Without `**`, nothing deeper than the pattern's own depth can match.
    let depth = if rest.contains("**") {
        usize::MAX
    } else {
        rest.split('/').count()
    };
    let mut walk = Walk {
        matcher,
        root: root.as_deref(),
        found: Vec::new(),
    };
    walk.dir(&start, "", depth)?;
    Ok(Value::List(make_set(
        walk.found
            .into_iter()
            .map(|rel| Value::String(format!("{climb}{rel}")))
            .collect(),
    )))
}

struct Walk<'a> {
    matcher: GlobMatcher,
    /// The canonical confinement root, when confined.
    root: Option<&'a Path>,
    found: Vec<String>,
}

impl Walk<'_> {
    /// Collects the matching files in `dir` (which is `prefix` relative to
    /// where the walk started), descending `depth` more levels.
    fn dir(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<(), String> {
        if depth == 0 {
            return Ok(());
        }
        // A directory that is missing or unreadable matches nothing, as a
        // glob over it does in Terraform.
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let path = entry.path();
            if kind.is_dir() {
                self.dir(&path, &format!("{rel}/"), depth - 1)?;
            } else if self.matcher.is_match(&rel) && self.is_regular(&path, kind.is_symlink()) {
                if self.found.len() >= MAX_ELEMENTS {
                    return Err(format!(
                        "the pattern matches more than {MAX_ELEMENTS} files; use a narrower one"
                    ));
                }
                self.found.push(rel);
            }
        }
        Ok(())
    }

    /// A regular file, or a symlink to one (inside the root when confined).
    fn is_regular(&self, path: &Path, symlink: bool) -> bool {
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        match (self.root, symlink) {
            (Some(root), true) => {
                regular
                    && path
                        .canonicalize()
                        .is_ok_and(|real: PathBuf| real.starts_with(root))
            }
            _ => regular,
        }
    }
}
