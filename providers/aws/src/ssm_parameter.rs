//! `aws_ssm_parameter`: a Systems Manager Parameter Store parameter. `id` is
//! the name, as Terraform has it, and so is the import id. The name and
//! `data_type` replace it; the value, type, description, KMS key, allowed
//! pattern, tier and tags change in place (a new version of the parameter;
//! tags alone make none). A tier lowered from `Advanced` to `Standard`,
//! which SSM refuses in place, deletes and makes the parameter again within
//! the update. `value` is sensitive: it never appears in plans, logs or
//! errors (an error of a call that carried it has it taken out).
//! `insecure_value` is the same value shown in plans, for values that are
//! not secret; exactly one of the two is set.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{
    Parameter, ParameterMetadata, ParameterStringFilter, ParameterTier, ParameterType,
    ResourceTypeForTagging, Tag,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{n, obj, opt_bool, opt_str, req_str, s, string_map, with, with_all};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::text;
use crate::{tags, wait};

const TYPES: &[&str] = &["String", "StringList", "SecureString"];
const TIERS: &[&str] = &["Standard", "Advanced", "Intelligent-Tiering"];
const DATA_TYPES: &[&str] = &["text", "aws:ec2:image", "aws:ssm:integration"];

/// What a `PutParameter` sends besides the value: a change to any of these
/// (or to the value) is a new version.
const PUT: &[&str] = &[
    "type",
    "description",
    "key_id",
    "allowed_pattern",
    "tier",
    "data_type",
];

/// Whether going from `prior` to `planned` needs a `PutParameter`. The value
/// is compared as sent (`value`, else `insecure_value`), so moving it from
/// one argument to the other is no new version.
fn put_changed(prior: &Value, planned: &Value) -> bool {
    let get = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    let sent = |v: &Value| match v.get("value") {
        Some(x) if !x.is_null() => x.clone(),
        _ => get(v, "insecure_value"),
    };
    !dumcel_planner::diff::same(&sent(prior), &sent(planned))
        || PUT
            .iter()
            .any(|k| !dumcel_planner::diff::same(&get(prior, k), &get(planned, k)))
}

pub struct SsmParameter {
    shared: Arc<Shared>,
    schema: Schema,
}

