//! Image references (`127.0.0.1:5000/team/web:1.2`): which registry holds
//! them, the repository and the tag, by Docker's own rules.

/// Docker Hub, the registry of references that name none.
pub const DOCKER_HUB: &str = "docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]` of the registry.
    pub registry: String,
    /// The repository path inside the registry (`team/web`).
    pub repository: String,
    /// The tag, `latest` when none is written.
    pub tag: String,
}

impl Reference {
    /// Parses a reference; `None` for an empty one or one pinned by digest,
    /// which cannot be pushed or tagged.
    pub fn parse(text: &str) -> Option<Reference> {
        if text.is_empty() || text.contains('@') || text.chars().any(char::is_whitespace) {
            return None;
        }
        let (path, tag) = match text.rsplit_once(':') {
            // A colon after the last slash separates the tag; before it, a port.
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (text, "latest"),
        };
        if tag.is_empty() || path.is_empty() {
            return None;
        }
        let (registry, repository) = match path.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            Some(_) => (DOCKER_HUB.to_owned(), path.to_owned()),
            None => (DOCKER_HUB.to_owned(), format!("library/{path}")),
        };
        if repository.is_empty() {
            return None;
        }
        Some(Reference {
            registry,
            repository,
            tag: tag.to_owned(),
        })
    }

    /// The name without the tag, as the push API takes it.
    pub fn name(&self) -> String {
        if self.registry == DOCKER_HUB {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }

    /// Whether the registry is on this machine, where Docker itself speaks
    /// plain HTTP to it.
    pub fn is_loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(h, _)| h);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }
}

/// A registry address as a user writes it (`https://127.0.0.1:5000/`), reduced
/// to `host[:port]` so it can be matched against a reference's registry.
pub fn registry_host(address: &str) -> String {
    let a = address
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let a = a.split('/').next().unwrap_or(a);
    match a {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> (String, String, String) {
        let r = Reference::parse(s).expect(s);
        (r.registry, r.repository, r.tag)
    }

    #[test]
    fn registry_repository_and_tag() {
        let t = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(r("web"), t("docker.io", "library/web", "latest"));
        assert_eq!(r("team/web:1"), t("docker.io", "team/web", "1"));
        assert_eq!(
            r("127.0.0.1:5000/web"),
            t("127.0.0.1:5000", "web", "latest")
        );
        assert_eq!(
            r("127.0.0.1:5000/a/web:v2"),
            t("127.0.0.1:5000", "a/web", "v2")
        );
        assert_eq!(r("localhost/web:x"), t("localhost", "web", "x"));
        assert_eq!(Reference::parse("web@sha256:00"), None);
        assert_eq!(Reference::parse(""), None);
        assert_eq!(Reference::parse("web:"), None);
    }

    #[test]
    fn push_names_and_loopback() {
        assert_eq!(Reference::parse("web:1").unwrap().name(), "web");
        let local = Reference::parse("127.0.0.1:5000/a/web:1").unwrap();
        assert_eq!(local.name(), "127.0.0.1:5000/a/web");
        assert!(local.is_loopback());
        assert!(!Reference::parse("example.com/web").unwrap().is_loopback());
    }

    #[test]
    fn addresses_reduce_to_hosts() {
        assert_eq!(registry_host("https://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(registry_host("registry-1.docker.io"), "docker.io");
        assert_eq!(registry_host("127.0.0.1:5001"), "127.0.0.1:5001");
    }
}
