//! Progress lines ("Creating...", "Refreshing state...") written to stdout in
//! batches. An apply of 1,000 built-in resources prints 2,000 of them within
//! a few milliseconds: a `write` each was a tenth of its time, and through a
//! pipe (a Jenkins log) each also woke the reader. A line is written at most
//! [`WINDOW`] after it is printed, by a thread that sleeps in between, so a
//! "Creating..." before a long provider call still shows at once to a person.
//!
//! Anything else that writes to stdout or stderr while lines may be waiting
//! calls [`flush`] first, so a merged log keeps its order: diagnostics, the
//! interrupt notice, the plan, the summary, the error at exit.

use std::fmt;
use std::io::{Stdout, Write};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait for others to share its `write`.
const WINDOW: Duration = Duration::from_millis(20);

static STDOUT: LazyLock<Batched<Stdout>> = LazyLock::new(|| Batched::new(std::io::stdout()));

/// Prints one line of progress on stdout.
pub fn print(line: fmt::Arguments<'_>) {
    STDOUT.line(line);
}

/// Writes the progress lines still waiting.
pub fn flush() {
    // Nothing to write if no line was ever printed: no thread to start.
    if let Some(lines) = LazyLock::get(&STDOUT) {
        lines.flush();
    }
}

/// Lines for `W`, written together by a thread of their own.
pub struct Batched<W: Write + Send + 'static> {
    shared: Arc<Shared<W>>,
    /// `None` when the thread could not start: each line is then written
    /// as it comes.
    thread: Option<JoinHandle<()>>,
}

struct Shared<W> {
    pending: Mutex<Pending<W>>,
    /// Told when a line arrives with none waiting, and when closing.
    arrived: Condvar,
}

struct Pending<W> {
    /// Whole lines, each with its `\n`.
    bytes: Vec<u8>,
    /// Written under the lock, so lines go out in the order they came
    /// whoever writes them.
    out: W,
    closed: bool,
}

impl<W> Pending<W>
where
    W: Write,
{
    fn write_out(&mut self) {
        if self.bytes.is_empty() {
            return;
        }
        // As `println!` would, a closed stdout (a pipe whose reader left)
        // drops the lines; the command goes on and its exit code says how
        // it went.
        let _ = self.out.write_all(&self.bytes);
        let _ = self.out.flush();
        self.bytes.clear();
    }
}

impl<W> Shared<W> {
    fn pending(&self) -> MutexGuard<'_, Pending<W>> {
        // Nothing under the lock panics but a writer's own code; the bytes
        // are still whole lines then.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<W> Batched<W>
where
    W: Write + Send + 'static,
{
    pub fn new(out: W) -> Batched<W> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                bytes: Vec::new(),
                out,
                closed: false,
            }),
            arrived: Condvar::new(),
        });
        let thread = std::thread::Builder::new()
            .name("dumcel-progress".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || write_batches(&shared)
            })
            .map_err(|e| tracing::debug!(error = %e, "progress lines are written one by one"))
            .ok();
        Batched { shared, thread }
    }

    pub fn line(&self, line: fmt::Arguments<'_>) {
        let mut pending = self.shared.pending();
        let first = pending.bytes.is_empty();
        // Writing to a `Vec` cannot fail; a `Display` that fails leaves
        // part of its line, as `println!` would.
        let _ = writeln!(pending.bytes, "{line}");
        if self.thread.is_none() {
            pending.write_out();
        } else if first {
            // Only the first line of a batch wakes the thread: the others
            // find it asleep for the window, and cost no system call.
            self.shared.arrived.notify_one();
        }
    }

    pub fn flush(&self) {
        self.shared.pending().write_out();
    }
}

impl<W> Drop for Batched<W>
where
    W: Write + Send + 'static,
{
    fn drop(&mut self) {
        self.shared.pending().closed = true;
        self.shared.arrived.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.flush();
    }
}

/// Waits for a line, lets others join it for [`WINDOW`], writes them all.
fn write_batches<W: Write>(shared: &Shared<W>) {
    loop {
        {
            let mut pending = shared.pending();
            while pending.bytes.is_empty() && !pending.closed {
                pending = shared
                    .arrived
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if pending.closed {
                return;
            }
        }
        std::thread::sleep(WINDOW);
        shared.pending().write_out();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A `Write` whose bytes and `write` calls the test can read.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut r = self.0.lock().expect("recorder");
            r.0.extend_from_slice(buf);
            r.1 += 1;
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Recorder {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("recorder").0.clone()).expect("utf-8")
        }

        fn writes(&self) -> usize {
            self.0.lock().expect("recorder").1
        }
    }

    #[test]
    fn many_lines_go_out_in_order_in_few_writes() {
        let out = Recorder::default();
        let lines = Batched::new(out.clone());
        let expected: String = (0..2000)
            .map(|i| format!("r[{i}]: Creating...\n"))
            .collect();
        for i in 0..2000 {
            lines.line(format_args!("r[{i}]: Creating..."));
        }
        lines.flush();
        assert_eq!(out.text(), expected);
        assert!(out.writes() < 20, "{} writes for 2,000 lines", out.writes());
        drop(lines);
        assert_eq!(out.text(), expected, "nothing twice");
    }

    /// A line printed before a long wait (a provider call of minutes) shows
    /// without anything else being printed or flushed.
    #[test]
    fn a_lone_line_is_written_without_a_flush() {
        let out = Recorder::default();
        let lines = Batched::new(out.clone());
        lines.line(format_args!("aws_ecs_service.app: Creating..."));
        let deadline = Instant::now() + Duration::from_secs(10);
        while out.text().is_empty() {
            assert!(Instant::now() < deadline, "the line was never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(out.text(), "aws_ecs_service.app: Creating...\n");
        lines.line(format_args!(
            "aws_ecs_service.app: Creation complete after 1m3s"
        ));
        drop(lines);
        assert_eq!(
            out.text(),
            "aws_ecs_service.app: Creating...\naws_ecs_service.app: Creation complete after 1m3s\n",
            "dropping writes what waits"
        );
    }
}
