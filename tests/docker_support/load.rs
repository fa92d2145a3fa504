//! A request loop through the router: what a person watching a release
//! would see, counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::routed_get;

/// What a request loop saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: usize,
    /// Every request that did not get a 200, with what it got.
    pub failures: Vec<String>,
    /// The pages served, each time it changed.
    pub pages: Vec<String>,
    pub per_second: f64,
}

/// GETs `host` through the router every 25 ms until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Seen>,
}

impl Load {
    pub fn start(host: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let host = host.to_owned();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Seen::default();
            let began = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                seen.requests += 1;
                match routed_get(&host) {
                    Ok(r) if r.status == 200 => {
                        let page = r.body.trim().to_owned();
                        if seen.pages.last() != Some(&page) {
                            seen.pages.push(page);
                        }
                    }
                    Ok(r) => seen
                        .failures
                        .push(format!("{} {}", r.status, r.body.trim())),
                    Err(e) => seen.failures.push(e),
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            seen.per_second = seen.requests as f64 / began.elapsed().as_secs_f64();
            seen
        });
        Load { stop, thread }
    }

    pub fn finish(self) -> Seen {
        std::thread::sleep(Duration::from_millis(500));
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the request loop")
    }
}
