use std::sync::Arc;

use dumcel_engine::provider::Registry;

/// Every provider this dumcel ships: the built-in ones, Docker and AWS.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    dumcel_engine::builtin::register(&mut r);
    r.add(Arc::new(dumcel_provider_docker::Docker::new()));
    dumcel_provider_aws::register(&mut r);
    r
}
