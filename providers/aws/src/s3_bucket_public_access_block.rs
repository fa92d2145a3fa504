//! `aws_s3_bucket_public_access_block`: a bucket's four public access
//! settings, each `false` unless set; they change in place. Destroy deletes
//! the configuration (S3's default: none). The import id is the bucket.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{opt_bool, or_default, s, with, with_all};
use crate::config::Shared;
use crate::error::{AwsResult, deleted, sdk};
use crate::s3::{import_base, is_gone, target};

const SETTINGS: &[&str] = &[
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

pub struct S3BucketPublicAccessBlock {
    shared: Arc<Shared>,
    schema: Schema,
}

impl S3BucketPublicAccessBlock {
    pub fn new(shared: Arc<Shared>) -> S3BucketPublicAccessBlock {
        let mut schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("bucket", Attribute::required().force_new());
        for k in SETTINGS {
            schema = schema.attr(k, Attribute::optional().describe("default false"));
        }
        S3BucketPublicAccessBlock { shared, schema }
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let (bucket, _) = target(base)?;
        let out = match self
            .shared
            .s3()
            .await
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("GetPublicAccessBlock"))
        {
            Ok(o) => o,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(c) = out.public_access_block_configuration() else {
            return Ok(None);
        };
        let b = |x: Option<bool>| Value::Bool(x.unwrap_or(false));
        Ok(Some(with_all(
            base,
            [
                ("id", s(bucket)),
                ("block_public_acls", b(c.block_public_acls())),
                ("block_public_policy", b(c.block_public_policy())),
                ("ignore_public_acls", b(c.ignore_public_acls())),
                ("restrict_public_buckets", b(c.restrict_public_buckets())),
            ],
        )))
    }

    async fn put(&self, planned: &Value) -> ProviderResult<Value> {
        let (bucket, _) = target(planned)?;
        let on = |k| opt_bool(planned, k).unwrap_or(false);
        self.shared
            .s3()
            .await
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(on("block_public_acls"))
                    .block_public_policy(on("block_public_policy"))
                    .ignore_public_acls(on("ignore_public_acls"))
                    .restrict_public_buckets(on("restrict_public_buckets"))
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("PutPublicAccessBlock"))?;
        let made = with(planned, "id", s(bucket));
        self.observe(&made).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "the public access block of bucket {bucket} vanished after it was set"
            ))
        })
    }
}

#[async_trait]
impl ResourceType for S3BucketPublicAccessBlock {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(SETTINGS
            .iter()
            .fold(proposed, |v, k| or_default(v, k, Value::Bool(false))))
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
        let (bucket, _) = target(prior)?;
        let r = self
            .shared
            .s3()
            .await
            .delete_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("DeletePublicAccessBlock"));
        match r {
            Err(e) if is_gone(&e) => Ok(()),
            r => deleted(r),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = import_base(id, false)?;
        self.observe(&base).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "NoSuchPublicAccessBlockConfiguration: bucket {id:?} has no public access block to import"
            ))
        })
    }
}
