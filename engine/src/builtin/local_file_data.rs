//! `data "local_file"`: reads a file that exists, for its content.

use async_trait::async_trait;
use base64::Engine as _;
use sha1::{Digest, Sha1};

use dumcel_planner::{Attribute, Schema, Value};

use crate::provider::{DataSource, ProviderError, ProviderResult};

pub struct LocalFileData {
    schema: Schema,
}

impl LocalFileData {
    pub fn new() -> LocalFileData {
        LocalFileData {
            schema: Schema::new()
                .attr("filename", Attribute::required())
                .attr("content", Attribute::computed())
                .attr("content_base64", Attribute::computed())
                .attr(
                    "id",
                    Attribute::computed().describe("SHA-1 of the content."),
                ),
        }
    }
}

impl Default for LocalFileData {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DataSource for LocalFileData {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, config: &Value) -> ProviderResult<Value> {
        let filename = config
            .get("filename")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::new("\"filename\" must be a string"))?;
        let bytes = tokio::fs::read(filename)
            .await
            .map_err(|e| ProviderError::new(format!("reading {filename}: {e}")))?;
        let mut out = config.as_map().cloned().unwrap_or_default();
        out.insert(
            "content".into(),
            Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        );
        out.insert(
            "content_base64".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        );
        out.insert(
            "id".into(),
            Value::String(hex::encode(Sha1::digest(&bytes))),
        );
        Ok(Value::Map(out))
    }
}
