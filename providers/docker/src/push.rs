//! Pushing a local image to its registry and asking a registry which
//! manifest a tag names: shared by `docker_registry_image` and by callers
//! of [`crate::Images`].

use bollard::query_parameters::PushImageOptions;
use futures_util::StreamExt;

use crate::client::Shared;
use crate::error::{DockerError, status_of};
use crate::reference::Reference;

/// Pushes `name` (`reference` parsed), streaming progress; the digest of the
/// pushed manifest.
pub async fn push(
    shared: &Shared,
    reference: &Reference,
    name: &str,
) -> Result<String, DockerError> {
    let docker = shared.docker().await?;
    let options = PushImageOptions {
        tag: Some(reference.tag.clone()),
        ..Default::default()
    };
    let credentials = shared.credentials_for(&reference.registry);
    let mut stream = docker.push_image(&reference.name(), Some(options), credentials);
    let mut pushed_digest = None;
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| DockerError::Registry {
            registry: reference.registry.clone(),
            message: format!("pushing {name}: {}", stream_message(e)),
        })?;
        let Some(status) = info.status else { continue };
        // The last line is `TAG: digest: sha256:... size: N`.
        if let Some(rest) = status.split("digest: ").nth(1) {
            pushed_digest = rest.split_whitespace().next().map(str::to_owned);
        }
        if info.progress_detail.is_none() || status.contains("digest") {
            dumcel_engine::progress::report(&status);
        }
    }
    match pushed_digest {
        Some(d) => Ok(d),
        None => remote_digest(shared, reference, name)
            .await?
            .ok_or_else(|| DockerError::Registry {
                registry: reference.registry.clone(),
                message: format!("{name} was pushed but the registry does not list it"),
            }),
    }
}

/// The digest the registry holds for `name` now; `None` when it has none.
pub async fn remote_digest(
    shared: &Shared,
    reference: &Reference,
    name: &str,
) -> Result<Option<String>, DockerError> {
    let docker = shared.docker().await?;
    let credentials = shared.credentials_for(&reference.registry);
    match docker.inspect_registry_image(name, credentials).await {
        Ok(d) => Ok(d.descriptor.digest),
        // The daemon answers a missing tag or repository with 404 or, for
        // some registries, with 401/403/500 carrying "manifest unknown".
        Err(e)
            if status_of(&e) == Some(404)
                || e.to_string().contains("manifest unknown")
                || e.to_string().contains("not found") =>
        {
            Ok(None)
        }
        Err(e) => Err(DockerError::api(
            format!("asking the registry about {name}"),
            e,
        )),
    }
}

/// A push error as the registry worded it.
fn stream_message(e: bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerStreamError { error } => error,
        bollard::errors::Error::DockerResponseServerError { message, .. } => message,
        other => other.to_string(),
    }
}
