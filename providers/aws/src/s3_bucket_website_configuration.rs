//! `aws_s3_bucket_website_configuration`: a bucket served as a website, with
//! an index (and error) document, or redirecting every request to another
//! host. It changes in place; destroy deletes it. `website_endpoint` and
//! `website_domain` are computed from the region, as S3 names them. The
//! import id is the bucket (or `bucket,expected_bucket_owner`).
//!
//! `aws_s3_bucket`'s inline `website` block sets the same configuration:
//! using both for one bucket makes them undo each other on every apply.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    ErrorDocument, IndexDocument, Protocol, RedirectAllRequestsTo, WebsiteConfiguration,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{block, blocks, obj, opt_str, os, s, with, with_all};
use crate::config::Shared;
use crate::error::{AwsResult, deleted, sdk};
use crate::s3::{built, id_of, import_base, is_gone, shape_blocks, target};

pub struct S3BucketWebsiteConfiguration {
    shared: Arc<Shared>,
    schema: Schema,
}

fn one(schema: Schema) -> NestedBlock {
    NestedBlock {
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
    }
}

/// Regions whose website endpoints are `s3-website-REGION` (a dash); the
/// others use `s3-website.REGION` (a dot).
const DASH_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-west-1",
    "sa-east-1",
    "us-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The website domain of a region.
pub fn website_domain(region: &str) -> String {
    if DASH_REGIONS.contains(&region) {
        format!("s3-website-{region}.amazonaws.com")
    } else if region.starts_with("cn-") {
        format!("s3-website.{region}.amazonaws.com.cn")
    } else {
        format!("s3-website.{region}.amazonaws.com")
    }
}

impl S3BucketWebsiteConfiguration {
    pub fn new(shared: Arc<Shared>) -> S3BucketWebsiteConfiguration {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("bucket", Attribute::required().force_new())
            .attr("expected_bucket_owner", Attribute::optional().force_new())
            .attr("website_endpoint", Attribute::computed())
            .attr("website_domain", Attribute::computed())
            .block(
                "index_document",
                one(Schema::new().attr("suffix", Attribute::required())),
            )
            .block(
                "error_document",
                one(Schema::new().attr("key", Attribute::required())),
            )
            .block(
                "redirect_all_requests_to",
                one(Schema::new().attr("host_name", Attribute::required()).attr(
                    "protocol",
                    Attribute::optional().describe("http or https; the request's own when unset"),
                )),
            );
        S3BucketWebsiteConfiguration { shared, schema }
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let (bucket, owner) = target(base)?;
        let s3 = self.shared.s3().await;
        let w = match s3
            .get_bucket_website()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .send()
            .await
            .map_err(sdk("GetBucketWebsite"))
        {
            Ok(w) => w,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let index: Vec<Value> = w
            .index_document()
            .map(|d| obj([("suffix", s(d.suffix()))]))
            .into_iter()
            .collect();
        let error: Vec<Value> = w
            .error_document()
            .map(|d| obj([("key", s(d.key()))]))
            .into_iter()
            .collect();
        let redirect: Vec<Value> = w
            .redirect_all_requests_to()
            .map(|r| {
                obj([
                    ("host_name", s(r.host_name())),
                    ("protocol", os(r.protocol().map(|p| p.as_str()))),
                ])
            })
            .into_iter()
            .collect();
        let region = s3
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let domain = website_domain(&region);
        Ok(Some(with_all(
            base,
            [
                ("id", s(id_of(bucket, owner))),
                ("index_document", Value::List(index)),
                ("error_document", Value::List(error)),
                ("redirect_all_requests_to", Value::List(redirect)),
                ("website_endpoint", s(format!("{bucket}.{domain}"))),
                ("website_domain", s(domain)),
            ],
        )))
    }

    async fn put(&self, planned: &Value) -> ProviderResult<Value> {
        let (bucket, owner) = target(planned)?;
        let mut cfg = WebsiteConfiguration::builder();
        if let Some(suffix) = block(planned, "index_document").and_then(|d| opt_str(d, "suffix")) {
            cfg = cfg.index_document(built(IndexDocument::builder().suffix(suffix).build())?);
        }
        if let Some(key) = block(planned, "error_document").and_then(|d| opt_str(d, "key")) {
            cfg = cfg.error_document(built(ErrorDocument::builder().key(key).build())?);
        }
        if let Some(r) = block(planned, "redirect_all_requests_to") {
            let mut rb = RedirectAllRequestsTo::builder()
                .set_host_name(opt_str(r, "host_name").map(str::to_owned));
            if let Some(p) = opt_str(r, "protocol") {
                rb = rb.protocol(Protocol::from(p));
            }
            cfg = cfg.redirect_all_requests_to(built(rb.build())?);
        }
        self.shared
            .s3()
            .await
            .put_bucket_website()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .website_configuration(cfg.build())
            .send()
            .await
            .map_err(sdk("PutBucketWebsite"))?;
        let made = with(planned, "id", s(id_of(bucket, owner)));
        self.observe(&made).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "the website configuration of bucket {bucket} vanished after it was set"
            ))
        })
    }
}

#[async_trait]
impl ResourceType for S3BucketWebsiteConfiguration {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let has = |k| !blocks(config, k).is_empty();
        let mut out = Vec::new();
        if has("redirect_all_requests_to") {
            if has("index_document") || has("error_document") {
                out.push((
                    "redirect_all_requests_to".into(),
                    "conflicts with index_document and error_document".into(),
                ));
            }
        } else if !has("index_document") {
            out.push((
                "index_document".into(),
                "or redirect_all_requests_to is required".into(),
            ));
        }
        if let Some(p) =
            block(config, "redirect_all_requests_to").and_then(|r| opt_str(r, "protocol"))
            && p != "http"
            && p != "https"
        {
            out.push((
                "redirect_all_requests_to".into(),
                format!("protocol must be http or https, got {p:?}"),
            ));
        }
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let shaped = shape_blocks(
            &proposed,
            prior,
            "redirect_all_requests_to",
            &[("protocol", Value::Null, false)],
        );
        Ok(with(&proposed, "redirect_all_requests_to", shaped))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(prior).await?)
    }

    /// The bucket names it: one there is what the cut-off create set.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(planned).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        self.put(planned).await
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        self.put(planned).await
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let (bucket, owner) = target(prior)?;
        deleted(
            self.shared
                .s3()
                .await
                .delete_bucket_website()
                .bucket(bucket)
                .set_expected_bucket_owner(owner.map(str::to_owned))
                .send()
                .await
                .map_err(sdk("DeleteBucketWebsite")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = import_base(id, true)?;
        self.observe(&base).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "NoSuchWebsiteConfiguration: bucket {id:?} has no website configuration to import"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn website_domains_by_region() {
        assert_eq!(
            website_domain("us-east-1"),
            "s3-website-us-east-1.amazonaws.com"
        );
        assert_eq!(
            website_domain("eu-central-1"),
            "s3-website.eu-central-1.amazonaws.com"
        );
    }
}