impl SsmParameter {
    pub fn new(shared: Arc<Shared>) -> SsmParameter {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr(
                "type",
                Attribute::required().describe("String, StringList or SecureString"),
            )
            .attr("value", Attribute::optional_computed().sensitive())
            .attr(
                "insecure_value",
                Attribute::optional_computed().describe("the value, shown in plans (not secret)"),
            )
            .attr("description", Attribute::optional())
            .attr(
                "tier",
                Attribute::optional_computed()
                    .describe("Standard (the default), Advanced or Intelligent-Tiering"),
            )
            .attr(
                "key_id",
                Attribute::optional_computed()
                    .describe("KMS key of a SecureString; default alias/aws/ssm"),
            )
            .attr(
                "data_type",
                Attribute::optional_computed()
                    .force_new()
                    .describe("text (the default), aws:ec2:image or aws:ssm:integration"),
            )
            .attr("allowed_pattern", Attribute::optional())
            .attr(
                "overwrite",
                Attribute::optional()
                    .describe("create over an existing parameter of the same name"),
            )
            .attr("arn", Attribute::computed())
            .attr("version", Attribute::computed());
        SsmParameter {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn get(ssm: &Client, name: &str) -> AwsResult<Option<Parameter>> {
        match ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            // The answer holds the value: only its presence is looked at.
            Ok(out) => Ok(out.parameter().cloned()),
            Err(e) => {
                let e = AwsError::sdk("GetParameter", e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }

    async fn metadata(ssm: &Client, name: &str) -> AwsResult<Option<ParameterMetadata>> {
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .map_err(|e| AwsError::invalid(e.to_string()))?;
        let out = ssm
            .describe_parameters()
            .parameter_filters(filter)
            .send()
            .await
            .map_err(sdk("DescribeParameters"))?;
        Ok(out
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .cloned())
    }

    async fn tags_of(ssm: &Client, name: &str) -> AwsResult<BTreeMap<String, String>> {
        let out = ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        Ok(out
            .tag_list()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .filter(|(k, _)| !k.starts_with("aws:"))
            .collect())
    }

    /// The parameter as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, name: &str) -> AwsResult<Option<Value>> {
        let ssm = self.shared.ssm().await;
        let Some(p) = Self::get(&ssm, name).await? else {
            return Ok(None);
        };
        let Some(meta) = Self::metadata(&ssm, name).await? else {
            return Ok(None);
        };
        let tags = match Self::tags_of(&ssm, name).await {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let kind = p
            .r#type()
            .or(meta.r#type())
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
        let value = p.value().unwrap_or_default();
        // `insecure_value` is reported where the configuration uses it, for
        // a parameter that is not a SecureString, as Terraform has it.
        let insecure =
            base.get("insecure_value").is_some_and(|v| !v.is_null()) && kind != "SecureString";
        let tier = match (opt_str(base, "tier"), meta.tier().map(|t| t.as_str())) {
            // Intelligent-Tiering picks Standard or Advanced itself.
            (Some("Intelligent-Tiering"), _) => s("Intelligent-Tiering"),
            (_, Some(t)) => s(t),
            (_, None) => s("Standard"),
        };
        Ok(Some(with_all(
            base,
            [
                ("id", s(name)),
                ("name", s(name)),
                ("type", s(&kind)),
                ("value", s(value)),
                (
                    "insecure_value",
                    if insecure { s(value) } else { Value::Null },
                ),
                ("description", text(meta.description())),
                ("tier", tier),
                ("key_id", crate::attrs::os(meta.key_id())),
                (
                    "data_type",
                    s(p.data_type().or(meta.data_type()).unwrap_or("text")),
                ),
                ("allowed_pattern", text(meta.allowed_pattern())),
                ("arn", crate::attrs::os(p.arn().or(meta.arn()))),
                ("version", n(p.version().max(meta.version()) as f64)),
                ("tags_all", string_map(tags)),
            ],
        )))
    }

    /// `PutParameter` with what `planned` says. Any error has the value taken
    /// out of its message.
    async fn put(
        &self,
        ssm: &Client,
        planned: &Value,
        overwrite: bool,
        tags: Option<Vec<Tag>>,
    ) -> AwsResult<()> {
        let name = req_str(planned, "name")?;
        let value = value_of(planned)?;
        let out = ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::from(req_str(planned, "type")?))
            .set_description(opt_str(planned, "description").map(str::to_owned))
            .set_key_id(
                opt_str(planned, "key_id")
                    .filter(|_| opt_str(planned, "type") == Some("SecureString"))
                    .map(str::to_owned),
            )
            .set_allowed_pattern(opt_str(planned, "allowed_pattern").map(str::to_owned))
            .set_tier(opt_str(planned, "tier").map(ParameterTier::from))
            .set_data_type(opt_str(planned, "data_type").map(str::to_owned))
            .overwrite(overwrite)
            .set_tags(tags)
            .send()
            .await
            .map_err(sdk("PutParameter"));
        out.map(|_| ()).map_err(|e| redact(e, value))
    }

    async fn settled(&self, base: &Value, name: &str) -> ProviderResult<Value> {
        wait::until(
            &format!("SSM parameter {name} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, name).await },
        )
        .await
        .map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(base.clone()),
        })
    }
}

/// The value to send: `value`, else `insecure_value`.
fn value_of(planned: &Value) -> AwsResult<&str> {
    opt_str(planned, "value")
        .or_else(|| opt_str(planned, "insecure_value"))
        .ok_or_else(|| AwsError::invalid("one of value or insecure_value must be set"))
}

/// The error with every occurrence of `secret` replaced, so a value AWS
/// quotes back (a pattern it does not match) is never shown.
fn redact(e: AwsError, secret: &str) -> AwsError {
    if secret.is_empty() {
        return e;
    }
    let hide = |t: String| t.replace(secret, "(sensitive value)");
    match e {
        AwsError::Service {
            operation,
            code,
            message,
        } => AwsError::Service {
            operation,
            code,
            message: hide(message),
        },
        AwsError::Transport { operation, detail } => AwsError::Transport {
            operation,
            detail: hide(detail),
        },
        AwsError::Invalid(m) => AwsError::Invalid(hide(m)),
        AwsError::Unexpected { operation, detail } => AwsError::Unexpected {
            operation,
            detail: hide(detail),
        },
        AwsError::Timeout(m) => AwsError::Timeout(hide(m)),
        other => other,
    }
}

fn ssm_tags(all: BTreeMap<String, String>) -> AwsResult<Vec<Tag>> {
    all.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::invalid(e.to_string()))
        })
        .collect()
}

