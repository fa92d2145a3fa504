//! The one registry call the Docker Engine API has no endpoint for: deleting
//! a manifest (`keep_remotely = false`), spoken directly to the registry's
//! HTTP API v2 with the provider's credentials.

use std::time::Duration;

use reqwest::StatusCode;

use crate::client::RegistryAuth;
use crate::error::DockerError;
use crate::reference::Reference;

const TIMEOUT: Duration = Duration::from_secs(60);

fn client() -> Result<reqwest::Client, String> {
    crate::client::http_client(TIMEOUT)
}

/// Registries on loopback are spoken to over plain HTTP, as Docker itself does.
fn base_url(reference: &Reference) -> String {
    let scheme = if reference.is_loopback() {
        "http"
    } else {
        "https"
    };
    format!(
        "{scheme}://{}/v2/{}",
        reference.registry, reference.repository
    )
}

/// Deletes the manifest `digest` (and so every tag naming it) from the
/// reference's repository. A manifest already gone is not an error.
pub async fn delete_manifest(
    reference: &Reference,
    digest: &str,
    auth: Option<&RegistryAuth>,
) -> Result<(), DockerError> {
    let fail = |message: String| DockerError::Registry {
        registry: reference.registry.clone(),
        message,
    };
    let url = format!("{}/manifests/{digest}", base_url(reference));
    let mut request = client().map_err(fail)?.delete(&url);
    if let Some(a) = auth {
        request = request.basic_auth(&a.username, Some(&a.password));
    }
    // reqwest's errors name the URL, which holds no credentials.
    let response = request
        .send()
        .await
        .map_err(|e| fail(format!("deleting {}@{digest}: {e}", reference.name())))?;
    match response.status() {
        s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
        StatusCode::METHOD_NOT_ALLOWED => Err(fail(format!(
            "deleting {}@{digest}: the registry does not allow deletes; set keep_remotely = true",
            reference.name()
        ))),
        s => {
            let body = response.text().await.unwrap_or_default();
            Err(fail(format!(
                "deleting {}@{digest}: HTTP {s}: {}",
                reference.name(),
                body.trim()
            )))
        }
    }
}
