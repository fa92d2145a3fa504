//! `aws_s3_bucket_server_side_encryption_configuration`: how S3 encrypts
//! what is written to a bucket (`AES256`, `aws:kms` with an optional key,
//! `aws:kms:dsse`) and whether it uses an S3 bucket key. It changes in
//! place. Destroy deletes the configuration: AWS then falls back to its
//! default for every bucket, SSE-S3 (`AES256`). The import id is the bucket
//! (or `bucket,expected_bucket_owner`).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{block, blocks, obj, opt_bool, opt_str, os, s, with, with_all};
use crate::config::Shared;
use crate::error::{AwsResult, deleted, sdk};
use crate::s3::{built, id_of, import_base, is_gone, shape_blocks, target};

const ALGORITHMS: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];

pub struct S3BucketServerSideEncryptionConfiguration {
    shared: Arc<Shared>,
    schema: Schema,
}

impl S3BucketServerSideEncryptionConfiguration {
    pub fn new(shared: Arc<Shared>) -> S3BucketServerSideEncryptionConfiguration {
        let by_default = Schema::new()
            .attr(
                "sse_algorithm",
                Attribute::required().describe("AES256, aws:kms or aws:kms:dsse"),
            )
            .attr(
                "kms_master_key_id",
                Attribute::optional().describe("the KMS key; AWS's managed key when unset"),
            );
        let rule = Schema::new()
            .attr(
                "bucket_key_enabled",
                Attribute::optional().describe("default false"),
            )
            .block(
                "apply_server_side_encryption_by_default",
                NestedBlock {
                    schema: by_default,
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("bucket", Attribute::required().force_new())
            .attr("expected_bucket_owner", Attribute::optional().force_new())
            .block(
                "rule",
                NestedBlock {
                    schema: rule,
                    min_items: 1,
                    max_items: None,
                    force_new: false,
                },
            );
        S3BucketServerSideEncryptionConfiguration { shared, schema }
    }

    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let (bucket, owner) = target(base)?;
        let out = match self
            .shared
            .s3()
            .await
            .get_bucket_encryption()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .send()
            .await
            .map_err(sdk("GetBucketEncryption"))
        {
            Ok(o) => o,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(cfg) = out.server_side_encryption_configuration() else {
            return Ok(None);
        };
        let rules: Vec<Value> = cfg
            .rules()
            .iter()
            .map(|r| {
                let by_default: Vec<Value> = r
                    .apply_server_side_encryption_by_default()
                    .map(|d| {
                        obj([
                            ("sse_algorithm", s(d.sse_algorithm().as_str())),
                            ("kms_master_key_id", os(d.kms_master_key_id())),
                        ])
                    })
                    .into_iter()
                    .collect();
                obj([
                    (
                        "apply_server_side_encryption_by_default",
                        Value::List(by_default),
                    ),
                    (
                        "bucket_key_enabled",
                        Value::Bool(r.bucket_key_enabled().unwrap_or(false)),
                    ),
                ])
            })
            .collect();
        Ok(Some(with_all(
            base,
            [
                ("id", s(id_of(bucket, owner))),
                ("rule", Value::List(rules)),
            ],
        )))
    }

    async fn put(&self, planned: &Value) -> ProviderResult<Value> {
        let (bucket, owner) = target(planned)?;
        let mut rules = Vec::new();
        for r in blocks(planned, "rule") {
            let mut rb = ServerSideEncryptionRule::builder()
                .set_bucket_key_enabled(opt_bool(r, "bucket_key_enabled"));
            if let Some(d) = block(r, "apply_server_side_encryption_by_default") {
                rb = rb.apply_server_side_encryption_by_default(built(
                    ServerSideEncryptionByDefault::builder()
                        .set_sse_algorithm(
                            opt_str(d, "sse_algorithm").map(ServerSideEncryption::from),
                        )
                        .set_kms_master_key_id(opt_str(d, "kms_master_key_id").map(str::to_owned))
                        .build(),
                )?);
            }
            rules.push(rb.build());
        }
        self.shared
            .s3()
            .await
            .put_bucket_encryption()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .server_side_encryption_configuration(built(
                ServerSideEncryptionConfiguration::builder()
                    .set_rules(Some(rules))
                    .build(),
            )?)
            .send()
            .await
            .map_err(sdk("PutBucketEncryption"))?;
        let made = with(planned, "id", s(id_of(bucket, owner)));
        self.observe(&made).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "the encryption configuration of bucket {bucket} vanished after it was set"
            ))
        })
    }
}

#[async_trait]
impl ResourceType for S3BucketServerSideEncryptionConfiguration {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for r in blocks(config, "rule") {
            for d in blocks(r, "apply_server_side_encryption_by_default") {
                if let Some(a) = opt_str(d, "sse_algorithm")
                    && !ALGORITHMS.contains(&a)
                {
                    out.push((
                        "rule".into(),
                        format!(
                            "sse_algorithm must be one of {}, got {a:?}",
                            ALGORITHMS.join(", ")
                        ),
                    ));
                }
                if opt_str(d, "kms_master_key_id").is_some()
                    && opt_str(d, "sse_algorithm") == Some("AES256")
                {
                    out.push((
                        "rule".into(),
                        "kms_master_key_id is only for aws:kms and aws:kms:dsse".into(),
                    ));
                }
            }
        }
        out
    }

    /// Every rule shaped as a read reports it: `bucket_key_enabled` false
    /// and `kms_master_key_id` null unless set.
    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let rules = shape_blocks(
            &proposed,
            None,
            "rule",
            &[("bucket_key_enabled", Value::Bool(false), false)],
        );
        let rules = match rules {
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|r| {
                        let inner = shape_blocks(
                            &r,
                            None,
                            "apply_server_side_encryption_by_default",
                            &[("kms_master_key_id", Value::Null, false)],
                        );
                        if r.as_map().is_some() {
                            with(&r, "apply_server_side_encryption_by_default", inner)
                        } else {
                            r
                        }
                    })
                    .collect(),
            ),
            other => other,
        };
        Ok(with(&proposed, "rule", rules))
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

    /// S3 has no "no encryption": deleting the configuration restores AWS's
    /// default (SSE-S3).
    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let (bucket, owner) = target(prior)?;
        let r = self
            .shared
            .s3()
            .await
            .delete_bucket_encryption()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .send()
            .await
            .map_err(sdk("DeleteBucketEncryption"));
        match r {
            Err(e) if is_gone(&e) => Ok(()),
            r => deleted(r),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = import_base(id, true)?;
        self.observe(&base).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "ServerSideEncryptionConfigurationNotFoundError: bucket {id:?} has no encryption configuration to import"
            ))
        })
    }
}
