//! What the end-to-end Docker tests share: a check that a Docker engine
//! answers (they fail, loudly, when none does: CI starts one with
//! dev/services/docker.sh), results read through the docker CLI as a person
//! would, build contexts (examples/app as it is, or one with busybox for a
//! Dockerfile of the test's own), and cleanup of whatever a failed test left
//! behind.
#![allow(dead_code)]

pub mod load;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The open local registry and the one that asks for a password, as
/// dev/services/docker.sh starts them.
pub const REGISTRY: &str = "127.0.0.1:5000";
pub const AUTH_REGISTRY: &str = "127.0.0.1:5001";
pub const AUTH_USER: &str = "dumcel-test";
pub const AUTH_PASSWORD: &str = "dumcel-test-password";

/// Panics with what to do when no Docker engine answers.
pub fn require_docker() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "these tests need a running Docker engine, and none answers: start one with dev/services/docker.sh (dev/test.sh does)\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("these tests need the docker CLI on PATH: {e}"),
    }
}

/// Panics when the registry at `address` does not answer.
pub fn require_registry(address: &str) {
    if let Err(e) = http_get(&format!("http://{address}/v2/"), &[]) {
        panic!(
            "these tests need the local registry at {address}: start it with dev/services/docker.sh ({e})"
        );
    }
}

/// Runs the docker CLI; its stdout, trimmed, or its stderr as the error.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// `docker inspect --format FORMAT NAME` for one object of `kind`
/// (container, network, volume, image); `None` when there is no such object.
pub fn inspect(kind: &str, name: &str, format: &str) -> Option<String> {
    docker(&[kind, "inspect", "--format", format, name]).ok()
}

pub fn exists(kind: &str, name: &str) -> bool {
    inspect(kind, name, "{{.Name}}").is_some() || inspect(kind, name, "{{.Id}}").is_some()
}

/// Names of every container, network and volume whose name starts with `prefix`.
pub fn leftovers(prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (kind, list) in [
        ("container", vec!["ps", "-a", "--format", "{{.Names}}"]),
        ("network", vec!["network", "ls", "--format", "{{.Name}}"]),
        ("volume", vec!["volume", "ls", "--format", "{{.Name}}"]),
        (
            "image",
            vec!["images", "--format", "{{.Repository}}:{{.Tag}}"],
        ),
    ] {
        let out = docker(&list).unwrap_or_default();
        found.extend(
            out.lines()
                .filter(|n| n.starts_with(prefix) || n.contains(&format!("/{prefix}")))
                .map(|n| format!("{kind} {n}")),
        );
    }
    found
}

/// A name prefix unique to this test run, so tests running at once (and
/// runs on one machine) never share an object.
pub fn unique(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "dumcel-t{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        test
    )
}

/// Removes every object (and router route) whose name starts with the
/// prefix when dropped, so that a failing test leaves nothing behind.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for item in leftovers(&self.0) {
            let (kind, name) = item.split_once(' ').unwrap_or(("", ""));
            let _ = match kind {
                "container" => docker(&["rm", "-f", name]),
                "network" => docker(&["network", "rm", name]),
                "volume" => docker(&["volume", "rm", "-f", name]),
                "image" => docker(&["rmi", "-f", name]),
                _ => Ok(String::new()),
            };
        }
        for host in routes_of(&self.0) {
            remove_route(&host);
        }
    }
}

/// Debian's static busybox, the one binary the tests' own `FROM scratch`
/// images are made of (examples/app starts `FROM busybox`, the local image
/// dev/services/base-images.sh builds from it).
pub fn busybox() -> PathBuf {
    ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("busybox is needed to build test images: install busybox-static (dev/services/docker.sh does)")
}

/// The repository's examples directory.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Copies examples/app, as it is in the repository, into `dir`. Its
/// Dockerfile starts `FROM busybox`: nothing can be pulled here, so the
/// local image dev/services/docker.sh builds must be there.
pub fn app_context(dir: &Path) {
    if let Err(e) = docker(&["image", "inspect", "--format", "{{.Id}}", "busybox:latest"]) {
        panic!(
            "examples/app is built FROM busybox, and there is no busybox:latest image: dev/services/docker.sh builds it ({e})"
        );
    }
    copy_dir(&examples().join("app"), dir);
}

