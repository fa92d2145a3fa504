//! `aws_secretsmanager_secret_version`: one version of a secret's value.
//! `id` is `secret_id|version_id`, as Terraform has it, and so is the import
//! id; `arn` is the secret's ARN. A version's value cannot change: a new
//! `secret_string` or `secret_binary` (base64, as in Terraform) makes a new
//! version (replace), and so does a new `secret_id`. `version_stages` changes
//! in place (staging labels moved to this version, or taken off it;
//! `AWSCURRENT` can only be moved, never taken off). Destroy takes its labels
//! off the version (but `AWSCURRENT`); Secrets Manager removes versions
//! without labels itself. The value is sensitive: it never appears in plans,
//! logs or errors.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::primitives::Blob;
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{obj, opt_str, req_str, s, set_like, str_list, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::wait;

pub struct SecretsmanagerSecretVersion {
    shared: Arc<Shared>,
    schema: Schema,
}

/// `secret_id|version_id`, split at the last `|` (neither a secret's name
/// nor its ARN has one).
fn parse_id(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once('|')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
}

/// Whether an error says the secret (hence the version) is gone: not found,
/// or deleted / scheduled for deletion.
fn gone(e: &AwsError) -> bool {
    e.is_not_found()
        || (e.code() == Some("InvalidRequestException")
            && (e.to_string().contains("deleted") || e.to_string().contains("deletion")))
}

impl SecretsmanagerSecretVersion {
    pub fn new(shared: Arc<Shared>) -> SecretsmanagerSecretVersion {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("secret_id", Attribute::required().force_new())
            .attr(
                "secret_string",
                Attribute::optional().force_new().sensitive(),
            )
            .attr(
                "secret_binary",
                Attribute::optional()
                    .force_new()
                    .sensitive()
                    .describe("base64"),
            )
            .attr(
                "version_stages",
                Attribute::optional_computed()
                    .describe("staging labels; AWSCURRENT by default on a new version"),
            )
            .attr("arn", Attribute::computed())
            .attr("version_id", Attribute::computed());
        SecretsmanagerSecretVersion { shared, schema }
    }

    /// The version as a value over `base`; `None` when it (or its secret)
    /// is gone.
    async fn observe(
        &self,
        base: &Value,
        secret_id: &str,
        version_id: &str,
    ) -> AwsResult<Option<Value>> {
        let sm = self.shared.secretsmanager().await;
        let out = match sm
            .get_secret_value()
            .secret_id(secret_id)
            .version_id(version_id)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                // Never the value: an error of this call carries none.
                let e = AwsError::sdk("GetSecretValue", e);
                return if gone(&e) { Ok(None) } else { Err(e) };
            }
        };
        let stages = set_like(base.get("version_stages"), out.version_stages().to_vec());
        Ok(Some(with_all(
            base,
            [
                ("id", s(format!("{secret_id}|{version_id}"))),
                ("secret_id", s(secret_id)),
                ("version_id", s(version_id)),
                ("arn", crate::attrs::os(out.arn())),
                ("secret_string", crate::attrs::os(out.secret_string())),
                (
                    "secret_binary",
                    out.secret_binary()
                        .map(|b| s(base64_encode(b.as_ref())))
                        .unwrap_or(Value::Null),
                ),
                ("version_stages", stages),
            ],
        )))
    }

    /// Which version holds each staging label now.
    async fn holders(sm: &Client, secret_id: &str) -> AwsResult<Vec<(String, String)>> {
        let out = sm
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(sdk("DescribeSecret"))?;
        Ok(out
            .version_ids_to_stages()
            .map(|m| {
                m.iter()
                    .flat_map(|(v, stages)| stages.iter().map(|st| (st.clone(), v.clone())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Moves each of `stages` to `version_id`, from whichever version holds it.
    async fn attach(
        &self,
        sm: &Client,
        secret_id: &str,
        version_id: &str,
        stages: &[String],
    ) -> AwsResult<()> {
        if stages.is_empty() {
            return Ok(());
        }
        let holders = Self::holders(sm, secret_id).await?;
        for stage in stages {
            let from = holders
                .iter()
                .find(|(st, v)| st == stage && v != version_id)
                .map(|(_, v)| v.clone());
            if from.is_none() && holders.iter().any(|(st, v)| st == stage && v == version_id) {
                continue;
            }
            sm.update_secret_version_stage()
                .secret_id(secret_id)
                .version_stage(stage)
                .move_to_version_id(version_id)
                .set_remove_from_version_id(from)
                .send()
                .await
                .map_err(sdk("UpdateSecretVersionStage"))?;
        }
        Ok(())
    }

    /// Takes `stages` off `version_id`; `AWSCURRENT` cannot be taken off (only
    /// moved to another version), so it is left.
    async fn detach(
        &self,
        sm: &Client,
        secret_id: &str,
        version_id: &str,
        stages: &[String],
    ) -> AwsResult<()> {
        for stage in stages.iter().filter(|st| *st != "AWSCURRENT") {
            let out = sm
                .update_secret_version_stage()
                .secret_id(secret_id)
                .version_stage(stage)
                .remove_from_version_id(version_id)
                .send()
                .await
                .map_err(sdk("UpdateSecretVersionStage"));
            match out {
                Err(e) if !gone(&e) => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

fn ids(v: &Value) -> AwsResult<(&str, &str)> {
    match (opt_str(v, "secret_id"), opt_str(v, "version_id")) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => {
            let id = req_str(v, "id")?;
            parse_id(id).ok_or_else(|| {
                AwsError::invalid(format!(
                    "secret version id {id:?} is not secret_id|version_id"
                ))
            })
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (padding optional, whitespace ignored); `None` when it is
/// not base64. The message of a failure never quotes the text.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut padding = false;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding = true;
            continue;
        }
        if padding {
            return None;
        }
        let v = B64.iter().position(|x| *x == c)? as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    Some(out)
}

#[async_trait]
impl ResourceType for SecretsmanagerSecretVersion {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        let mut out = Vec::new();
        match (set("secret_string"), set("secret_binary")) {
            (true, true) => out.push((
                "secret_binary".to_owned(),
                "conflicts with secret_string: set one of them".to_owned(),
            )),
            (false, false) => out.push((
                "secret_string".to_owned(),
                "one of secret_string or secret_binary must be set".to_owned(),
            )),
            _ => {}
        }
        if let Some(b) = opt_str(config, "secret_binary")
            && base64_decode(b).is_none()
        {
            out.push((
                "secret_binary".to_owned(),
                "must be base64 (use base64encode(...) or filebase64(...))".to_owned(),
            ));
        }
        out
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let (secret_id, version_id) = ids(prior)?;
        Ok(self.observe(prior, secret_id, version_id).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let secret_id = req_str(planned, "secret_id")?;
        let sm = self.shared.secretsmanager().await;
        let binary = match opt_str(planned, "secret_binary") {
            Some(b) => {
                Some(Blob::new(base64_decode(b).ok_or_else(|| {
                    AwsError::invalid("secret_binary must be base64")
                })?))
            }
            None => None,
        };
        let stages = planned
            .get("version_stages")
            .and_then(Value::as_list)
            .map(|_| str_list(planned, "version_stages"));
        let out = sm
            .put_secret_value()
            .secret_id(secret_id)
            .set_secret_string(opt_str(planned, "secret_string").map(str::to_owned))
            .set_secret_binary(binary)
            .set_version_stages(stages)
            .send()
            .await
            .map_err(sdk("PutSecretValue"))?;
        let version_id = out
            .version_id()
            .ok_or_else(|| AwsError::unexpected("PutSecretValue", "no version id in the answer"))?
            .to_owned();
        let made = with_all(
            planned,
            [
                ("id", s(format!("{secret_id}|{version_id}"))),
                ("version_id", s(&version_id)),
                ("arn", crate::attrs::os(out.arn())),
            ],
        );
        let (base, v) = (&made, version_id.as_str());
        wait::until(
            &format!("version {version_id} of secret {secret_id} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, secret_id, v).await },
        )
        .await
        .map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        })
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let (secret_id, version_id) = ids(prior)?;
        let sm = self.shared.secretsmanager().await;
        if planned
            .get("version_stages")
            .is_some_and(|v| !v.is_unknown())
        {
            let old = str_list(prior, "version_stages");
            let new = str_list(planned, "version_stages");
            let add: Vec<String> = new.iter().filter(|x| !old.contains(x)).cloned().collect();
            let remove: Vec<String> = old.iter().filter(|x| !new.contains(x)).cloned().collect();
            // Labels off first (those the version still holds), then on:
            // moving AWSCURRENT here also moves AWSPREVIOUS away by itself.
            let held: Vec<String> = Self::holders(&sm, secret_id)
                .await?
                .into_iter()
                .filter(|(st, v)| v == version_id && remove.contains(st))
                .map(|(st, _)| st)
                .collect();
            self.detach(&sm, secret_id, version_id, &held).await?;
            self.attach(&sm, secret_id, version_id, &add).await?;
        }
        self.observe(planned, secret_id, version_id)
            .await?
            .ok_or_else(|| {
                ProviderError::new(format!(
                    "version {version_id} of secret {secret_id} vanished while it was updated"
                ))
            })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let (secret_id, version_id) = ids(prior)?;
        let sm = self.shared.secretsmanager().await;
        let stages = str_list(prior, "version_stages");
        Ok(self.detach(&sm, secret_id, version_id, &stages).await?)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let (secret_id, version_id) = parse_id(id).ok_or_else(|| {
            ProviderError::new(format!(
                "an aws_secretsmanager_secret_version is imported as SECRET_ARN|VERSION_ID, got {id:?}"
            ))
        })?;
        Ok(obj([
            ("id", s(id)),
            ("secret_id", s(secret_id)),
            ("version_id", s(version_id)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_secret_bar_version() {
        assert_eq!(
            parse_id("arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf|v1"),
            Some(("arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf", "v1"))
        );
        assert_eq!(parse_id("arn-only"), None);
        assert_eq!(parse_id("|v1"), None);
    }

    #[test]
    fn base64_round_trips() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"\x00\xff\x10binary",
        ] {
            let text = base64_encode(bytes);
            assert_eq!(base64_decode(&text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("not base64!"), None);
    }
}
