//! A real OpenID Connect provider for sign-in tests: the npm package
//! oidc-provider (dev/services/oidc.sh) on a port of its own, with one
//! client, `dumcel`, and its development sign-in form, which takes any login.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::free_port;

/// The client secret the provider and serve share (a test fixture).
pub const CLIENT_SECRET: &str = "signin-test-client-secret";

pub struct Provider {
    child: Child,
    pub port: u16,
}

impl Provider {
    /// Starts it for a client sent back to `callback`; `groups` is the
    /// `groups` claim per login, as JSON (`{"alice": ["octo"]}`).
    pub fn start(callback: &str, groups: &str, log: &std::path::Path) -> Provider {
        let script = std::env::var("DUMCEL_OIDC_SERVER").unwrap_or_else(|_| {
            panic!("DUMCEL_OIDC_SERVER is not set: dev/test.sh sets it from dev/services/oidc.sh")
        });
        let port = free_port();
        let child = Command::new("node")
            .arg(script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_ID", "dumcel")
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URIS", callback)
            .env("OIDC_GROUPS", groups)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "oidc-provider did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Provider { child, port }
    }

    /// serve's `api` block signing people in with this provider, serve
    /// listening on `port`; the client secret is read from
    /// `E2E_SIGNIN_SECRET`.
    pub fn api_block(&self, port: u16) -> String {
        format!(
            "api {{\n  listen = \"127.0.0.1:{port}\"\n  sign_in {{\n    provider = \"oidc\"\n    issuer = \"http://127.0.0.1:{}\"\n    client_id = \"dumcel\"\n    client_secret_env = \"E2E_SIGNIN_SECRET\"\n    public_url = \"http://127.0.0.1:{port}\"\n  }}\n}}\n",
            self.port
        )
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
