//! `aws_cloudfront_origin_access_control`: how CloudFront signs its requests
//! to an origin (an S3 bucket whose policy allows only the distribution).
//! `id` is CloudFront's id, and so is the import id. Every argument changes
//! in place (UpdateOriginAccessControl with the current ETag); `etag` is
//! computed. `description` defaults to "Managed by Terraform", as in
//! Terraform.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_cloudfront::types::{
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, or_default, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};

const DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

pub struct CloudfrontOriginAccessControl {
    shared: Arc<Shared>,
    schema: Schema,
}

fn config_of(v: &Value) -> AwsResult<OriginAccessControlConfig> {
    OriginAccessControlConfig::builder()
        .name(req_str(v, "name")?)
        .description(opt_str(v, "description").unwrap_or(DEFAULT_DESCRIPTION))
        .signing_protocol(OriginAccessControlSigningProtocols::from(req_str(
            v,
            "signing_protocol",
        )?))
        .signing_behavior(OriginAccessControlSigningBehaviors::from(req_str(
            v,
            "signing_behavior",
        )?))
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::from(req_str(
            v,
            "origin_access_control_origin_type",
        )?))
        .build()
        .map_err(|e| AwsError::invalid(format!("origin access control: {e}")))
}

impl CloudfrontOriginAccessControl {
    pub fn new(shared: Arc<Shared>) -> CloudfrontOriginAccessControl {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required())
            .attr(
                "description",
                Attribute::optional().describe("default \"Managed by Terraform\""),
            )
            .attr(
                "origin_access_control_origin_type",
                Attribute::required().describe("s3, mediastore, lambda or mediapackagev2"),
            )
            .attr(
                "signing_behavior",
                Attribute::required().describe("always, never or no-override"),
            )
            .attr("signing_protocol", Attribute::required().describe("sigv4"))
            .attr("etag", Attribute::computed());
        CloudfrontOriginAccessControl { shared, schema }
    }

    /// The control as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let out = match self
            .shared
            .cloudfront()
            .await
            .get_origin_access_control()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetOriginAccessControl"))
        {
            Ok(o) => o,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(c) = out
            .origin_access_control()
            .and_then(|c| c.origin_access_control_config())
        else {
            return Err(AwsError::unexpected(
                "GetOriginAccessControl",
                format!("no configuration for origin access control {id}"),
            ));
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(id)),
                ("name", s(c.name())),
                ("description", s(c.description().unwrap_or_default())),
                (
                    "origin_access_control_origin_type",
                    s(c.origin_access_control_origin_type().as_str()),
                ),
                ("signing_behavior", s(c.signing_behavior().as_str())),
                ("signing_protocol", s(c.signing_protocol().as_str())),
                ("etag", s(out.e_tag().unwrap_or_default())),
            ],
        )))
    }

    /// The current ETag (CloudFront's optimistic lock for updates and
    /// deletes); `None` when the control is gone.
    async fn etag(&self, id: &str) -> AwsResult<Option<String>> {
        match self
            .shared
            .cloudfront()
            .await
            .get_origin_access_control()
            .id(id)
            .send()
            .await
            .map_err(sdk("GetOriginAccessControl"))
        {
            Ok(o) => Ok(Some(o.e_tag().unwrap_or_default().to_owned())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl ResourceType for CloudfrontOriginAccessControl {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(or_default(proposed, "description", s(DEFAULT_DESCRIPTION)))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = req_str(prior, "id")?;
        Ok(self.observe(prior, id).await?)
    }

    /// Names are unique in an account: the control of that name.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        let client = self.shared.cloudfront().await;
        let mut marker: Option<String> = None;
        loop {
            let out = client
                .list_origin_access_controls()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(sdk("ListOriginAccessControls"))?;
            let Some(list) = out.origin_access_control_list() else {
                return Ok(None);
            };
            if let Some(found) = list.items().iter().find(|c| c.name() == name) {
                let id = found.id().to_owned();
                return Ok(self.observe(planned, &id).await?);
            }
            match list.next_marker() {
                Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let out = self
            .shared
            .cloudfront()
            .await
            .create_origin_access_control()
            .origin_access_control_config(config_of(planned)?)
            .send()
            .await
            .map_err(sdk("CreateOriginAccessControl"))?;
        let id = out
            .origin_access_control()
            .map(|c| c.id().to_owned())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                AwsError::unexpected("CreateOriginAccessControl", "no id in the answer")
            })?;
        let made = with_all(planned, [("id", s(&id))]);
        match self.observe(&made, &id).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError {
                message: format!("origin access control {id} vanished after it was created"),
                partial: Some(made),
            }),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let id = req_str(prior, "id")?;
        let gone = || ProviderError::new(format!("origin access control {id} is gone"));
        let etag = self.etag(id).await?.ok_or_else(gone)?;
        self.shared
            .cloudfront()
            .await
            .update_origin_access_control()
            .id(id)
            .if_match(etag)
            .origin_access_control_config(config_of(planned)?)
            .send()
            .await
            .map_err(sdk("UpdateOriginAccessControl"))?;
        self.observe(planned, id).await?.ok_or_else(gone)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let id = req_str(prior, "id")?;
        let Some(etag) = self.etag(id).await? else {
            return Ok(());
        };
        let out = self
            .shared
            .cloudfront()
            .await
            .delete_origin_access_control()
            .id(id)
            .if_match(etag)
            .send()
            .await
            .map_err(sdk("DeleteOriginAccessControl"));
        crate::error::deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        if id.is_empty() || id.contains('/') {
            return Err(ProviderError::new(format!(
                "an aws_cloudfront_origin_access_control is imported by its id (E2QWRUHAPOMQZL), got {id:?}"
            )));
        }
        Ok(obj([("id", s(id))]))
    }
}
