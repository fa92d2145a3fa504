//! `data "aws_caller_identity"`: who the provider's credentials are, as STS
//! `GetCallerIdentity` tells: the account, the ARN (an assumed role's session
//! ARN when a role was assumed) and the user id. Takes no arguments; `id` is
//! the account id, as in Terraform.

use std::sync::Arc;

use async_trait::async_trait;
use dumcel_engine::provider::{DataSource, ProviderResult};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, sdk};

pub struct CallerIdentityData {
    shared: Arc<Shared>,
    schema: Schema,
}

impl CallerIdentityData {
    pub fn new(shared: Arc<Shared>) -> CallerIdentityData {
        CallerIdentityData {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("account_id", Attribute::computed())
                .attr("arn", Attribute::computed())
                .attr("user_id", Attribute::computed()),
        }
    }
}

#[async_trait]
impl DataSource for CallerIdentityData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let out = self
            .shared
            .sts()
            .await
            .get_caller_identity()
            .send()
            .await
            .map_err(sdk("GetCallerIdentity"))?;
        let (Some(account), Some(arn), Some(user_id)) = (out.account(), out.arn(), out.user_id())
        else {
            return Err(AwsError::unexpected(
                "GetCallerIdentity",
                "the answer lacks the account, the ARN or the user id",
            )
            .into());
        };
        Ok(with_all(
            config,
            [
                ("id", s(account)),
                ("account_id", s(account)),
                ("arn", s(arn)),
                ("user_id", s(user_id)),
            ],
        ))
    }
}
