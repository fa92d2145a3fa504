//! A build context: the files under a directory, hashed so that a changed file
//! shows in the plan, and packed into the tar stream the build API takes.
//!
//! Both walk the same sorted list of entries, leave out what `.dockerignore`
//! excludes and ignore modification times, so the hash changes exactly when
//! what the builder sees changes.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dockerignore::Ignore;
use crate::error::DockerError;

enum Kind {
    Dir,
    File,
    Symlink(PathBuf),
}

struct Entry {
    /// Relative to the context, with `/` separators.
    rel: String,
    path: PathBuf,
    kind: Kind,
    mode: u32,
}

fn context_err(path: &Path) -> impl FnOnce(io::Error) -> DockerError + '_ {
    move |source| DockerError::Context {
        path: path.display().to_string(),
        source,
    }
}

/// Every entry under `root` that `.dockerignore` lets through, sorted by
/// relative path. `dockerfile` (relative to `root`) is always kept.
fn entries(root: &Path, dockerfile: &str) -> Result<Vec<Entry>, DockerError> {
    let meta = fs::metadata(root).map_err(context_err(root))?;
    if !meta.is_dir() {
        return Err(DockerError::Context {
            path: root.display().to_string(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a directory"),
        });
    }
    let ignore = Ignore::load(root, dockerfile).map_err(context_err(root))?;
    let mut out = Vec::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for item in fs::read_dir(&dir).map_err(context_err(&dir))? {
            let item = item.map_err(context_err(&dir))?;
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let meta = fs::symlink_metadata(&path).map_err(context_err(&path))?;
            let mode = meta.permissions().mode() & 0o7777;
            let excluded = ignore.excludes(&rel);
            let kind = if meta.file_type().is_symlink() {
                Kind::Symlink(fs::read_link(&path).map_err(context_err(&path))?)
            } else if meta.is_dir() {
                // An excluded directory is walked only when an exception may
                // take something under it back in.
                if !excluded || ignore.has_exceptions() {
                    pending.push((path.clone(), rel.clone()));
                }
                Kind::Dir
            } else if meta.is_file() {
                Kind::File
            } else {
                // Sockets, fifos, devices: the builder cannot use them.
                continue;
            };
            if excluded {
                continue;
            }
            out.push(Entry {
                rel,
                path,
                kind,
                mode,
            });
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// A SHA-256 over every entry's path, type, mode and content, in hex.
pub fn hash(root: &Path, dockerfile: &str) -> Result<String, DockerError> {
    let mut h = Sha256::new();
    for e in entries(root, dockerfile)? {
        // Lengths before variable parts keep distinct lists from colliding.
        h.update((e.rel.len() as u64).to_le_bytes());
        h.update(e.rel.as_bytes());
        h.update(e.mode.to_le_bytes());
        match &e.kind {
            Kind::Dir => h.update(b"d"),
            Kind::File => {
                h.update(b"f");
                let bytes = fs::read(&e.path).map_err(context_err(&e.path))?;
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
            Kind::Symlink(target) => {
                h.update(b"l");
                let t = target.to_string_lossy();
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// The context as an uncompressed tar archive, in memory (contexts are small;
/// the builder would read it all anyway).
pub fn tar(root: &Path, dockerfile: &str) -> Result<Vec<u8>, DockerError> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries(root, dockerfile)? {
        let mut header = tar::Header::new_gnu();
        header.set_mode(e.mode);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        let result = match &e.kind {
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                b.append_data(&mut header, format!("{}/", e.rel), io::empty())
            }
            Kind::File => {
                let file = fs::File::open(&e.path).map_err(context_err(&e.path))?;
                let len = file.metadata().map_err(context_err(&e.path))?.len();
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(len);
                b.append_data(&mut header, &e.rel, file)
            }
            Kind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                b.append_link(&mut header, &e.rel, target)
            }
        };
        result.map_err(context_err(&e.path))?;
    }
    b.into_inner().map_err(context_err(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_follows_content_names_and_modes_not_times() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("www")).unwrap();
        fs::write(d.path().join("www/index.html"), "one").unwrap();
        fs::write(d.path().join("Dockerfile"), "FROM scratch").unwrap();
        let first = hash(d.path(), "Dockerfile").unwrap();
        assert_eq!(first.len(), 64);

        // Rewriting the same bytes (a new mtime) changes nothing.
        fs::write(d.path().join("www/index.html"), "one").unwrap();
        assert_eq!(hash(d.path(), "Dockerfile").unwrap(), first);

        fs::write(d.path().join("www/index.html"), "two").unwrap();
        let second = hash(d.path(), "Dockerfile").unwrap();
        assert_ne!(second, first);

        fs::set_permissions(
            d.path().join("Dockerfile"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        assert_ne!(hash(d.path(), "Dockerfile").unwrap(), second);
    }

    #[test]
    fn tar_holds_every_file_under_its_relative_path() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("www")).unwrap();
        fs::write(d.path().join("www/index.html"), "page").unwrap();
        fs::write(d.path().join("Dockerfile"), "FROM scratch").unwrap();
        let bytes = tar(d.path(), "Dockerfile").unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["Dockerfile", "www/", "www/index.html"]);
    }

    #[test]
    fn dockerignore_leaves_files_out_of_the_hash_and_the_tar() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("node_modules/lib")).unwrap();
        fs::write(d.path().join("node_modules/lib/x.js"), "1").unwrap();
        fs::write(d.path().join("Dockerfile"), "FROM scratch").unwrap();
        fs::write(d.path().join("app.js"), "app").unwrap();
        fs::write(d.path().join(".dockerignore"), "node_modules\nDockerfile\n").unwrap();
        let before = hash(d.path(), "Dockerfile").unwrap();
        fs::write(d.path().join("node_modules/lib/x.js"), "2").unwrap();
        assert_eq!(
            hash(d.path(), "Dockerfile").unwrap(),
            before,
            "ignored files do not count"
        );
        fs::write(d.path().join("app.js"), "app v2").unwrap();
        assert_ne!(hash(d.path(), "Dockerfile").unwrap(), before);

        let bytes = tar(d.path(), "Dockerfile").unwrap();
        let mut names: Vec<String> = tar::Archive::new(bytes.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".dockerignore", "Dockerfile", "app.js"],
            "the Dockerfile is always sent"
        );
    }

    #[test]
    fn a_missing_context_is_an_error_naming_it() {
        let e = hash(Path::new("no/such/dir"), "Dockerfile")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no/such/dir"), "{e}");
    }
}
