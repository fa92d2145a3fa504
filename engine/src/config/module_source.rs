//! Module `source` addresses as Terraform (go-getter) reads them: local
//! paths, and git repositories, which `dumcel init` fetches into
//! `.dumcel/modules`. Registries and other remote kinds are refused with a
//! hint to vendor the module.

/// What a module call's `source` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    /// `./x` or `../x`, relative to the calling module's directory.
    Local(String),
    Git(GitSource),
}

/// A module in a git repository: `git::URL//SUBDIR?ref=REF&depth=N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// What `git clone` is given: `https://…`, `ssh://…`, `git://…` or
    /// `file:///…`; scp-like `git@host:path` is rewritten as go-getter
    /// does, to `ssh://git@host/path`.
    pub url: String,
    /// The module's directory inside the repository (`modules/vpc`).
    pub subdir: Option<String>,
    /// The branch, tag or commit to check out; the default branch if none.
    pub reference: Option<String>,
    /// A shallow clone of this many commits.
    pub depth: Option<u32>,
    /// The query as written, kept so that the address reads back as given.
    query: String,
}

const VENDOR_HINT: &str = "Download the module into the repository (for example under modules/) and set source = \"./modules/NAME\"; local paths start with ./ or ../.";

const GIT_FORMS: &str = "Write a git source as git::https://HOST/PATH.git, git::ssh://USER@HOST/PATH.git, git::file:///PATH, git@HOST:PATH.git or github.com/ORG/REPO, optionally followed by //SUBDIR and ?ref=REF.";

/// Reads a module source. `Err` says why it cannot be used and what to do.
pub fn parse(source: &str) -> Result<ModuleSource, String> {
    if source.starts_with("./") || source.starts_with("../") {
        return Ok(ModuleSource::Local(source.to_owned()));
    }
    // go-getter's forced getter: `NAME::ADDRESS`.
    if let Some((getter, rest)) = source.split_once("::")
        && !getter.is_empty()
        && getter.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return if getter == "git" {
            parse_git(rest).map(ModuleSource::Git)
        } else {
            Err(format!(
                "\"{getter}::\" sources are not fetched; dumcel fetches modules from git only. {VENDOR_HINT}"
            ))
        };
    }
    if source.starts_with("github.com/") {
        return parse_github(source).map(ModuleSource::Git);
    }
    if source.starts_with("git@") {
        return parse_git(source).map(ModuleSource::Git);
    }
    Err(if source.starts_with('/') {
        format!("Absolute paths are not module sources (Terraform's rule). {VENDOR_HINT}")
    } else if source.contains("://") || source.starts_with("s3") {
        format!(
            "Remote module sources other than git are not fetched; for a git repository write git::{}. {VENDOR_HINT}",
            redact_url(source)
        )
    } else {
        format!(
            "\"{source}\" is a module registry address; dumcel does not download from registries. {VENDOR_HINT}"
        )
    })
}

impl GitSource {
    /// The address as Terraform records it in the module manifest:
    /// `git::URL//SUBDIR?QUERY`, with shorthands expanded.
    pub fn normalized(&self) -> String {
        self.address(&self.url, true)
    }

    /// The address without credentials, for messages.
    pub fn display(&self) -> String {
        self.address(&redact_url(&self.url), true)
    }

    /// The repository fetched, without credentials or subdirectory, as
    /// Terraform prints it while downloading: `git::URL?QUERY`.
    pub fn display_package(&self) -> String {
        self.address(&redact_url(&self.url), false)
    }

    fn address(&self, url: &str, with_subdir: bool) -> String {
        let mut out = format!("git::{url}");
        if with_subdir && let Some(dir) = &self.subdir {
            out.push_str("//");
            out.push_str(dir);
        }
        if !self.query.is_empty() {
            out.push('?');
            out.push_str(&self.query);
        }
        out
    }
}

