//! `aws_s3_object`: one object, from `content` or a `source` file. Its `etag`
//! (the MD5 of the bytes, for a single-part upload) is computed at plan time,
//! so an edited source file shows as a change, and read back from S3, so an
//! object overwritten outside dumcel shows as drift; both upload it again.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};
use md5::{Digest, Md5};

use crate::attrs::{obj, opt_str, os, req_str, s, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, deleted, sdk};

pub struct S3Object {
    shared: Arc<Shared>,
    schema: Schema,
}

impl S3Object {
    pub fn new(shared: Arc<Shared>) -> S3Object {
        S3Object {
            shared,
            schema: Schema::new()
                .attr("id", Attribute::computed())
                .attr("bucket", Attribute::required().force_new())
                .attr("key", Attribute::required().force_new())
                .attr("content", Attribute::optional())
                .attr(
                    "source",
                    Attribute::optional().describe("path of a file to upload"),
                )
                .attr("content_type", Attribute::optional_computed())
                .attr(
                    "etag",
                    Attribute::optional_computed()
                        .describe("MD5 of the content; computed from content or source"),
                )
                .attr("version_id", Attribute::computed()),
        }
    }

    async fn body(planned: &Value) -> AwsResult<Vec<u8>> {
        if let Some(c) = opt_str(planned, "content") {
            return Ok(c.as_bytes().to_vec());
        }
        let source = req_str(planned, "source")
            .map_err(|_| AwsError::invalid("one of \"content\" or \"source\" is required"))?;
        tokio::fs::read(source)
            .await
            .map_err(|e| AwsError::invalid(format!("reading source {source}: {e}")))
    }

    async fn head(&self, base: &Value, bucket: &str, key: &str) -> AwsResult<Option<Value>> {
        match self
            .shared
            .s3()
            .await
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(sdk("HeadObject"))
        {
            Ok(h) => Ok(Some(with_all(
                base,
                [
                    ("id", s(key)),
                    ("etag", os(h.e_tag().map(|e| e.trim_matches('"')))),
                    ("content_type", os(h.content_type())),
                    ("version_id", os(h.version_id())),
                ],
            ))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put(&self, planned: &Value) -> ProviderResult<Value> {
        let bucket = req_str(planned, "bucket")?;
        let key = req_str(planned, "key")?;
        let body = Self::body(planned).await?;
        self.shared
            .s3()
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .set_content_type(opt_str(planned, "content_type").map(str::to_owned))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(sdk("PutObject"))?;
        self.head(planned, bucket, key).await?.ok_or_else(|| {
            ProviderError::new(format!("object s3://{bucket}/{key} vanished after upload"))
        })
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

#[async_trait]
impl ResourceType for S3Object {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let has = |k| config.get(k).is_some_and(|v: &Value| !v.is_null());
        match (has("content"), has("source")) {
            (true, true) => vec![(
                "source".into(),
                "set either content or source, not both".into(),
            )],
            (false, false) => vec![(
                "content".into(),
                "one of content or source is required".into(),
            )],
            _ => Vec::new(),
        }
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let etag = match (proposed.get("content"), proposed.get("source")) {
            (Some(Value::String(c)), _) => Value::String(md5_hex(c.as_bytes())),
            (_, Some(Value::String(path))) => match std::fs::read(path) {
                Ok(bytes) => Value::String(md5_hex(&bytes)),
                // Not there yet (made by another resource): known at apply.
                Err(_) => Value::Unknown,
            },
            _ => Value::Unknown,
        };
        let mut v = with_all(&proposed, [("etag", etag)]);
        if proposed.get("content_type").is_none_or(Value::is_unknown) {
            v = with_all(&v, [("content_type", s("binary/octet-stream"))]);
        }
        Ok(v)
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let bucket = req_str(prior, "bucket")?;
        let key = req_str(prior, "key")?;
        Ok(self.head(prior, bucket, key).await?)
    }

    /// Bucket and key name the object. One that is there with other bytes
    /// is still reported: its `etag` then differs from the planned one, and
    /// the next plan uploads again, as it would for drift.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        self.read(planned).await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        self.put(planned).await
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        self.put(planned).await
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let bucket = req_str(prior, "bucket")?;
        let key = req_str(prior, "key")?;
        deleted(
            self.shared
                .s3()
                .await
                .delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(sdk("DeleteObject")),
        )
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (bucket, key) = id.split_once('/').ok_or_else(|| {
            ProviderError::new(format!("import id must be BUCKET/KEY, got {id:?}"))
        })?;
        let base = obj([("bucket", s(bucket)), ("key", s(key))]);
        self.head(&base, bucket, key)
            .await?
            .ok_or_else(|| ProviderError::new(format!("NoSuchKey: no object {id:?} to import")))
    }
}
