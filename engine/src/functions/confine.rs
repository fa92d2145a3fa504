//! File functions confined to one directory, for stacks from untrusted
//! branches: a pipeline run must read only files committed to the repository,
//! never the worker's (`/proc/self/environ`, `~/.aws/credentials`, the state
//! of other projects).
//!
//! A path is refused when it starts with `~`, has a `..` component, or is
//! absolute outside the root (an absolute path inside it is allowed: it is
//! what `"${path.module}/x"` gives); what is left is followed through every
//! symlink and must land inside the root, so a committed
//! `leak -> /etc/passwd` reads nothing.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use dumcel_planner::Value;

use super::FuncContext;

/// The functions a confinement restricts: those that read the file their
/// argument names, and `pathexpand` (the home directory).
pub(super) const CONFINED: &[&str] = &[
    "file",
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "fileexists",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "fileset",
    "pathexpand",
    "templatefile",
];

/// See [`super::check_confined`].
pub(super) fn check_call(name: &str, args: &[Value], ctx: &FuncContext<'_>) -> Result<(), String> {
    let Some(root) = ctx.confine_files.filter(|_| CONFINED.contains(&name)) else {
        return Ok(());
    };
    let Some(given) = args.first().and_then(Value::as_str) else {
        return Ok(());
    };
    if name == "pathexpand" {
        return refuse_home(given);
    }
    confine(root, ctx.base_dir, given).map(drop)
}

/// Confined, the home directory is none of the stack's business.
pub(super) fn refuse_home(given: &str) -> Result<(), String> {
    if given.starts_with('~') {
        return Err(outside(given));
    }
    Ok(())
}

/// The one message for every refusal, so that the answer does not tell what
/// lies outside the root.
pub(super) fn outside(given: &str) -> String {
    format!(
        "{given:?} is outside the checkout: a pipeline run reads only files committed to the \
         repository (relative paths, no \"..\", no symlinks out)"
    )
}