/// `github.com/ORG/REPO[/SUBDIR][//SUBDIR][?QUERY]`, as go-getter's GitHub
/// detector reads it: `https://github.com/ORG/REPO.git`.
fn parse_github(source: &str) -> Result<GitSource, String> {
    let (main, query) = split_query(source);
    let (repo_part, subdir) = split_subdir(main);
    let parts: Vec<&str> = repo_part.split('/').collect();
    if parts.len() < 3 || parts[1].is_empty() || parts[2].is_empty() {
        return Err(format!(
            "A GitHub source names an owner and a repository: github.com/ORG/REPO. {GIT_FORMS}"
        ));
    }
    let repo = parts[2].strip_suffix(".git").unwrap_or(parts[2]);
    let url = git_url(&format!("https://github.com/{}/{repo}.git", parts[1]))?;
    // Path segments after the repository select a subdirectory too.
    let extra = parts[3..].join("/");
    let subdir = match (extra.is_empty(), subdir) {
        (true, s) => s.map(str::to_owned),
        (false, None) => Some(extra),
        (false, Some(s)) => Some(format!("{extra}/{s}")),
    };
    finish(url, subdir.as_deref(), query)
}

/// What follows `git::`, or an scp-like `git@host:path`.
fn parse_git(rest: &str) -> Result<GitSource, String> {
    let (main, query) = split_query(rest);
    let (repo, subdir) = split_subdir(main);
    let url = git_url(repo)?;
    finish(url, subdir, query)
}

fn finish(url: String, subdir: Option<&str>, query: Option<&str>) -> Result<GitSource, String> {
    let subdir = match subdir {
        Some(s) => clean_subdir(s)?,
        None => None,
    };
    let mut source = GitSource {
        url,
        subdir,
        reference: None,
        depth: None,
        query: query.unwrap_or("").to_owned(),
    };
    for pair in source.query.clone().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value).ok_or_else(|| {
            format!("The query argument \"{key}\" is not valid percent-encoding.")
        })?;
        match key {
            "ref" if source.reference.is_some() => return Err("ref is given twice.".into()),
            "ref" => {
                if value.is_empty()
                    || value.starts_with('-')
                    || value.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(format!(
                        "\"{value}\" is not a git reference: ref names a branch, a tag or a commit, like ?ref=v1.2.0."
                    ));
                }
                source.reference = Some(value);
            }
            "depth" if source.depth.is_some() => return Err("depth is given twice.".into()),
            "depth" => match value.parse::<u32>() {
                Ok(n) if n > 0 => source.depth = Some(n),
                _ => {
                    return Err(format!(
                        "depth takes a number of commits above zero, like ?depth=1; got \"{value}\"."
                    ));
                }
            },
            "sshkey" => {
                return Err("sshkey is not supported: give the key to ssh instead (an ssh agent, or IdentityFile in ~/.ssh/config).".into());
            }
            other => {
                return Err(format!(
                    "Unknown query argument \"{other}\": a git source takes ref and depth."
                ));
            }
        }
    }
    Ok(source)
}

/// Splits `ADDRESS?QUERY`.
fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (s, None),
    }
}

/// Splits `REPO//SUBDIR` as go-getter does: the first `//` after the
/// scheme's `://`.
fn split_subdir(s: &str) -> (&str, Option<&str>) {
    let offset = s.find("://").map_or(0, |i| i + 3);
    match s[offset..].find("//") {
        Some(i) => (&s[..offset + i], Some(&s[offset + i + 2..])),
        None => (s, None),
    }
}

/// A subdirectory stays inside the repository; `.` parts are dropped.
fn clean_subdir(s: &str) -> Result<Option<String>, String> {
    if s.contains(['*', '?', '[']) {
        return Err(format!(
            "The subdirectory \"{s}\" is a glob pattern; name the directory itself."
        ));
    }
    let mut parts = Vec::new();
    for part in s.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "The subdirectory \"{s}\" leaves the repository; name a directory inside it."
                ));
            }
            p => parts.push(p),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// The URL git clones, checked: a known scheme, a host that is not an
