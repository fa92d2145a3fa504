//! `local_file`: a file on this machine. Edited or deleted by hand, it shows as
//! drift and the next apply writes it back.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use async_trait::async_trait;
use sha1::{Digest, Sha1};

use dumcel_planner::{Attribute, Schema, Value};

use super::with_attr;
use crate::provider::{ProviderError, ProviderResult, ResourceType};

pub struct LocalFile {
    schema: Schema,
}

impl LocalFile {
    pub fn new() -> LocalFile {
        LocalFile {
            schema: Schema::new()
                .attr(
                    "id",
                    Attribute::computed().describe("SHA-1 of the content."),
                )
                .attr("filename", Attribute::required().force_new())
                .attr("content", Attribute::optional().force_new())
                .attr(
                    "file_permission",
                    Attribute::optional_computed().force_new(),
                )
                .attr(
                    "directory_permission",
                    Attribute::optional_computed().force_new(),
                ),
        }
    }
}

impl Default for LocalFile {
    fn default() -> Self {
        Self::new()
    }
}

const DEFAULT_PERMISSION: &str = "0777";

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

fn mode(value: &Value, attr: &str) -> Result<u32, String> {
    let text = value
        .get(attr)
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_PERMISSION);
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("{text:?} is not an octal file mode such as \"0644\""))
}

fn string_attr<'a>(value: &'a Value, attr: &str) -> Result<&'a str, ProviderError> {
    value
        .get(attr)
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::new(format!("\"{attr}\" must be a string")))
}

#[async_trait]
impl ResourceType for LocalFile {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        for attr in ["filename", "content"] {
            match config.get(attr) {
                Some(v) if v.is_unknown() || v.as_str().is_some() => {}
                Some(Value::Null) | None if attr == "content" => {
                    errors.push((attr.to_owned(), "is required: the text to write".to_owned()))
                }
                Some(v) => errors.push((
                    attr.to_owned(),
                    format!("must be a string, got {}", v.type_name()),
                )),
                None => {}
            }
        }
        for attr in ["file_permission", "directory_permission"] {
            if config
                .get(attr)
                .is_some_and(|v| !v.is_null() && !v.is_unknown())
                && let Err(e) = mode(config, attr)
            {
                errors.push((attr.to_owned(), e));
            }
        }
        errors
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let Some(filename) = prior.get("filename").and_then(Value::as_str) else {
            return Ok(None);
        };
        match tokio::fs::read(filename).await {
            Ok(bytes) => {
                let content = String::from_utf8_lossy(&bytes).into_owned();
                let v = with_attr(prior, "content", Value::String(content));
                Ok(Some(with_attr(&v, "id", Value::String(sha1_hex(&bytes)))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ProviderError::new(format!("reading {filename}: {e}"))),
        }
    }

    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        // The file is named by the configuration: reading it is finding it.
        self.read(planned).await
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let filename = string_attr(planned, "filename")?;
        let content = string_attr(planned, "content")?;
        let file_mode = mode(planned, "file_permission").map_err(ProviderError::new)?;
        let dir_mode = mode(planned, "directory_permission").map_err(ProviderError::new)?;
        let path = Path::new(filename);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.exists()
        {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                ProviderError::new(format!("creating directory {}: {e}", parent.display()))
            })?;
            let _ =
                tokio::fs::set_permissions(parent, std::fs::Permissions::from_mode(dir_mode)).await;
        }
        tokio::fs::write(path, content.as_bytes())
            .await
            .map_err(|e| ProviderError::new(format!("writing {filename}: {e}")))?;
        tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(file_mode))
            .await
            .map_err(|e| ProviderError::new(format!("setting the mode of {filename}: {e}")))?;
        let mut out = with_attr(planned, "id", Value::String(sha1_hex(content.as_bytes())));
        for attr in ["file_permission", "directory_permission"] {
            if out.get(attr).is_none_or(|v| v.is_null() || v.is_unknown()) {
                out = with_attr(&out, attr, Value::string(DEFAULT_PERMISSION));
            }
        }
        Ok(out)
    }

    async fn update(&self, _prior: &Value, planned: &Value) -> ProviderResult<Value> {
        // Every argument forces replacement; nothing changes in place.
        Ok(planned.clone())
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let filename = string_attr(prior, "filename")?;
        match tokio::fs::remove_file(filename).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ProviderError::new(format!("deleting {filename}: {e}"))),
        }
    }
}
