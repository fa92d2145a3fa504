//! A build's output, kept and followed: each line the image build reports
//! is appended to `<work_dir>/build-logs/<project>/<delivery>.log` (where
//! `dumcel-pipeline serve` reads it back) and published as a `build_log`
//! event for whoever follows the project live. With `build_logs_bucket`, the
//! finished log is also put in S3 under the same relative key, for a `serve`
//! that does not share the worker's disk (workers on ECS, say).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::error::DisplayErrorContext;
use tokio::sync::mpsc;

use crate::pipeline::Emitter;
use crate::push::valid_delivery;

/// Where the build log of `delivery` is kept, relative to the work
/// directory and as an S3 key; `None` for a delivery id that could not be a
/// file name (the API passes ids from URLs).
pub fn key(project: &str, delivery: &str) -> Option<String> {
    valid_delivery(delivery).then(|| format!("build-logs/{project}/{delivery}.log"))
}

/// [`key`] under `work_dir`.
pub fn path(work_dir: &Path, project: &str, delivery: &str) -> Option<PathBuf> {
    key(project, delivery).map(|k| work_dir.join(k))
}

/// The S3 bucket build logs are also kept in.
#[derive(Clone)]
pub struct Bucket {
    pub s3: aws_sdk_s3::Client,
    pub name: String,
}

impl Bucket {
    /// The bucket of `config`, when it names one.
    pub async fn of(config: &crate::config::Config) -> Option<Bucket> {
        let name = config.build_logs_bucket.clone()?;
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        // A custom endpoint (an emulator, a gateway) has no per-bucket host
        // names: address the bucket by path there.
        let s3 = aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(aws.endpoint_url().is_some())
            .build();
        Some(Bucket {
            s3: aws_sdk_s3::Client::from_conf(s3),
            name,
        })
    }

    /// Puts the log file at `path` under `key`.
    pub async fn put(&self, key: &str, path: &Path) -> Result<(), String> {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(path)
            .await
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        self.s3
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type("text/plain; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("s3://{}/{key}: {}", self.name, DisplayErrorContext(e)))?;
        Ok(())
    }

    /// The log under `key`; `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let fail = |e: String| format!("s3://{}/{key}: {e}", self.name);
        match self
            .s3
            .get_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| fail(e.to_string()))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(fail(DisplayErrorContext(e).to_string())),
        }
    }
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
    if let (Some(bucket), Some(key), Some(path)) = (
        &emitter.services.build_logs,
        key(&job.repo.project, &job.push.delivery),
        path(
            &emitter.services.config.work_dir,
            &job.repo.project,
            &job.push.delivery,
        ),
    ) {
        let put =
            crate::retry::transient("keeping the build log in S3", || bucket.put(&key, &path));
        if let Err(e) = put.await {
            tracing::warn!(error = %e, "the build log stays on this worker only");
        }
    }
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
