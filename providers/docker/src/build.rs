//! Running one image build: the context goes up as a tar stream, each output
//! line is streamed to the user as progress, and a failure names the step
//! that failed with that step's own output.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;

use crate::client::Shared;
use crate::context;
use crate::error::{DockerError, indented};

/// How many output lines of the failing step an error carries.
const FAILED_STEP_LINES: usize = 30;

pub struct BuildSpec<'a> {
    pub tag: &'a str,
    pub context: &'a Path,
    pub dockerfile: &'a str,
    pub build_args: HashMap<String, String>,
    pub labels: HashMap<String, String>,
    pub target: String,
}

/// How many times a build whose cached parent vanished is started again.
const CACHE_RETRIES: usize = 2;

/// Builds and tags the image; returns its ID.
///
/// Removing an image prunes its untagged parents, which are also the build
/// cache: a build that reused one of them at that moment fails (see
/// [`cached_layer_vanished`]). Nothing is wrong with the Dockerfile then, so
/// the build is started again (it rebuilds the missing layer).
pub async fn build(shared: &Shared, spec: BuildSpec<'_>) -> Result<String, DockerError> {
    let mut attempt = 0;
    loop {
        match build_once(shared, &spec).await {
            Err(DockerError::Build { message, .. })
                if attempt < CACHE_RETRIES && cached_layer_vanished(&message) =>
            {
                attempt += 1;
                dumcel_engine::progress::report(
                    "a cached layer was removed during the build; building again",
                );
                tracing::debug!(%message, attempt, "build cache changed under the build");
            }
            other => return other,
        }
    }
}

/// Whether dockerd's build error says a cached layer was removed under it:
/// "unknown parent image ID" when the step's parent went, "unable to find
/// image \"sha256:…\"" when the cache hit of the step itself went (named by
/// its ID; a missing `FROM` image is named as written). A real miss fails the
/// same way again after the retries.
fn cached_layer_vanished(message: &str) -> bool {
    message.contains("unknown parent image ID")
        || message.contains("unable to find image \"sha256:")
}

async fn build_once(shared: &Shared, spec: &BuildSpec<'_>) -> Result<String, DockerError> {
    let dir = spec.context.to_path_buf();
    let dockerfile = spec.dockerfile.to_owned();
    let tarball = tokio::task::spawn_blocking(move || context::tar(&dir, &dockerfile))
        .await
        .map_err(|e| DockerError::Invalid(format!("packing the build context stopped: {e}")))??;
    let docker = shared.docker().await?;
    let options = BuildImageOptions {
        dockerfile: spec.dockerfile.to_owned(),
        t: Some(spec.tag.to_owned()),
        buildargs: Some(spec.build_args.clone()),
        labels: Some(spec.labels.clone()),
        target: spec.target.clone(),
        rm: true,
        // Remove the intermediate containers of a failed step too.
        forcerm: true,
        ..Default::default()
    };
    let credentials = Some(shared.all_credentials());
    let mut stream = docker.build_image(
        options,
        credentials,
        Some(bollard::body_full(tarball.into())),
    );

    let mut step = String::new();
    let mut step_output: Vec<String> = Vec::new();
    let mut image_id: Option<String> = None;
    let failed = |step: &str, output: &[String], message: String| DockerError::Build {
        image: spec.tag.to_owned(),
        step: (!step.is_empty()).then(|| step.to_owned()),
        message: message.trim().to_owned(),
        output: indented(output, FAILED_STEP_LINES),
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream.as_deref() {
                    let text = strip_ansi(text);
                    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                        dumcel_engine::progress::report(line);
                        if line.starts_with("Step ") {
                            step = line.to_owned();
                            step_output.clear();
                        } else {
                            step_output.push(line.to_owned());
                        }
                    }
                }
                if let Some(aux) = info.aux {
                    image_id = aux.id.or(image_id);
                }
                if let Some(detail) = info.error_detail {
                    let message = detail.message.unwrap_or_else(|| "the build failed".into());
                    return Err(failed(&step, &step_output, message));
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(failed(&step, &step_output, error));
            }
            Err(e) => {
                // The daemon refused the request itself (a bad Dockerfile path,
                // an unknown target): its message says why.
                let message = match &e {
                    bollard::errors::Error::DockerResponseServerError { message, .. } => {
                        message.clone()
                    }
                    other => other.to_string(),
                };
                return Err(failed(&step, &step_output, message));
            }
        }
    }
    match image_id {
        Some(id) => Ok(id),
        // Older daemons do not send the ID as an aux message: ask for the tag.
        None => docker
            .inspect_image(spec.tag)
            .await
            .map_err(|e| {
                DockerError::api(format!("inspecting the image {} just built", spec.tag), e)
            })?
            .id
            .ok_or_else(|| DockerError::Invalid(format!("the image {} has no ID", spec.tag))),
    }
}

/// The builder colours a step's stderr with terminal escapes; they would be
/// noise in progress lines and errors (and the CLI does its own colours).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_vanished_cached_layer_is_told_from_a_broken_dockerfile() {
        use super::cached_layer_vanished;
        assert!(cached_layer_vanished(
            "unknown parent image ID sha256:9bedbc1ae5aa"
        ));
        assert!(cached_layer_vanished(
            r#"unable to find image "sha256:e88adc255984687a36ce057d38d38617b4f799ad33eea9690fb06e5430473f9d""#
        ));
        assert!(!cached_layer_vanished(
            "pull access denied for widgets, repository does not exist"
        ));
        assert!(!cached_layer_vanished(
            "COPY failed: file not found in build context: stat www: file does not exist"
        ));
    }

    #[test]
    fn colour_escapes_are_stripped() {
        assert_eq!(
            super::strip_ansi("\u{1b}[91mwidget index is missing\n\u{1b}[0m"),
            "widget index is missing\n"
        );
    }
}