/// option, or an scp-like address rewritten as an ssh URL.
fn git_url(repo: &str) -> Result<String, String> {
    if repo.is_empty() {
        return Err(format!("The source names no repository. {GIT_FORMS}"));
    }
    if repo.starts_with('-') {
        return Err(format!(
            "A repository URL cannot start with \"-\" (git would read it as an option). {GIT_FORMS}"
        ));
    }
    if repo.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "\"{}\" holds spaces or control characters; a URL has none. {GIT_FORMS}",
            redact_url(repo)
        ));
    }
    if let Some((scheme, rest)) = repo.split_once("://") {
        let scheme_lower = scheme.to_ascii_lowercase();
        match scheme_lower.as_str() {
            "file" => {
                if !rest.starts_with('/') || rest.len() < 2 {
                    return Err(format!(
                        "A file URL names an absolute path: file:///PATH/TO/REPO. {GIT_FORMS}"
                    ));
                }
            }
            "https" | "http" | "ssh" | "git" => {
                let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                if host.is_empty() || host.starts_with('-') {
                    return Err(format!(
                        "\"{}\" names no valid host. {GIT_FORMS}",
                        redact_url(repo)
                    ));
                }
                if path.is_empty() {
                    return Err(format!(
                        "\"{}\" names no repository on its host. {GIT_FORMS}",
                        redact_url(repo)
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "\"{scheme}\" URLs are not fetched: use https, ssh, git or file. {GIT_FORMS}"
                ));
            }
        }
        return Ok(repo.to_owned());
    }
    // scp-like `[USER@]HOST:PATH`: the colon comes before any slash.
    if let Some((authority, path)) = repo.split_once(':')
        && !authority.contains('/')
        && !path.is_empty()
    {
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host_ok = !host.is_empty()
            && !host.starts_with('-')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !host_ok || path.starts_with(':') {
            return Err(format!(
                "\"{}\" names no valid host. {GIT_FORMS}",
                redact_url(repo)
            ));
        }
        return Ok(format!(
            "ssh://{authority}/{}",
            path.trim_start_matches('/')
        ));
    }
    Err(format!(
        "\"{}\" is not a git URL. {GIT_FORMS}",
        redact_url(repo)
    ))
}

