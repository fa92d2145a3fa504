//! The router: HAProxy, changed live through its runtime API (a line
//! protocol on a TCP socket on loopback). Every host it serves is one entry
//! of its map `dumcel-hosts.map`, host -> `address:port`; the frontend looks
//! the request's Host up in it and connects there, and answers 404 for a
//! host it does not hold (dev/services/router.sh writes that configuration).
//!
//! Why HAProxy: a map entry changes without a reload, so a switch drops no
//! connection. Caddy 2.6 (Debian's), tried first, reloads its whole
//! configuration on every change through its admin API, and reset about one
//! connection in ten switches under load (measured: 12 resets in 100
//! switches, against 0 in 200 for HAProxy).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

use crate::error::DockerError;

/// Where the router's runtime API listens when neither the provider's
/// `router` nor DUMCEL_ROUTER say.
pub const DEFAULT_ADMIN: &str = "127.0.0.1:8481";
/// The map the router's configuration routes by.
const MAP_FILE_NAME: &str = "dumcel-hosts.map";
const TIMEOUT: Duration = Duration::from_secs(10);
/// A runtime API answer is small; a longer one is not the router's.
const MAX_ANSWER: u64 = 16 << 20;

/// One route as the router holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub host: String,
    /// `address:port` the router connects to.
    pub upstream: String,
}

pub struct Router {
    admin: String,
    /// The map's path as the router knows it, found on first use.
    map: OnceCell<String>,
}

/// The id a route has in state: its host.
pub fn route_id(host: &str) -> String {
    host.to_owned()
}

impl Router {
    pub fn new(admin: &str) -> Router {
        Router {
            admin: admin.trim_start_matches("tcp://").to_owned(),
            map: OnceCell::new(),
        }
    }

    fn error(&self, message: impl Into<String>) -> DockerError {
        DockerError::Router {
            admin: self.admin.clone(),
            message: message.into(),
        }
    }

    /// The route for `host`, if the router has one.
    pub async fn get(&self, host: &str) -> Result<Option<Route>, DockerError> {
        let map = self.map().await?;
        let answer = self.command(&format!("show map {map}")).await?;
        Ok(parse_map(&answer).into_iter().find(|r| r.host == host))
    }

    /// Adds the route of a host the router does not serve yet.
    pub async fn create(&self, route: &Route) -> Result<(), DockerError> {
        let map = self.map().await?;
        let (host, upstream) = checked(route)?;
        self.expect_empty(&format!("add map {map} {host} {upstream}"))
            .await
    }

    /// Points the existing route of `route.host` at `route.upstream`: one
    /// atomic change, requests already sent finish where they went.
    pub async fn replace(&self, route: &Route) -> Result<(), DockerError> {
        let map = self.map().await?;
        let (host, upstream) = checked(route)?;
        self.expect_empty(&format!("set map {map} {host} {upstream}"))
            .await
    }

    /// Removes the route of `host`; a route already gone is not an error.
    pub async fn delete(&self, host: &str) -> Result<(), DockerError> {
        if self.get(host).await?.is_none() {
            return Ok(());
        }
        let map = self.map().await?;
        self.expect_empty(&format!("del map {map} {host}")).await
    }

    /// The path of the router's dumcel map, from its list of maps.
    async fn map(&self) -> Result<&String, DockerError> {
        self.map
            .get_or_try_init(|| async {
                let list = self.command("show map").await?;
                list.lines()
                    .filter_map(|line| {
                        let (_, rest) = line.split_once('(')?;
                        let (path, _) = rest.split_once(')')?;
                        path.ends_with(MAP_FILE_NAME).then(|| path.to_owned())
                    })
                    .next()
                    .ok_or_else(|| {
                        self.error(format!(
                            "it has no map {MAP_FILE_NAME} to route by; start the router with dev/services/router.sh"
                        ))
                    })
            })
            .await
    }

    async fn expect_empty(&self, command: &str) -> Result<(), DockerError> {
        let answer = self.command(command).await?;
        match answer.trim() {
            "" => Ok(()),
            other => Err(self.error(format!("{command}: {other}"))),
        }
    }

    /// Sends one command and reads the answer (the router closes the
    /// connection after it).
    async fn command(&self, command: &str) -> Result<String, DockerError> {
        let exchange = async {
            let mut stream = TcpStream::connect(&self.admin).await?;
            stream.write_all(format!("{command}\n").as_bytes()).await?;
            let mut answer = String::new();
            stream.take(MAX_ANSWER).read_to_string(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(self.error(format!(
                "{e} (is the router running? dev/services/router.sh starts it)"
            ))),
            Err(_) => Err(self.error(format!("no answer within {}s", TIMEOUT.as_secs()))),
        }
    }
}

/// Host and upstream as one line of the line protocol may carry them.
fn checked(route: &Route) -> Result<(&str, &str), DockerError> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    };
    if plain(&route.host) && plain(&route.upstream) {
        Ok((&route.host, &route.upstream))
    } else {
        Err(DockerError::Invalid(format!(
            "a route needs a plain host name and address:port, not {:?} -> {:?}",
            route.host, route.upstream
        )))
    }
}

/// `show map FILE` lines: `0x55d0c1e0 HOST UPSTREAM`.
fn parse_map(answer: &str) -> Vec<Route> {
    answer
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _entry = fields.next()?.strip_prefix("0x")?;
            let host = fields.next()?;
            let upstream = fields.next()?;
            Some(Route {
                host: host.to_owned(),
                upstream: upstream.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_entries_are_read_and_other_lines_skipped() {
        let answer = "0x563c2407dc90 shop.localhost 127.0.0.1:32768\n0x563c2407dd00 a--shop.localhost 127.0.0.1:32769\n\nUnknown command\n";
        assert_eq!(
            parse_map(answer),
            [
                Route {
                    host: "shop.localhost".into(),
                    upstream: "127.0.0.1:32768".into()
                },
                Route {
                    host: "a--shop.localhost".into(),
                    upstream: "127.0.0.1:32769".into()
                }
            ]
        );
    }

    #[test]
    fn nothing_that_could_be_a_second_command_reaches_the_router() {
        let route = |host: &str, upstream: &str| Route {
            host: host.into(),
            upstream: upstream.into(),
        };
        assert!(checked(&route("shop.localhost", "127.0.0.1:80")).is_ok());
        assert!(checked(&route("shop.localhost", "[::1]:80")).is_ok());
        for (host, upstream) in [
            ("a\nshutdown", "127.0.0.1:80"),
            ("a b", "127.0.0.1:80"),
            ("a", "1;show"),
            ("", "127.0.0.1:80"),
        ] {
            assert!(
                checked(&route(host, upstream)).is_err(),
                "{host:?} {upstream:?}"
            );
        }
    }
}
