//! The provider's image build and push as a library, for callers outside a
//! stack: the pipeline worker builds each pushed commit and pushes it with a
//! registry token it got from the ECR API, with the same step-by-step build
//! errors and digests as `docker_image` and `docker_registry_image`.

use std::collections::HashMap;
use std::path::Path;

use crate::build::{BuildSpec, build};
use crate::client::{RegistryAuth, Settings, Shared};
use crate::error::DockerError;
use crate::push::push;
use crate::reference::Reference;

pub struct Images {
    shared: Shared,
}

impl Images {
    /// A client for the engine at `host` (else DOCKER_HOST, else the local
    /// socket), pushing with `auth`.
    pub fn new(host: Option<String>, auth: Vec<RegistryAuth>) -> Images {
        let shared = Shared::default();
        shared.configure(Settings {
            host,
            registry_auth: auth,
            router: None,
        });
        Images { shared }
    }

    /// Builds `dockerfile` in `context` and tags it `tag`; the image ID. A
    /// failure is [`DockerError::Build`], naming the failing step.
    pub async fn build(
        &self,
        tag: &str,
        context: &Path,
        dockerfile: &str,
    ) -> Result<String, DockerError> {
        let spec = BuildSpec {
            tag,
            context,
            dockerfile,
            build_args: HashMap::new(),
            labels: HashMap::new(),
            target: String::new(),
        };
        build(&self.shared, spec).await
    }

    /// Pushes the local image `name` (`registry/repository:tag`); the
    /// pushed manifest's digest.
    pub async fn push(&self, name: &str) -> Result<String, DockerError> {
        let reference = Reference::parse(name).ok_or_else(|| {
            DockerError::Invalid(format!("{name:?} is not an image name to push"))
        })?;
        push(&self.shared, &reference, name).await
    }
}
