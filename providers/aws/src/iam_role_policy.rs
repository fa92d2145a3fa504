//! `aws_iam_role_policy`: an inline policy of a role. `id` is `role:name`,
//! as Terraform has it, and so is the import id. The role and name replace
//! it; the document (compared as a policy) changes in place.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::{check_name, check_policy, name_of, plan_policy, read_policy};
use crate::wait;

pub struct IamRolePolicy {
    shared: Arc<Shared>,
    schema: Schema,
}

/// `role:name`, split at the first colon (role names have none).
fn parse_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
        .filter(|(r, n)| !r.is_empty() && !n.is_empty())
}

impl IamRolePolicy {
    pub fn new(shared: Arc<Shared>) -> IamRolePolicy {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("role", Attribute::required().force_new())
            .attr("name", Attribute::optional_computed().force_new())
            .attr("name_prefix", Attribute::optional().force_new())
            .attr("policy", Attribute::required());
        IamRolePolicy { shared, schema }
    }

    /// The inline policy as a value over `base`; `None` when it (or its
    /// role) is gone.
    async fn observe(&self, base: &Value, role: &str, name: &str) -> AwsResult<Option<Value>> {
        let iam = self.shared.iam().await;
        let out = match iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = AwsError::sdk("GetRolePolicy", e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(format!("{role}:{name}"))),
                ("role", s(role)),
                ("name", s(name)),
                (
                    "policy",
                    read_policy(Some(base), "policy", out.policy_document()),
                ),
            ],
        )))
    }

    async fn put(&self, role: &str, name: &str, policy: &str) -> AwsResult<()> {
        self.shared
            .iam()
            .await
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(policy)
            .send()
            .await
            .map_err(sdk("PutRolePolicy"))?;
        Ok(())
    }

    async fn settled(&self, base: &Value, role: &str, name: &str) -> ProviderResult<Value> {
        wait::until(
            &format!("inline policy {role}:{name} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, role, name).await },
        )
        .await
        .map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(base.clone()),
        })
    }
}

#[async_trait]
impl ResourceType for IamRolePolicy {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = check_name(config).into_iter().collect();
        out.extend(check_policy(config, "policy"));
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(plan_policy(prior, proposed, "policy"))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let (role, name) = match (opt_str(prior, "role"), opt_str(prior, "name")) {
            (Some(r), Some(n)) => (r, n),
            _ => {
                let id = req_str(prior, "id")?;
                parse_id(id).ok_or_else(|| {
                    ProviderError::new(format!("IAM role policy id {id:?} is not role:name"))
                })?
            }
        };
        Ok(self.observe(prior, role, name).await?)
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let role = req_str(planned, "role")?;
        let Some(name) = opt_str(planned, "name") else {
            return Err(ProviderError::new(
                "the inline policy's generated name was not recorded: check the role's inline policies, then `dumcel import` it as role:name or `dumcel state rm` the address",
            ));
        };
        Ok(self.observe(planned, role, name).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let role = req_str(planned, "role")?;
        let name = name_of(planned);
        self.put(role, &name, req_str(planned, "policy")?).await?;
        let made = with_all(
            planned,
            [("id", s(format!("{role}:{name}"))), ("name", s(&name))],
        );
        self.settled(&made, role, &name).await
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let role = req_str(prior, "role")?;
        let name = req_str(prior, "name")?;
        self.put(role, name, req_str(planned, "policy")?).await?;
        self.observe(planned, role, name).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "inline policy {role}:{name} vanished while it was updated"
            ))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let role = req_str(prior, "role")?;
        let name = req_str(prior, "name")?;
        let out = self
            .shared
            .iam()
            .await
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(sdk("DeleteRolePolicy"));
        crate::error::deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (role, name) = parse_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "an aws_iam_role_policy is imported as role_name:policy_name, got {id:?}"
            ))
        })?;
        Ok(obj([
            ("id", s(id)),
            ("role", s(role)),
            ("name", s(name)),
            ("name_prefix", Value::Null),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_role_colon_name() {
        assert_eq!(parse_id("app:s3"), Some(("app", "s3")));
        assert_eq!(parse_id("app"), None);
        assert_eq!(parse_id(":s3"), None);
        assert_eq!(parse_id("app:"), None);
    }
}