#[async_trait]
impl ResourceType for SsmParameter {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        match (set("value"), set("insecure_value")) {
            (true, true) => out.push((
                "insecure_value".to_owned(),
                "conflicts with value: set one of them".to_owned(),
            )),
            (false, false) => out.push((
                "value".to_owned(),
                "one of value or insecure_value must be set".to_owned(),
            )),
            _ => {}
        }
        let one_of = |key: &str, allowed: &[&str], out: &mut Vec<(String, String)>| {
            if let Some(v) = opt_str(config, key)
                && !allowed.contains(&v)
            {
                out.push((
                    key.to_owned(),
                    format!("must be one of {}, got {v:?}", allowed.join(", ")),
                ));
            }
        };
        one_of("type", TYPES, &mut out);
        one_of("tier", TIERS, &mut out);
        one_of("data_type", DATA_TYPES, &mut out);
        if opt_str(config, "type") == Some("SecureString") && set("insecure_value") {
            out.push((
                "insecure_value".to_owned(),
                "a SecureString's value is secret: use value".to_owned(),
            ));
        }
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let mut proposed = proposed;
        // The two are one value: the one the configuration leaves out
        // follows the other. `value` was set when it is known (creating) or
        // differs from the recorded one (carried over, it is the same).
        let value = proposed.get("value").cloned().unwrap_or(Value::Null);
        let value_set = match prior {
            Some(p) => {
                !value.is_null()
                    && !dumcel_planner::diff::same(
                        &value,
                        &p.get("value").cloned().unwrap_or(Value::Null),
                    )
            }
            None => value.as_str().is_some(),
        };
        if value_set {
            proposed = with(&proposed, "insecure_value", Value::Null);
        } else if let Some(v) = opt_str(&proposed, "insecure_value") {
            let v = s(v);
            proposed = with(&proposed, "value", v);
        }
        if let Some(prior) = prior {
            // Intelligent-Tiering shows as the tier it chose.
            if opt_str(&proposed, "tier") == Some("Intelligent-Tiering")
                && opt_str(prior, "tier").is_some()
            {
                let t = prior.get("tier").cloned().unwrap_or(Value::Null);
                proposed = with(&proposed, "tier", t);
            }
            if put_changed(prior, &proposed) {
                proposed = with(&proposed, "version", Value::Unknown);
            }
        }
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let name = match opt_str(prior, "name") {
            Some(n) => n,
            None => req_str(prior, "id")?,
        };
        Ok(self.observe(prior, name).await?)
    }

    /// Parameter names are unique in a region: the one a lost create made is
    /// the one of its name.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        Ok(self.observe(planned, name).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let ssm = self.shared.ssm().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let overwrite = opt_bool(planned, "overwrite").unwrap_or(false);
        // SSM takes tags with a new parameter, not with an overwrite.
        let with_tags = (!overwrite && !all.is_empty())
            .then(|| ssm_tags(all.clone()))
            .transpose()?;
        self.put(&ssm, planned, overwrite, with_tags)
            .await
            .map_err(|e| match e.code() {
                Some("ParameterAlreadyExists") => AwsError::invalid(format!(
                    "{e}: `dumcel import` it by name, or set overwrite = true to take it over"
                )),
                _ => e,
            })?;
        let made = with_all(planned, [("id", s(name))]);
        if overwrite && !all.is_empty() {
            ssm.add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tags(Some(ssm_tags(all)?))
                .send()
                .await
                .map_err(sdk("AddTagsToResource"))
                .map_err(|e| ProviderError {
                    message: e.to_string(),
                    partial: Some(made.clone()),
                })?;
        }
        self.settled(&made, name).await
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(prior, "name")?;
        let ssm = self.shared.ssm().await;
        if put_changed(prior, planned) {
            let downgrade = opt_str(prior, "tier") == Some("Advanced")
                && opt_str(planned, "tier") == Some("Standard");
            if downgrade {
                // SSM cannot lower the tier in place: the parameter is made
                // again, with its tags.
                ssm.delete_parameter()
                    .name(name)
                    .send()
                    .await
                    .map_err(sdk("DeleteParameter"))?;
                let all = tags::recorded(planned);
                let t = (!all.is_empty()).then(|| ssm_tags(all)).transpose()?;
                self.put(&ssm, planned, false, t).await?;
                return self.settled(planned, name).await;
            }
            // Cleared arguments are sent as empty, so SSM forgets them.
            let mut send = planned.clone();
            for k in ["description", "allowed_pattern"] {
                if opt_str(planned, k).is_none() && opt_str(prior, k).is_some() {
                    send = with(&send, k, s(""));
                }
            }
            let overwrite = opt_bool(planned, "overwrite").unwrap_or(true);
            self.put(&ssm, &send, overwrite, None).await?;
        }
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !set.is_empty() {
            ssm.add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tags(Some(ssm_tags(set)?))
                .send()
                .await
                .map_err(sdk("AddTagsToResource"))?;
        }
        if !removed.is_empty() {
            ssm.remove_tags_from_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(sdk("RemoveTagsFromResource"))?;
        }
        self.observe(planned, name).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "SSM parameter {name} vanished while it was updated"
            ))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let name = req_str(prior, "name")?;
        let out = self
            .shared
            .ssm()
            .await
            .delete_parameter()
            .name(name)
            .send()
            .await
            .map_err(sdk("DeleteParameter"));
        crate::error::deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let ssm = self.shared.ssm().await;
        if Self::get(&ssm, id).await?.is_none() {
            return Err(ProviderError::new(format!(
                "ParameterNotFound: no SSM parameter named {id:?} to import"
            )));
        }
        let tags = tags::imported(&self.shared.default_tags(), &Self::tags_of(&ssm, id).await?);
        Ok(obj([
            ("id", s(id)),
            ("name", s(id)),
            ("insecure_value", Value::Null),
            ("overwrite", Value::Null),
            ("tags", tags),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_quote_the_value() {
        let e = AwsError::Service {
            operation: "PutParameter",
            code: "ValidationException".into(),
            message: "Parameter value hunter2 failed to satisfy constraint".into(),
        };
        let msg = redact(e, "hunter2").to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("(sensitive value)"), "{msg}");
    }
}