/// A URL without its user name and password, which may be credentials
/// (`https://TOKEN@host/...`): messages never show them.
pub fn redact_url(url: &str) -> String {
    let (prefix, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        // scp-like `git@host:path` has no scheme: its user is redacted too.
        Some(at) => format!("{prefix}{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// `%2F` as `/`; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(source: &str) -> GitSource {
        match parse(source) {
            Ok(ModuleSource::Git(g)) => g,
            other => panic!("{source}: {other:?}"),
        }
    }

    #[test]
    fn local_paths_are_local() {
        assert_eq!(
            parse("./modules/vpc"),
            Ok(ModuleSource::Local("./modules/vpc".into()))
        );
        assert_eq!(parse("../x"), Ok(ModuleSource::Local("../x".into())));
    }

    #[test]
    fn file_url_with_subdir_and_ref() {
        let g = git("git::file:///tmp/x/repo.git//modules/vpc?ref=v1.2.0");
        assert_eq!(g.url, "file:///tmp/x/repo.git");
        assert_eq!(g.subdir.as_deref(), Some("modules/vpc"));
        assert_eq!(g.reference.as_deref(), Some("v1.2.0"));
        assert_eq!(g.depth, None);
        assert_eq!(
            g.normalized(),
            "git::file:///tmp/x/repo.git//modules/vpc?ref=v1.2.0"
        );
        assert_eq!(
            g.display_package(),
            "git::file:///tmp/x/repo.git?ref=v1.2.0"
        );
    }

    #[test]
    fn https_and_ssh_urls() {
        let g = git("git::https://example.com/org/repo.git?ref=main&depth=1");
        assert_eq!(g.url, "https://example.com/org/repo.git");
        assert_eq!(g.subdir, None);
        assert_eq!(g.reference.as_deref(), Some("main"));
        assert_eq!(g.depth, Some(1));
        let g = git("git::ssh://git@example.com:2222/org/repo.git//sub/dir");
        assert_eq!(g.url, "ssh://git@example.com:2222/org/repo.git");
        assert_eq!(g.subdir.as_deref(), Some("sub/dir"));
    }

    #[test]
    fn scp_like_becomes_an_ssh_url() {
        let g = git("git@github.com:org/repo.git//modules/x?ref=v2");
        assert_eq!(g.url, "ssh://git@github.com/org/repo.git");
        assert_eq!(g.subdir.as_deref(), Some("modules/x"));
        assert_eq!(g.reference.as_deref(), Some("v2"));
        assert_eq!(
            g.normalized(),
            "git::ssh://git@github.com/org/repo.git//modules/x?ref=v2"
        );
        // Forced with git:: too.
        assert_eq!(git("git::git@github.com:org/repo.git").url, g.url);
    }

    #[test]
    fn github_shorthand() {
        let g = git("github.com/hashicorp/example");
        assert_eq!(g.url, "https://github.com/hashicorp/example.git");
        assert_eq!(
            g.normalized(),
            "git::https://github.com/hashicorp/example.git"
        );
        let g = git("github.com/hashicorp/example.git//modules/a?ref=v1");
        assert_eq!(g.url, "https://github.com/hashicorp/example.git");
        assert_eq!(g.subdir.as_deref(), Some("modules/a"));
        assert_eq!(g.reference.as_deref(), Some("v1"));
        assert_eq!(
            git("github.com/o/r/modules/b").subdir.as_deref(),
            Some("modules/b")
        );
        assert!(
            parse("github.com/hashicorp")
                .unwrap_err()
                .contains("github.com/ORG/REPO")
        );
    }

    #[test]
    fn credentials_never_show() {
        let g = git("git::https://user:s3cret@example.com/org/repo.git//m?ref=v1");
        assert_eq!(g.url, "https://user:s3cret@example.com/org/repo.git");
        assert_eq!(
            g.display(),
            "git::https://example.com/org/repo.git//m?ref=v1"
        );
        assert_eq!(
            g.display_package(),
            "git::https://example.com/org/repo.git?ref=v1"
        );
        assert_eq!(redact_url("https://TOKEN@host/a@b"), "https://host/a@b");
        assert_eq!(redact_url("file:///tmp/r.git"), "file:///tmp/r.git");
        let err = parse("git::https://user:s3cret@/x").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        let err = parse("https://user:s3cret@example.com/x.zip").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn options_cannot_be_smuggled_to_git() {
        assert!(
            parse("git::-uhttps://x/y")
                .unwrap_err()
                .contains("cannot start with \"-\"")
        );
        assert!(
            parse("git::ssh://-oProxyCommand=x/y")
                .unwrap_err()
                .contains("no valid host")
        );
        assert!(
            parse("git::https://h/r.git?ref=--upload-pack=x")
                .unwrap_err()
                .contains("not a git reference")
        );
        assert!(parse("git::ext::sh -c x").unwrap_err().contains("spaces"));
        assert!(parse("git::ext::sh").is_err());
    }

    #[test]
    fn malformed_sources_say_what_is_wrong() {
        assert!(parse("git::").unwrap_err().contains("names no repository"));
        assert!(
            parse("git::https://example.com")
                .unwrap_err()
                .contains("names no repository")
        );
        assert!(
            parse("git::file://relative/repo")
                .unwrap_err()
                .contains("absolute path")
        );
        assert!(
            parse("git::ftp://h/r.git")
                .unwrap_err()
                .contains("\"ftp\" URLs")
        );
        assert!(
            parse("git::https://h/r.git?ref=")
                .unwrap_err()
                .contains("not a git reference")
        );
        assert!(
            parse("git::https://h/r.git?depth=0")
                .unwrap_err()
                .contains("depth")
        );
        assert!(
            parse("git::https://h/r.git?depth=x")
                .unwrap_err()
                .contains("depth")
        );
        assert!(
            parse("git::https://h/r.git?ref=a&ref=b")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            parse("git::https://h/r.git?sshkey=abc")
                .unwrap_err()
                .contains("sshkey")
        );
        assert!(
            parse("git::https://h/r.git?foo=1")
                .unwrap_err()
                .contains("\"foo\"")
        );
        assert!(
            parse("git::https://h/r.git//../x")
                .unwrap_err()
                .contains("leaves the repository")
        );
        assert!(
            parse("git::https://h/r.git//m/*")
                .unwrap_err()
                .contains("glob")
        );
        assert!(
            parse("git::relative/path")
                .unwrap_err()
                .contains("not a git URL")
        );
    }

    #[test]
    fn ref_is_percent_decoded_and_subdir_cleaned() {
        let g = git("git::https://h/r.git//./a//b/?ref=feature%2Fx");
        assert_eq!(g.reference.as_deref(), Some("feature/x"));
        assert_eq!(g.subdir.as_deref(), Some("a/b"));
        assert_eq!(git("git::https://h/r.git//").subdir, None);
        assert!(parse("git::https://h/r.git?ref=%zz").is_err());
    }

    #[test]
    fn registry_and_other_kinds_are_refused_with_the_vendoring_hint() {
        for s in [
            "hashicorp/consul/aws",
            "app.terraform.io/org/name/aws",
            "s3::https://s3.amazonaws.com/b/m.zip",
            "https://example.com/m.zip",
            "/abs/path",
            "hg::https://h/r",
        ] {
            let why = parse(s).unwrap_err();
            assert!(why.contains("./modules/NAME"), "{s}: {why}");
        }
        assert!(
            parse("hashicorp/consul/aws")
                .unwrap_err()
                .contains("registry")
        );
    }
}
