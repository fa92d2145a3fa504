//! A build's output, kept and followed: each line the image build reports
//! is appended to `<work_dir>/build-logs/<project>/<delivery>.log` (where
//! `dumcel-pipeline serve` reads it back) and published as a `build_log`
//! event for whoever follows the project live.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::pipeline::Emitter;
use crate::push::valid_delivery;

/// Where the build log of `delivery` is kept; `None` for a delivery id that
/// could not be a file name (the API passes ids from URLs).
pub fn path(work_dir: &Path, project: &str, delivery: &str) -> Option<PathBuf> {
    valid_delivery(delivery).then(|| {
        work_dir
            .join("build-logs")
            .join(project)
            .join(format!("{delivery}.log"))
    })
}

/// Runs `build` (attempt `attempt` of the push) with its progress lines
/// going to the job's build log, and returns what the build returned. A log
/// that cannot be written is a warning: the build goes on.
pub async fn capture<T>(emitter: &Emitter<'_>, attempt: u32, build: impl Future<Output = T>) -> T {
    let (lines, mut arriving) = mpsc::unbounded_channel::<String>();
    let sink: dumcel_engine::progress::Sink = Arc::new(move |line: &str| {
        let _ = lines.send(line.to_owned());
    });
    // The sink (and with it the sender) is dropped when the build ends, or
    // when it is dropped half-way: the loop below then ends too.
    let building = dumcel_engine::progress::scope(sink, build);
    let job = emitter.job;
    let mut file = path(
        &emitter.services.config.work_dir,
        &job.repo.project,
        &job.push.delivery,
    )
    .and_then(|path| open(&path));
    let keeping = async {
        let mut n = 0;
        while let Some(line) = arriving.recv().await {
            n += 1;
            if let Some(f) = file.as_mut()
                && let Err(e) = writeln!(f, "{line}")
            {
                tracing::warn!(error = %e, "writing the build log; it stops here");
                file = None;
            }
            emitter.build_log(line, attempt, n);
        }
        if let Some(mut f) = file {
            let _ = f.flush();
        }
    };
    let (built, ()) = tokio::join!(building, keeping);
    built
}

fn open(path: &Path) -> Option<std::io::BufWriter<std::fs::File>> {
    let opened = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::File::create(path));
    match opened {
        Ok(f) => Some(std::io::BufWriter::new(f)),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot keep the build log");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_delivery_id_names_a_log_file() {
        let dir = Path::new("/w");
        assert_eq!(
            path(dir, "app", "abc-123"),
            Some(PathBuf::from("/w/build-logs/app/abc-123.log"))
        );
        for bad in ["../x", "a/b", "", ".", "a.b"] {
            assert_eq!(path(dir, "app", bad), None, "{bad}");
        }
    }
}
