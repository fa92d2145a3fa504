//! `aws_s3_bucket_versioning`: a bucket's versioning state, as its own
//! resource (Terraform AWS provider v4+). `Disabled` only describes a bucket
//! that was never versioned: a versioned bucket can be suspended, never
//! unversioned, so a change to `Disabled` is refused at plan. Destroy
//! suspends versioning (S3 cannot remove it); for `Disabled` it does nothing.
//! The import id is the bucket (or `bucket,expected_bucket_owner`).
//!
//! `aws_s3_bucket`'s inline `versioning` block sets the same state: using
//! both for one bucket makes them undo each other on every apply.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDelete, VersioningConfiguration};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{block, obj, opt_str, s, with, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::s3::{id_of, import_base, is_gone, shape_blocks, target, versioning};

const STATUSES: &[&str] = &["Enabled", "Suspended", "Disabled"];
const MFA: &[&str] = &["Enabled", "Disabled"];

pub struct S3BucketVersioning {
    shared: Arc<Shared>,
    schema: Schema,
}

impl S3BucketVersioning {
    pub fn new(shared: Arc<Shared>) -> S3BucketVersioning {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("bucket", Attribute::required().force_new())
            .attr("expected_bucket_owner", Attribute::optional().force_new())
            .attr(
                "mfa",
                Attribute::optional()
                    .sensitive()
                    .describe("the MFA device's serial number, a space, and its current code"),
            )
            .block(
                "versioning_configuration",
                NestedBlock {
                    schema: Schema::new()
                        .attr(
                            "status",
                            Attribute::required().describe("Enabled, Suspended or Disabled"),
                        )
                        .attr(
                            "mfa_delete",
                            Attribute::optional().describe("Enabled or Disabled (the default)"),
                        ),
                    min_items: 1,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        S3BucketVersioning { shared, schema }
    }

    /// The versioning state as a value; `None` when the bucket is gone.
    async fn observe(&self, base: &Value) -> AwsResult<Option<Value>> {
        let (bucket, owner) = target(base)?;
        let s3 = self.shared.s3().await;
        let (status, mfa) = match versioning(&s3, bucket, owner).await {
            Ok(v) => v,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(id_of(bucket, owner))),
                (
                    "versioning_configuration",
                    Value::List(vec![obj([
                        ("status", s(status.as_deref().unwrap_or("Disabled"))),
                        ("mfa_delete", s(mfa.as_deref().unwrap_or("Disabled"))),
                    ])]),
                ),
            ],
        )))
    }

    async fn put(&self, prior: Option<&Value>, planned: &Value) -> AwsResult<()> {
        let (bucket, owner) = target(planned)?;
        let cfg = block(planned, "versioning_configuration")
            .ok_or_else(|| AwsError::invalid("a versioning_configuration block is required"))?;
        let status = opt_str(cfg, "status").unwrap_or("Enabled");
        let s3 = self.shared.s3().await;
        if status == "Disabled" {
            // Only a bucket that was never versioned is "Disabled": nothing to send.
            let (now, _) = versioning(&s3, bucket, owner).await?;
            if let Some(now) = now {
                return Err(AwsError::invalid(format!(
                    "versioning_configuration.status cannot be \"Disabled\": bucket {bucket} is already versioned ({now}); use \"Suspended\""
                )));
            }
            return Ok(());
        }
        let want_mfa = opt_str(cfg, "mfa_delete").unwrap_or("Disabled");
        let had_mfa = prior
            .and_then(|p| block(p, "versioning_configuration"))
            .and_then(|c| opt_str(c, "mfa_delete"))
            .unwrap_or("Disabled");
        let mut vc =
            VersioningConfiguration::builder().status(BucketVersioningStatus::from(status));
        // MFA delete is sent only when it changes or is on: AWS wants the
        // `mfa` header with it.
        if want_mfa == "Enabled" || want_mfa != had_mfa {
            vc = vc.mfa_delete(MfaDelete::from(want_mfa));
        }
        s3.put_bucket_versioning()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .set_mfa(opt_str(planned, "mfa").map(str::to_owned))
            .versioning_configuration(vc.build())
            .send()
            .await
            .map_err(sdk("PutBucketVersioning"))?;
        Ok(())
    }

    async fn put_and_read(&self, prior: Option<&Value>, planned: &Value) -> ProviderResult<Value> {
        let (bucket, owner) = target(planned)?;
        let made = with(planned, "id", s(id_of(bucket, owner)));
        let done = async {
            self.put(prior, planned).await?;
            self.observe(&made).await
        };
        match done.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError::new(format!("NoSuchBucket: bucket {bucket}"))),
            Err(e) => Err(e.into()),
        }
    }
}

fn status_of(v: &Value) -> Option<&str> {
    block(v, "versioning_configuration").and_then(|c| opt_str(c, "status"))
}

#[async_trait]
impl ResourceType for S3BucketVersioning {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(c) = block(config, "versioning_configuration") {
            if let Some(st) = opt_str(c, "status")
                && !STATUSES.contains(&st)
            {
                out.push((
                    "versioning_configuration".into(),
                    format!("status must be one of {}, got {st:?}", STATUSES.join(", ")),
                ));
            }
            if let Some(m) = opt_str(c, "mfa_delete")
                && !MFA.contains(&m)
            {
                out.push((
                    "versioning_configuration".into(),
                    format!("mfa_delete must be one of {}, got {m:?}", MFA.join(", ")),
                ));
            }
        }
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        if let (Some(was), Some("Disabled")) = (prior.and_then(status_of), status_of(&proposed))
            && was != "Disabled"
        {
            return Err(format!(
                "versioning_configuration.status cannot be updated from {was:?} to \"Disabled\": a versioned bucket can only be suspended; use \"Suspended\""
            ));
        }
        let shaped = shape_blocks(
            &proposed,
            prior,
            "versioning_configuration",
            &[("mfa_delete", s("Disabled"), true)],
        );
        Ok(with(&proposed, "versioning_configuration", shaped))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(prior).await?)
    }

    /// The bucket names the configuration: whatever state it is in is what
    /// a cut-off create left (a different one shows as a change next plan).
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        Ok(self.observe(planned).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        self.put_and_read(None, planned).await
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        self.put_and_read(Some(prior), planned).await
    }

    /// S3 cannot unversion a bucket: destroy suspends versioning, and does
    /// nothing for a bucket recorded as never versioned.
    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        if status_of(prior) == Some("Disabled") {
            return Ok(());
        }
        let (bucket, owner) = target(prior)?;
        let s3 = self.shared.s3().await;
        match s3
            .put_bucket_versioning()
            .bucket(bucket)
            .set_expected_bucket_owner(owner.map(str::to_owned))
            .set_mfa(opt_str(prior, "mfa").map(str::to_owned))
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Suspended)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("PutBucketVersioning"))
        {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = import_base(id, true)?;
        self.observe(&base)
            .await?
            .ok_or_else(|| ProviderError::new(format!("NoSuchBucket: no bucket {id:?} to import")))
    }
}
