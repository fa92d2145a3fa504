//! Ctrl-C (SIGINT) and SIGTERM, as Terraform users know them.
//!
//! Outside an apply's walk, the first signal cancels the command: its future
//! is dropped, which releases the state locks (the DynamoDB one included) on
//! the way out. During the walk, the first signal asks it to stop starting
//! operations (those in flight finish and are recorded); a second one makes
//! the apply record what is still in flight as pending and leave at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

struct Interrupts {
    /// Signals received so far.
    count: watch::Sender<usize>,
    /// Set while an apply walk can stop by itself.
    graceful: AtomicBool,
    /// What the apply walk checks before starting each operation.
    stop: Arc<AtomicBool>,
}

static INTERRUPTS: OnceLock<Interrupts> = OnceLock::new();

fn interrupts() -> &'static Interrupts {
    INTERRUPTS.get_or_init(|| Interrupts {
        count: watch::Sender::new(0),
        graceful: AtomicBool::new(false),
        stop: Arc::default(),
    })
}

/// Starts listening for SIGINT and SIGTERM. Call once, inside the runtime,
/// before any command runs: a signal that comes earlier ends the process
/// with the default action, before any lock is taken.
pub fn install() -> std::io::Result<()> {
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = int.recv() => {}
                Some(()) = term.recv() => {}
                else => return,
            }
            let me = interrupts();
            let n = *me.count.borrow() + 1;
            crate::progress_lines::flush();
            if n == 1 {
                me.stop.store(true, Ordering::Release);
                eprintln!(
                    "\nInterrupt received.\nPlease wait for dumcel to exit or data loss may occur.\nGracefully shutting down..."
                );
            } else if n == 2 {
                eprintln!(
                    "\nTwo interrupts received. Exiting immediately. Note that data loss may have occurred."
                );
            }
            me.count.send_replace(n);
        }
    });
    Ok(())
}

/// The flag an apply walk checks before each operation.
pub fn stop_flag() -> Arc<AtomicBool> {
    interrupts().stop.clone()
}

/// Whether a signal has come.
pub fn received() -> bool {
    *interrupts().count.borrow() > 0
}

/// From now until the returned guard is dropped, the first signal does not
/// cancel the command: the apply walk stops by itself.
pub fn graceful() -> Graceful {
    interrupts().graceful.store(true, Ordering::Release);
    Graceful
}

pub struct Graceful;

impl Drop for Graceful {
    fn drop(&mut self) {
        interrupts().graceful.store(false, Ordering::Release);
    }
}

/// Resolves when the command should be cancelled: on a signal that comes
/// outside a graceful stretch (inside one, the apply handles both signals).
pub async fn cancelled() {
    let me = interrupts();
    let mut rx = me.count.subscribe();
    let mut seen = 0;
    loop {
        let n = *rx.borrow_and_update();
        if n > seen && !me.graceful.load(Ordering::Acquire) {
            return;
        }
        seen = n;
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves on the second signal.
pub async fn second() {
    let mut rx = interrupts().count.subscribe();
    // The sender lives in a static, so `wait_for` cannot fail.
    let _ = rx.wait_for(|n| *n >= 2).await;
}
