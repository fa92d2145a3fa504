//! `aws_iam_role_policy_attachment`: a managed policy attached to a role.
//! Both arguments replace it. Its `id` is Terraform's: the role name, a dash
//! and a unique suffix when created, `role-policy_arn` when imported (by
//! `role/policy_arn`). Read asks IAM whether the role still has the policy;
//! a role gone, or the policy detached, reads as gone.

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::unique_id;
use crate::iam_role::attached_policies;

pub struct IamRolePolicyAttachment {
    shared: Arc<Shared>,
    schema: Schema,
}

/// `role/policy_arn`, split at the first slash (role names have none).
fn parse_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('/')
        .filter(|(r, a)| !r.is_empty() && !a.is_empty())
}

impl IamRolePolicyAttachment {
    pub fn new(shared: Arc<Shared>) -> IamRolePolicyAttachment {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("role", Attribute::required().force_new())
            .attr("policy_arn", Attribute::required().force_new());
        IamRolePolicyAttachment { shared, schema }
    }

    async fn attached(&self, role: &str, arn: &str) -> AwsResult<bool> {
        let iam = self.shared.iam().await;
        match attached_policies(&iam, role).await {
            Ok(arns) => Ok(arns.iter().any(|a| a == arn)),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl ResourceType for IamRolePolicyAttachment {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let role = req_str(prior, "role")?;
        let arn = req_str(prior, "policy_arn")?;
        Ok(self.attached(role, arn).await?.then(|| prior.clone()))
    }

    /// An attachment is the pair itself: if the role has the policy, that is
    /// what the cut-off create made (given a new id, as nothing recorded one).
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let role = req_str(planned, "role")?;
        let arn = req_str(planned, "policy_arn")?;
        Ok(self
            .attached(role, arn)
            .await?
            .then(|| with_all(planned, [("id", s(unique_id(&format!("{role}-"))))])))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let role = req_str(planned, "role")?;
        let arn = req_str(planned, "policy_arn")?;
        self.shared
            .iam()
            .await
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(sdk("AttachRolePolicy"))?;
        Ok(with_all(
            planned,
            [("id", s(unique_id(&format!("{role}-"))))],
        ))
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Both arguments replace; nothing changes in place.
        Ok(planned.clone())
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let role = req_str(prior, "role")?;
        let arn = req_str(prior, "policy_arn")?;
        match self
            .shared
            .iam()
            .await
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::sdk("DetachRolePolicy", e);
                if e.is_not_found() {
                    Ok(())
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (role, arn) = parse_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "unexpected format of ID ({id:?}), expected <role-name>/<policy_arn>"
            ))
        })?;
        Ok(obj([
            ("id", s(format!("{role}-{arn}"))),
            ("role", s(role)),
            ("policy_arn", s(arn)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_are_role_slash_arn() {
        assert_eq!(
            parse_id("app/arn:aws:iam::123456789012:policy/team/read"),
            Some(("app", "arn:aws:iam::123456789012:policy/team/read"))
        );
        assert_eq!(parse_id("app"), None);
        assert_eq!(parse_id("/arn"), None);
    }
}
