//! Credentials from an assumed IAM role: the stack's own
//! `assume_role { role_arn, session_name, external_id }` (as Terraform's AWS
//! provider takes it), or a role the host pins for a whole run ([`AwsRole`],
//! the pipeline's role for an environment), which the stack cannot change.
//!
//! Either way the role is assumed with STS from the base configuration's
//! credentials, and the temporary credentials it hands out sign every call
//! the provider makes; the SDK refreshes them before they expire.

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_s3::config::SharedCredentialsProvider;
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{block, opt_str};
use crate::error::{AwsError, AwsResult};

/// The stack's `assume_role` block.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    /// The SDK makes one up (`assume-role-provider-<time>`) when absent.
    pub session_name: Option<String>,
    /// Shared with the role's owner, who may treat it as a secret: never
    /// shown by `Debug`.
    pub external_id: Option<String>,
}

// Written by hand so that the external id never reaches a log line.
impl std::fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "(set)"))
            .finish()
    }
}

/// A role the host pins for a whole run: every `aws` provider of the run
/// assumes it from the host's own credentials, whatever the stack's
/// `provider "aws"` block says about credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRole {
    pub role_arn: String,
    /// Shows in the assumed-role ARN and in CloudTrail: who ran what.
    pub session_name: String,
}

/// The `assume_role` block of the provider's schema.
pub fn schema() -> NestedBlock {
    NestedBlock {
        schema: Schema::new()
            .attr("role_arn", Attribute::required())
            .attr("session_name", Attribute::optional())
            .attr("external_id", Attribute::optional()),
        min_items: 0,
        max_items: Some(1),
        force_new: false,
    }
}

impl AssumeRole {
    /// The block in an evaluated `provider "aws"` configuration, if any.
    pub fn from_config(config: &Value) -> AwsResult<Option<AssumeRole>> {
        let Some(b) = block(config, "assume_role") else {
            return Ok(None);
        };
        let role_arn = opt_str(b, "role_arn").unwrap_or_default().to_owned();
        if !role_arn.starts_with("arn:") || !role_arn.contains(":role/") {
            return Err(AwsError::invalid(format!(
                "assume_role.role_arn {role_arn:?} is not a role's ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )));
        }
        Ok(Some(AssumeRole {
            role_arn,
            session_name: opt_str(b, "session_name").map(str::to_owned),
            external_id: opt_str(b, "external_id").map(str::to_owned),
        }))
    }
}

/// `base` with its credentials replaced by `role`'s, assumed through STS at
/// `sts` (`base`'s own endpoint when `None`) with `base`'s credentials.
pub async fn assumed(base: SdkConfig, role: &AssumeRole, sts: Option<&str>) -> SdkConfig {
    let for_sts = match sts {
        Some(url) => base.to_builder().endpoint_url(url).build(),
        None => base.clone(),
    };
    let mut builder = AssumeRoleProvider::builder(&role.role_arn).configure(&for_sts);
    if let Some(name) = &role.session_name {
        builder = builder.session_name(name);
    }
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id);
    }
    let provider = builder.build().await;
    base.into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

impl From<&AwsRole> for AssumeRole {
    fn from(role: &AwsRole) -> AssumeRole {
        AssumeRole {
            role_arn: role.role_arn.clone(),
            session_name: Some(role.session_name.clone()),
            external_id: None,
        }
    }
}
