//! Filesystem functions: abspath, basename, dirname, file, filebase64,
//! fileexists, pathexpand.
//!
//! Relative paths resolve against [`FuncContext::base_dir`] (the module's
//! directory); Terraform's `abspath` uses the working directory instead.
//! `file`-like functions expand a leading `~` like Terraform, and read only
//! regular files. With [`FuncContext::confine_files`] set (a pipeline run of
//! an untrusted branch) they read only inside that directory: see `confine.rs`.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::confine::{confine, refuse_home};
use super::{Args, Arity, Def, FuncContext};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("abspath", Arity::Exactly(1), abspath),
    Def::new("basename", Arity::Exactly(1), basename),
    Def::new("dirname", Arity::Exactly(1), dirname),
    Def::new("file", Arity::Exactly(1), file),
    Def::new("filebase64", Arity::Exactly(1), filebase64),
    Def::new("fileexists", Arity::Exactly(1), fileexists),
    Def::new("pathexpand", Arity::Exactly(1), pathexpand),
];

fn is_sep(c: char) -> bool {
    c == '/' || (cfg!(windows) && c == '\\')
}

/// Expands a leading `~` to the home directory, like Terraform's use of
/// `homedir.Expand`.
fn expand_home(path: &str) -> Result<String, String> {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path.to_string());
    };
    if rest.chars().next().is_some_and(|c| !is_sep(c)) {
        return Err("cannot expand user-specific home dir".into());
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "cannot determine the home directory to expand \"~\"".to_string())?;
    Ok(format!("{}{rest}", home.to_string_lossy()))
}

/// The path `given` names, relative to the module directory (and, when
/// confined, the real path inside the confinement root).
fn resolve(ctx: &FuncContext<'_>, given: &str) -> Result<PathBuf, String> {
    match ctx.confine_files {
        Some(root) => confine(root, ctx.base_dir, given),
        None => Ok(ctx.base_dir.join(expand_home(given)?)),
    }
}

/// Reads a regular file named relative to the module directory.
pub(super) fn read_file(ctx: &FuncContext<'_>, given: &str) -> Result<Vec<u8>, String> {
    let path = resolve(ctx, given)?;
    check_regular(&path, given)?;
    std::fs::read(&path).map_err(|e| format!("failed to read {given:?}: {e}"))
}

fn check_regular(path: &Path, given: &str) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) if meta.is_dir() => Err(format!("{given:?} is a directory, not a file")),
        Ok(_) => Err(format!("{given:?} is not a regular file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "no file exists at {given:?}; this function works only with files that are \
             distributed as part of the configuration source code, so if this file will be \
             created by a resource in this configuration you must instead obtain this result \
             from an attribute of that resource"
        )),
        Err(e) => Err(format!("failed to read {given:?}: {e}")),
    }
}

fn file(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    let bytes = read_file(ctx, &given)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        format!(
            "contents of {given:?} are not valid UTF-8; use the filebase64 function to obtain \
             the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) \
             to obtain file hashing results instead"
        )
    })
}

fn filebase64(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let bytes = read_file(ctx, &a.string(0)?)?;
    Ok(Value::String(STANDARD.encode(bytes)))
}

