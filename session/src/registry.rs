use std::sync::Arc;

use dumcel_engine::provider::Registry;
use dumcel_provider_aws::AwsRole;

/// Every provider this dumcel ships: the built-in ones, Docker and AWS.
pub fn registry() -> Registry {
    registry_with(None)
}

/// [`registry`], with the AWS provider assuming `aws_role` (when given) for
/// every call, whatever the stack's `provider "aws"` block says. A fresh
/// registry per run: providers hold their configuration once configured.
pub(crate) fn registry_with(aws_role: Option<AwsRole>) -> Registry {
    let mut r = Registry::new();
    dumcel_engine::builtin::register(&mut r);
    r.add(Arc::new(dumcel_provider_docker::Docker::new()));
    dumcel_provider_aws::register_with(&mut r, aws_role);
    r
}
