//! A Kafka broker of the test's own that survives a restart: tansu (built by
//! dev/services/kafka.sh) storing its log in a bucket of moto's S3, so that
//! stopping and starting it loses nothing, as a real cluster's restart does.
//! The shared broker of dev/test.sh keeps its log in memory.
//! tansu's own log (its output; `RUST_LOG` sets its level) is kept when the test
//! fails, and its path printed: a lost partition is only explained there.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::harness::{free_port, new_bucket};

pub struct Broker {
    pub addr: String,
    bucket: String,
    logs: Option<tempfile::TempDir>,
    log: PathBuf,
    child: Option<Child>,
}

/// Where dev/services/kafka.sh installs it: cargo's bin directory.
fn tansu() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    let path = cargo_home.join("bin/tansu");
    assert!(
        path.exists(),
        "tansu is not installed: dev/services/kafka.sh builds it (dev/test.sh runs it)"
    );
    path
}

impl Broker {
    /// Starts a broker on a free loopback port with a new bucket.
    pub async fn start() -> Broker {
        let (_, bucket) = new_bucket("tansu").await;
        let logs = tempfile::tempdir().unwrap();
        let mut broker = Broker {
            addr: format!("127.0.0.1:{}", free_port()),
            bucket,
            log: logs.path().join("tansu.log"),
            logs: Some(logs),
            child: None,
        };
        broker.up();
        broker
    }

    fn up(&mut self) {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let url = format!("tcp://{}", self.addr);
        let child = Command::new(tansu())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .arg("--storage-engine")
            .arg(format!("s3://{}/", self.bucket))
            .env("AWS_ENDPOINT", &endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&self.addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not start: see {}",
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the broker (kill -9), waits `down_for`, starts it again.
    pub fn restart(&mut self, down_for: Duration) {
        self.down();
        std::thread::sleep(down_for);
        self.up();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.down();
        if std::thread::panicking()
            && let Some(logs) = self.logs.take()
        {
            let _ = logs.keep();
            eprintln!("tansu's log is kept: {}", self.log.display());
        }
    }
}