/// A context whose Dockerfile is `dockerfile`, with busybox beside it (for
/// `FROM scratch` + `COPY busybox /bin/busybox`) and examples/app's page.
pub fn context_with(dir: &Path, dockerfile: &str) {
    app_context(dir);
    std::fs::copy(busybox(), dir.join("busybox")).expect("copy busybox");
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("write Dockerfile");
    // A page of its own, so this context's build shares no cached layer
    // with another test's: a test that removes its image prunes its untagged
    // parents, and a build running at the same time on those very layers
    // would fail ("failed to get digest").
    std::fs::write(dir.join("www/context.txt"), dir.display().to_string())
        .expect("write the context's own page");
}

/// Copies the directory `from` into `to`, subdirectories included.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.1 GET to a loopback address (only ever 127.0.0.1 here).
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
    http("GET", url, headers)
}

pub fn http(method: &str, url: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !host.starts_with("127.") && !host.starts_with("localhost") {
        return Err(format!("{url}: tests only talk to loopback addresses"));
    }
    exchange(host, host, method, path, headers, url)
}

/// The router of the Docker-host target and its runtime API, as
/// dev/services/router.sh starts them.
pub const ROUTER: &str = "127.0.0.1:8480";
pub const ROUTER_ADMIN: &str = "127.0.0.1:8481";

/// One command to the router's runtime API, and its answer.
pub fn router_command(command: &str) -> String {
    let mut stream = TcpStream::connect(ROUTER_ADMIN)
        .expect("the router's runtime API answers: start it with dev/services/router.sh");
    stream
        .write_all(format!("{command}\n").as_bytes())
        .expect("send to the router");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the router");
    answer
}

/// The path of the router's map, from its list of maps.
fn router_map() -> Option<String> {
    router_command("show map")
        .lines()
        .filter_map(|l| l.split_once('(')?.1.split_once(')'))
        .map(|(path, _)| path.to_owned())
        .find(|path| path.ends_with("/dumcel-hosts.map"))
}

/// Removes the route of `host` behind dumcel's back, as a person would.
pub fn remove_route(host: &str) {
    let map = router_map().expect("the router has its map");
    let answer = router_command(&format!("del map {map} {host}"));
    assert_eq!(answer.trim(), "", "{answer}");
}

/// Hosts the router serves whose name starts with `prefix`.
/// A pipeline project's containers (by their `dumcel.project` label) and
/// routes (`<project>.localhost` and every preview's `<branch>--<project>.localhost`),
/// removed when dropped, so that a failing pipeline test leaves nothing behind.
pub struct ProjectLeftovers(pub Vec<String>);

impl Drop for ProjectLeftovers {
    fn drop(&mut self) {
        for project in &self.0 {
            let filter = format!("label=dumcel.project={project}");
            if let Ok(ids) = docker(&["ps", "-aq", "--filter", &filter]) {
                for id in ids.lines() {
                    let _ = docker(&["rm", "-f", id]);
                }
            }
            let production = format!("{project}.localhost");
            let preview = format!("--{project}.localhost");
            for host in routes_of("") {
                if host == production || host.ends_with(&preview) {
                    remove_route(&host);
                }
            }
        }
    }
}

fn routes_of(prefix: &str) -> Vec<String> {
    if TcpStream::connect(ROUTER_ADMIN).is_err() {
        return Vec::new();
    }
    let Some(map) = router_map() else {
        return Vec::new();
    };
    router_command(&format!("show map {map}"))
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|host| host.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// GET `http://<host>/` through the router, as a browser resolving `host`
/// to it would (a name under `.localhost` is loopback).
pub fn routed_get(host: &str) -> Result<Response, String> {
    exchange(ROUTER, host, "GET", "", &[], &format!("http://{host}/"))
}

/// One request on a new connection to `connect`, with `Host: host`.
fn exchange(
    connect: &str,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    url: &str,
) -> Result<Response, String> {
    let mut stream = TcpStream::connect(connect).map_err(|e| format!("{url}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut request = format!("{method} /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{url}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("{url}: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{url}: not an HTTP answer: {head}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Basic auth header value for a registry user.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}