/// The path `given` (relative to `base_dir`) names, confined to `root`: the
/// canonical path when something is there, else the path as joined (the
/// caller then reports it missing).
pub(super) fn confine(root: &Path, base_dir: &Path, given: &str) -> Result<PathBuf, String> {
    let canonical = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve the checkout {}: {e}", root.display()))?;
    let given_path = Path::new(given);
    // An absolute path counts by what follows the root.
    let relative = if given_path.is_absolute() {
        given_path
            .strip_prefix(root)
            .or_else(|_| given_path.strip_prefix(&canonical))
            .map_err(|_| outside(given))?
    } else {
        given_path
    };
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if given.starts_with('~') || !plain {
        return Err(outside(given));
    }
    let root = canonical;
    let path = base_dir.join(given_path);
    // The nearest part of the path that exists decides where it leads. A
    // symlink that resolves nowhere counts as leading out: otherwise whether
    // the answer is "outside" or "missing" would tell what exists out there.
    for at in path.ancestors() {
        match at.symlink_metadata() {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                continue;
            }
            Err(e) => return Err(format!("failed to read {given:?}: {e}")),
        }
        return match at.canonicalize() {
            Ok(real) if real.starts_with(&root) => Ok(if at == path { real } else { path }),
            _ => Err(outside(given)),
        };
    }
    Err(outside(given))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dumcel_planner::Value;

    use super::CONFINED;
    use crate::functions::{FuncContext, call, check_confined, names};

    /// Calls `name(arg)` in module directory `dir`, confined to `root`.
    fn confined(root: &Path, dir: &Path, name: &str, arg: &str) -> Result<Value, String> {
        let ctx = FuncContext {
            base_dir: dir,
            confine_files: Some(root),
            clock: Default::default(),
        };
        call(name, vec![Value::string(arg)], &ctx).expect("a built-in function")
    }

    fn refused(result: Result<Value, String>) -> bool {
        result.is_err_and(|e| e.contains("is outside the checkout"))
    }

    /// A checkout with a stack in `stack/`, a file beside it and one outside.
    struct Checkout {
        _outer: tempfile::TempDir,
        root: std::path::PathBuf,
        stack: std::path::PathBuf,
        secret: std::path::PathBuf,
    }

    fn checkout() -> Checkout {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("checkout");
        let stack = root.join("stack");
        std::fs::create_dir_all(&stack).unwrap();
        std::fs::write(stack.join("config.txt"), "committed\n").unwrap();
        std::fs::write(root.join("shared.txt"), "shared\n").unwrap();
        let secret = outer.path().join("secret.txt");
        std::fs::write(&secret, "TOKEN=hunter2\n").unwrap();
        Checkout {
            _outer: outer,
            root,
            stack,
            secret,
        }
    }

    #[test]
    fn every_file_function_is_listed() {
        for name in names().iter().filter(|n| n.starts_with("file")) {
            assert!(
                CONFINED.contains(name),
                "{name} reads a file but is not confined"
            );
        }
    }

    #[test]
    fn a_plain_relative_file_is_read() {
        let c = checkout();
        let got = confined(&c.root, &c.stack, "file", "config.txt");
        assert_eq!(got, Ok(Value::string("committed\n")));
        let got = confined(&c.root, &c.stack, "file", "./config.txt");
        assert_eq!(got, Ok(Value::string("committed\n")));
        assert_eq!(
            confined(&c.root, &c.stack, "fileexists", "config.txt"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            confined(&c.root, &c.stack, "fileexists", "nope.txt"),
            Ok(Value::Bool(false))
        );
        let missing = confined(&c.root, &c.stack, "file", "nope.txt").unwrap_err();
        assert!(missing.starts_with("no file exists"), "{missing}");
    }

    #[test]
    fn absolute_paths_are_refused() {
        let c = checkout();
        let secret = c.secret.to_str().unwrap();
        for name in ["file", "filebase64", "fileexists", "filesha256", "filemd5"] {
            assert!(refused(confined(&c.root, &c.stack, name, secret)), "{name}");
            assert!(refused(confined(
                &c.root,
                &c.stack,
                name,
                "/proc/self/environ"
            )));
        }
        // A path inside the root written absolute is what
        // "${path.module}/config.txt" gives: read, as long as it stays inside.
        let inside = c.stack.join("config.txt");
        let got = confined(&c.root, &c.stack, "file", inside.to_str().unwrap());
        assert_eq!(got, Ok(Value::string("committed\n")));
        let escape = format!("{}/../../secret.txt", c.stack.display());
        assert!(refused(confined(&c.root, &c.stack, "file", &escape)));
    }

    #[test]
    fn dot_dot_is_refused_even_when_it_stays_inside() {
        let c = checkout();
        assert!(refused(confined(
            &c.root,
            &c.stack,
            "file",
            "../../secret.txt"
        )));
        assert!(refused(confined(
            &c.root,
            &c.stack,
            "file",
            "../shared.txt"
        )));
        assert!(refused(confined(
            &c.root,
            &c.stack,
            "fileexists",
            "x/../config.txt"
        )));
    }

    #[test]
    fn home_is_refused() {
        let c = checkout();
        assert!(refused(confined(
            &c.root,
            &c.stack,
            "file",
            "~/.aws/credentials"
        )));
        assert!(refused(confined(&c.root, &c.stack, "fileexists", "~")));
        assert!(refused(confined(&c.root, &c.stack, "pathexpand", "~/.ssh")));
        // A path without `~` is only text: pathexpand returns it unchanged.
        assert_eq!(
            confined(&c.root, &c.stack, "pathexpand", "a/b"),
            Ok(Value::string("a/b"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_are_refused() {
        let c = checkout();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, c.stack.join(name)).unwrap()
        };
        link(&c.secret, "leak");
        link(Path::new("/proc/self/environ"), "environ");
        link(c.secret.parent().unwrap(), "outdir");
        link(Path::new("/nonexistent/dumcel-test"), "dangling");
        for given in ["leak", "environ", "outdir/secret.txt", "outdir/none"] {
            for name in ["file", "fileexists", "filesha256"] {
                let got = confined(&c.root, &c.stack, name, given);
                assert!(refused(got.clone()), "{name}({given}): {got:?}");
            }
        }
        // A link that leads nowhere is refused like one that leads out, so
        // that the answer tells nothing about what exists outside.
        assert!(refused(confined(
            &c.root,
            &c.stack,
            "fileexists",
            "dangling"
        )));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_within_the_root_are_followed() {
        let c = checkout();
        std::os::unix::fs::symlink("../shared.txt", c.stack.join("shared")).unwrap();
        std::os::unix::fs::symlink(&c.stack, c.root.join("stack-link")).unwrap();
        assert_eq!(
            confined(&c.root, &c.stack, "file", "shared"),
            Ok(Value::string("shared\n"))
        );
        assert_eq!(
            confined(&c.root, &c.root, "file", "stack-link/config.txt"),
            Ok(Value::string("committed\n"))
        );
    }

    #[test]
    fn a_check_refuses_what_a_call_would_without_reading() {
        let c = checkout();
        let ctx = FuncContext {
            base_dir: &c.stack,
            confine_files: Some(&c.root),
            clock: Default::default(),
        };
        let check = |name: &str, arg: &str| check_confined(name, &[Value::string(arg)], &ctx);
        assert!(check("file", "/proc/self/environ").is_err());
        assert!(check("filesha1", "../x").is_err());
        assert!(check("pathexpand", "~").is_err());
        // A file a resource will create is missing now; only a call says so.
        assert_eq!(check("file", "made-later.txt"), Ok(()));
        assert_eq!(check("upper", "/proc/self/environ"), Ok(()));
        let unconfined = FuncContext {
            confine_files: None,
            ..ctx
        };
        let got = check_confined("file", &[Value::string("/etc/passwd")], &unconfined);
        assert_eq!(got, Ok(()));
    }

    #[test]
    fn unconfined_is_unchanged() {
        let c = checkout();
        let ctx = FuncContext {
            base_dir: &c.stack,
            confine_files: None,
            clock: Default::default(),
        };
        let secret = Value::string(c.secret.to_str().unwrap());
        let got = call("file", vec![secret], &ctx).unwrap();
        assert_eq!(got, Ok(Value::string("TOKEN=hunter2\n")));
        let got = call("file", vec![Value::string("../shared.txt")], &ctx).unwrap();
        assert_eq!(got, Ok(Value::string("shared\n")));
    }
}
