//! `aws_s3_bucket`: a bucket, with its versioning and website settings as
//! nested blocks (both change in place). `force_destroy` empties it first on
//! delete; without it, deleting a non-empty bucket fails with AWS's message.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ErrorDocument, IndexDocument, ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
    WebsiteConfiguration,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    block, blocks, narrow_blocks, obj, opt_bool, opt_str, req_str, s, string_map, with_all,
};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};
use crate::tags;

pub struct S3Bucket {
    shared: Arc<Shared>,
    schema: Schema,
}

impl S3Bucket {
    pub fn new(shared: Arc<Shared>) -> S3Bucket {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("bucket", Attribute::required().force_new())
            .attr(
                "force_destroy",
                Attribute::optional().describe("delete every object (and version) on destroy"),
            )
            .attr("arn", Attribute::computed())
            .attr("bucket_domain_name", Attribute::computed())
            .attr("website_endpoint", Attribute::computed())
            .block(
                "versioning",
                NestedBlock {
                    schema: Schema::new().attr("enabled", Attribute::required()),
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            )
            .block(
                "website",
                NestedBlock {
                    schema: Schema::new()
                        .attr("index_document", Attribute::required())
                        .attr("error_document", Attribute::optional()),
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        S3Bucket {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn exists(&self, bucket: &str) -> AwsResult<bool> {
        match self
            .shared
            .s3()
            .await
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("HeadBucket"))
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn observe(&self, base: &Value, bucket: &str) -> AwsResult<Option<Value>> {
        if !self.exists(bucket).await? {
            return Ok(None);
        }
        let s3 = self.shared.s3().await;
        // (moto's answer, which the SDK refuses to parse, read raw.)
        let (status, _) = crate::s3::versioning(&s3, bucket, None).await?;
        let enabled = status.as_deref() == Some("Enabled");
        let prior_v = blocks(base, "versioning");
        // No block and never enabled: nothing to report.
        let actual_v: Vec<Value> = if enabled || !prior_v.is_empty() {
            vec![obj([("enabled", Value::Bool(enabled))])]
        } else {
            Vec::new()
        };
        let website = match s3
            .get_bucket_website()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("GetBucketWebsite"))
        {
            Ok(w) => vec![obj([
                (
                    "index_document",
                    s(w.index_document().map(|d| d.suffix()).unwrap_or_default()),
                ),
                (
                    "error_document",
                    w.error_document()
                        .map(|d| s(d.key()))
                        .unwrap_or(Value::Null),
                ),
            ])],
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        // No tag set at all is NoSuchTagSet: no tags.
        let all = match s3
            .get_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("GetBucketTagging"))
        {
            Ok(t) => tags::from_pairs(t.tag_set().iter().map(|t| (Some(t.key()), Some(t.value())))),
            Err(e) if e.is_not_found() => Default::default(),
            Err(e) => return Err(e),
        };
        let region = self
            .shared
            .settings()
            .region
            .unwrap_or_else(|| "us-east-1".into());
        Ok(Some(with_all(
            base,
            [
                ("id", s(bucket)),
                ("bucket", s(bucket)),
                ("arn", s(format!("arn:aws:s3:::{bucket}"))),
                (
                    "bucket_domain_name",
                    s(format!("{bucket}.s3.amazonaws.com")),
                ),
                (
                    "website_endpoint",
                    if website.is_empty() {
                        Value::Null
                    } else {
                        s(format!("{bucket}.s3-website-{region}.amazonaws.com"))
                    },
                ),
                ("versioning", narrow_blocks(prior_v, actual_v)),
                ("website", narrow_blocks(blocks(base, "website"), website)),
                ("tags_all", string_map(all)),
            ],
        )))
    }

    async fn apply_settings(
        &self,
        bucket: &str,
        prior: Option<&Value>,
        planned: &Value,
    ) -> AwsResult<()> {
        let s3 = self.shared.s3().await;
        let want_v = block(planned, "versioning").and_then(|v| opt_bool(v, "enabled"));
        let had_v = prior
            .and_then(|p| block(p, "versioning"))
            .and_then(|v| opt_bool(v, "enabled"));
        // Versioning can only be suspended, never removed, once enabled.
        let status = match (want_v, had_v) {
            (Some(true), _) => Some(BucketVersioningStatus::Enabled),
            (Some(false), _) | (None, Some(true)) => Some(BucketVersioningStatus::Suspended),
            _ => None,
        };
        // Unchanged settings are not sent again (another resource type may
        // manage them; see `plan`).
        if let Some(status) = status
            && (prior.is_none() || want_v != had_v)
            && (prior.is_some() || status == BucketVersioningStatus::Enabled)
        {
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .map_err(sdk("PutBucketVersioning"))?;
        }
        let same_website =
            prior.is_some_and(|p| blocks(p, "website") == blocks(planned, "website"));
        match block(planned, "website") {
            _ if same_website => {}
            Some(w) => {
                let mut cfg = WebsiteConfiguration::builder().index_document(
                    IndexDocument::builder()
                        .suffix(
                            req_str(w, "index_document")
                                .map_err(|e| AwsError::invalid(e.to_string()))?,
                        )
                        .build()
                        .map_err(|e| AwsError::invalid(e.to_string()))?,
                );
                if let Some(err) = opt_str(w, "error_document") {
                    cfg = cfg.error_document(
                        ErrorDocument::builder()
                            .key(err)
                            .build()
                            .map_err(|e| AwsError::invalid(e.to_string()))?,
                    );
                }
                s3.put_bucket_website()
                    .bucket(bucket)
                    .website_configuration(cfg.build())
                    .send()
                    .await
                    .map_err(sdk("PutBucketWebsite"))?;
            }
            None if prior.is_some_and(|p| !blocks(p, "website").is_empty()) => {
                s3.delete_bucket_website()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(sdk("DeleteBucketWebsite"))?;
            }
            None => {}
        }
        let all = tags::recorded(planned);
        let had = prior.map(tags::recorded).unwrap_or_default();
        if all != had {
            if all.is_empty() {
                s3.delete_bucket_tagging()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(sdk("DeleteBucketTagging"))?;
            } else {
                let tag_set = all
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| AwsError::invalid(e.to_string()))?;
                s3.put_bucket_tagging()
                    .bucket(bucket)
                    .tagging(
                        Tagging::builder()
                            .set_tag_set(Some(tag_set))
                            .build()
                            .map_err(|e| AwsError::invalid(e.to_string()))?,
                    )
                    .send()
                    .await
                    .map_err(sdk("PutBucketTagging"))?;
            }
        }
        Ok(())
    }

    /// Deletes every object version and delete marker, a page at a time.
    async fn empty(&self, bucket: &str) -> AwsResult<()> {
        let s3 = self.shared.s3().await;
        loop {
            let page = s3
                .list_object_versions()
                .bucket(bucket)
                .send()
                .await
                .map_err(sdk("ListObjectVersions"))?;
            let mut ids = Vec::new();
            for v in page.versions() {
                ids.push((v.key(), v.version_id()));
            }
            for m in page.delete_markers() {
                ids.push((m.key(), m.version_id()));
            }
            if ids.is_empty() {
                return Ok(());
            }
            let objects = ids
                .into_iter()
                .filter_map(|(k, v)| {
                    ObjectIdentifier::builder()
                        .set_key(k.map(str::to_owned))
                        .set_version_id(v.filter(|v| *v != "null").map(str::to_owned))
                        .build()
                        .ok()
                })
                .collect::<Vec<_>>();
            s3.delete_objects()
                .bucket(bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()
                        .map_err(|e| AwsError::invalid(e.to_string()))?,
                )
                .send()
                .await
                .map_err(sdk("DeleteObjects"))?;
        }
    }
}

#[async_trait]
impl ResourceType for S3Bucket {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    /// `versioning` and `website` are optional and computed, as in Terraform
    /// v4+: left out of the configuration, they keep what the bucket has, so
    /// an `aws_s3_bucket_versioning` or `aws_s3_bucket_website_configuration`
    /// can manage them (setting both for one bucket makes them fight).
    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let mut v = proposed;
        for k in ["versioning", "website"] {
            let left_out = v
                .get(k)
                .and_then(Value::as_list)
                .is_some_and(<[Value]>::is_empty);
            if left_out && let Some(had) = prior.map(|p| blocks(p, k)).filter(|b| !b.is_empty()) {
                v = with_all(&v, [(k, Value::List(had.to_vec()))]);
            }
        }
        Ok(tags::plan(&self.shared.default_tags(), v))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let bucket = req_str(prior, "bucket")?;
        Ok(self.observe(prior, bucket).await?)
    }

    /// A bucket's name is its identity (one namespace for all of S3), so
    /// the lookup `read` does is the one a lost create needs; a bucket
    /// another account holds answers 403, which is an error, not "gone".
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        self.read(planned).await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let bucket = req_str(planned, "bucket")?;
        let mut req = self.shared.s3().await.create_bucket().bucket(bucket);
        // us-east-1 takes no location constraint; every other region needs one.
        if let Some(region) = self
            .shared
            .s3()
            .await
            .config()
            .region()
            .map(|r| r.to_string())
            && region != "us-east-1"
        {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        req.send().await.map_err(sdk("CreateBucket"))?;
        let made = with_all(planned, [("id", s(bucket))]);
        if let Err(e) = self.apply_settings(bucket, None, planned).await {
            return Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            });
        }
        Ok(self.observe(planned, bucket).await?.unwrap_or(made))
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let bucket = req_str(planned, "bucket")?;
        self.apply_settings(bucket, Some(prior), planned).await?;
        Ok(self.observe(planned, bucket).await?.ok_or_else(|| {
            ProviderError::new(format!("bucket {bucket} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let bucket = req_str(prior, "bucket")?;
        if opt_bool(prior, "force_destroy").unwrap_or(false) {
            match self.empty(bucket).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        deleted(
            self.shared
                .s3()
                .await
                .delete_bucket()
                .bucket(bucket)
                .send()
                .await
                .map_err(sdk("DeleteBucket")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("force_destroy", Value::Null), ("tags", Value::Null)]);
        let v = self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!("NoSuchBucket: no bucket {id:?} to import"))
        })?;
        let all = tags::recorded(&v);
        Ok(with_all(
            &v,
            [("tags", tags::imported(&self.shared.default_tags(), &all))],
        ))
    }
}