fn fileexists(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    let path = resolve(ctx, &given)?;
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(meta) if meta.is_dir() => Err(format!("{given:?} is a directory, not a file")),
        Ok(_) => Err(format!("{given:?} is not a regular file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(e) => Err(format!("failed to stat {given:?}: {e}")),
    }
}

fn pathexpand(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    if ctx.confine_files.is_some() {
        refuse_home(&given)?;
    }
    Ok(Value::String(expand_home(&given)?))
}

fn abspath(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    let joined = ctx.base_dir.join(&*given);
    let absolute =
        std::path::absolute(&joined).map_err(|e| format!("cannot make {given:?} absolute: {e}"))?;
    let mut text = absolute.to_string_lossy().into_owned();
    if cfg!(windows) {
        text = text.replace('\\', "/");
    }
    Ok(Value::String(clean(&text)))
}

/// Go's `filepath.Clean` (lexical: `.`, `..` and repeated separators).
pub(super) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with(is_sep);
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(is_sep) {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn basename(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    if given.is_empty() {
        return Ok(Value::string("."));
    }
    let trimmed = given.trim_end_matches(is_sep);
    if trimmed.is_empty() {
        return Ok(Value::string("/"));
    }
    let base = trimmed.rsplit(is_sep).next().unwrap_or(trimmed);
    Ok(Value::string(base))
}

fn dirname(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let given = a.string(0)?;
    let dir = match given.rfind(is_sep) {
        Some(i) => &given[..=i],
        None => "",
    };
    Ok(Value::String(clean(dir)))
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;
    use dumcel_planner::Value;

    #[test]
    fn file_reads_relative_to_base_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/hello.txt"), "Hello World\n").unwrap();
        std::fs::write(dir.path().join("bin"), [0xffu8, 0xfe]).unwrap();
        let call = |name: &str, arg: &str| call_in(dir.path(), name, vec![s(arg)]);
        assert_eq!(call("file", "sub/hello.txt"), Ok(s("Hello World\n")));
        assert_eq!(
            call("file", "./sub/../sub/hello.txt"),
            Ok(s("Hello World\n"))
        );
        assert_eq!(call("filebase64", "bin"), Ok(s("//4=")));
        assert!(call("file", "bin").unwrap_err().contains("not valid UTF-8"));
        assert!(
            call("file", "missing.txt")
                .unwrap_err()
                .starts_with("no file exists at \"missing.txt\"")
        );
        assert!(call("file", "sub").unwrap_err().contains("is a directory"));
        assert_eq!(call("fileexists", "sub/hello.txt"), Ok(Value::Bool(true)));
        assert_eq!(call("fileexists", "sub/nope.txt"), Ok(Value::Bool(false)));
        assert!(
            call("fileexists", "sub")
                .unwrap_err()
                .contains("is a directory")
        );
        let absolute = dir.path().join("sub/hello.txt");
        let absolute = absolute.to_str().unwrap();
        assert_eq!(
            call_in(std::path::Path::new("."), "file", vec![s(absolute)]),
            Ok(s("Hello World\n"))
        );
    }

    #[test]
    fn abspath_joins_and_cleans() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::path::absolute(dir.path()).unwrap();
        let base = base.to_str().unwrap().replace('\\', "/");
        assert_eq!(
            call_in(dir.path(), "abspath", vec![s("a/../b/./c")]),
            Ok(s(&format!("{base}/b/c")))
        );
        assert_eq!(
            call_in(dir.path(), "abspath", vec![s("/x/../y")]),
            Ok(s("/y"))
        );
    }

    #[test]
    fn basename_and_dirname_like_go() {
        assert_eq!(ok("basename", vec![s("foo/bar/baz.txt")]), s("baz.txt"));
        assert_eq!(ok("basename", vec![s("foo/bar/")]), s("bar"));
        assert_eq!(ok("basename", vec![s("")]), s("."));
        assert_eq!(ok("basename", vec![s("///")]), s("/"));
        assert_eq!(ok("dirname", vec![s("foo/bar/baz.txt")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("foo")]), s("."));
        assert_eq!(ok("dirname", vec![s("/foo")]), s("/"));
        assert_eq!(ok("dirname", vec![s("foo//bar/")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("a/../b/c")]), s("b"));
    }

    #[test]
    fn pathexpand_uses_home() {
        assert_eq!(ok("pathexpand", vec![s("/etc/x")]), s("/etc/x"));
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let home = home.to_string_lossy().into_owned();
            assert_eq!(
                ok("pathexpand", vec![s("~/.ssh")]),
                s(&format!("{home}/.ssh"))
            );
            assert_eq!(ok("pathexpand", vec![s("~")]), s(&home));
        }
        assert!(err("pathexpand", vec![s("~bob/x")]).contains("user-specific"));
    }
}
