//! `aws_secretsmanager_secret`: a Secrets Manager secret (its metadata; the
//! value is `aws_secretsmanager_secret_version`). `id` and `arn` are the ARN,
//! as in Terraform, and so is the import id. The name (or the `name_prefix`
//! a name is generated from) replaces it; the description, the KMS key, the
//! resource policy (compared as a policy, not as text) and tags change in
//! place. Destroy schedules the deletion after `recovery_window_in_days`
//! (default 30); 0 deletes at once, without recovery. A secret scheduled for
//! deletion reads as gone, as Terraform has it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{
    n, obj, opt_bool, opt_i32, opt_str, or_default, req_str, s, string_map, with_all,
};
use crate::cloudwatch_log_group::prefix_of_generated;
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::{check_name, check_policy, name_of, plan_policy, read_policy, text};
use crate::{tags, wait};

pub struct SecretsmanagerSecret {
    shared: Arc<Shared>,
    schema: Schema,
}

impl SecretsmanagerSecret {
    pub fn new(shared: Arc<Shared>) -> SecretsmanagerSecret {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("arn", Attribute::computed())
            .attr("name", Attribute::optional_computed().force_new())
            .attr("name_prefix", Attribute::optional().force_new())
            .attr("description", Attribute::optional())
            .attr("kms_key_id", Attribute::optional())
            .attr(
                "policy",
                Attribute::optional_computed().describe("the secret's resource policy (JSON)"),
            )
            .attr(
                "recovery_window_in_days",
                Attribute::optional()
                    .describe("days before a destroyed secret is deleted: 7 to 30 (default 30), or 0 to delete it at once"),
            )
            .attr(
                "force_overwrite_replica_secret",
                Attribute::optional().describe("overwrite a secret of the same name in replica regions"),
            );
        SecretsmanagerSecret {
            shared,
            schema: tags::add(schema),
        }
    }

    /// The secret, unless it is gone or scheduled for deletion.
    async fn describe(sm: &Client, id: &str) -> AwsResult<Option<DescribeSecretOutput>> {
        match sm.describe_secret().secret_id(id).send().await {
            Ok(out) if out.deleted_date().is_some() => Ok(None),
            Ok(out) => Ok(Some(out)),
            Err(e) => {
                let e = AwsError::sdk("DescribeSecret", e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }

    /// The secret as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, id: &str) -> AwsResult<Option<Value>> {
        let sm = self.shared.secretsmanager().await;
        let Some(out) = Self::describe(&sm, id).await? else {
            return Ok(None);
        };
        let arn = out.arn().unwrap_or(id).to_owned();
        let policy = match sm.get_resource_policy().secret_id(&arn).send().await {
            Ok(p) => match p.resource_policy() {
                Some(doc) if !doc.is_empty() => read_policy(Some(base), "policy", doc),
                _ => Value::Null,
            },
            Err(e) => {
                let e = AwsError::sdk("GetResourcePolicy", e);
                if e.is_not_found() {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        let name = out.name().unwrap_or_default();
        Ok(Some(with_all(
            base,
            [
                ("id", s(&arn)),
                ("arn", s(&arn)),
                ("name", s(name)),
                ("description", text(out.description())),
                ("kms_key_id", text(out.kms_key_id())),
                ("policy", policy),
                (
                    "recovery_window_in_days",
                    n(opt_i32(base, "recovery_window_in_days")
                        .ok()
                        .flatten()
                        .unwrap_or(30)),
                ),
                (
                    "force_overwrite_replica_secret",
                    Value::Bool(opt_bool(base, "force_overwrite_replica_secret").unwrap_or(false)),
                ),
                ("tags_all", string_map(tag_map(out.tags()))),
            ],
        )))
    }

    async fn put_policy(&self, sm: &Client, arn: &str, policy: Option<&str>) -> AwsResult<()> {
        match policy {
            Some(doc) => {
                // A principal made moments ago may not be known yet.
                wait::retry(
                    &format!("the resource policy of secret {arn} to be accepted"),
                    wait::limit(120),
                    (Duration::from_secs(1), Duration::from_secs(10)),
                    |e| {
                        e.code() == Some("MalformedPolicyDocumentException")
                            && e.to_string().contains("principal")
                    },
                    || async move {
                        sm.put_resource_policy()
                            .secret_id(arn)
                            .resource_policy(doc)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(sdk("PutResourcePolicy"))
                    },
                )
                .await
            }
            None => sm
                .delete_resource_policy()
                .secret_id(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteResourcePolicy")),
        }
    }

    async fn settled(&self, base: &Value, arn: &str) -> ProviderResult<Value> {
        wait::until(
            &format!("secret {arn} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, arn).await },
        )
        .await
        .map_err(|e| ProviderError {
            message: e.to_string(),
            partial: Some(base.clone()),
        })
    }
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags::from_pairs(tags.iter().map(|t| (t.key(), t.value())))
}

fn sm_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[async_trait]
impl ResourceType for SecretsmanagerSecret {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = check_name(config).into_iter().collect();
        out.extend(check_policy(config, "policy"));
        match opt_i32(config, "recovery_window_in_days") {
            Ok(Some(d)) if d != 0 && !(7..=30).contains(&d) => out.push((
                "recovery_window_in_days".into(),
                format!("must be 0 (delete at once) or between 7 and 30 days, got {d}"),
            )),
            Err(e) => out.push(("recovery_window_in_days".into(), e.to_string())),
            _ => {}
        }
        out
    }

    fn plan(&self, prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "recovery_window_in_days", n(30));
        let proposed = or_default(
            proposed,
            "force_overwrite_replica_secret",
            Value::Bool(false),
        );
        let proposed = plan_policy(prior, proposed, "policy");
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let id = match opt_str(prior, "arn") {
            Some(a) => a,
            None => req_str(prior, "id")?,
        };
        Ok(self.observe(prior, id).await?)
    }

    /// Secret names are unique in a region: a configured name finds the
    /// secret a lost create made. A generated one cannot be told from others
    /// with the same prefix, unless there are none.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        if let Some(name) = opt_str(planned, "name") {
            return Ok(self.observe(planned, name).await?);
        }
        let prefix = opt_str(planned, "name_prefix").unwrap_or("terraform-");
        let sm = self.shared.secretsmanager().await;
        let out = sm
            .list_secrets()
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::Name)
                    .values(prefix)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk("ListSecrets"))?;
        if !out
            .secret_list()
            .iter()
            .any(|x| x.name().is_some_and(|n| n.starts_with(prefix)))
        {
            return Ok(None);
        }
        Err(ProviderError::new(format!(
            "secrets named {prefix}... exist and the generated name was not recorded: check which one the cut-off create made, then `dumcel import` it by ARN or `dumcel state rm` the address"
        )))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = name_of(planned);
        let client = self.shared.secretsmanager().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        let (sm, all, key) = (&client, &all, name.as_str());
        // A secret of this name deleted moments ago (without recovery) may
        // still hold the name for a while.
        let out = wait::retry(
            &format!("the name {name} to be free"),
            wait::limit(120),
            (Duration::from_secs(2), Duration::from_secs(10)),
            |e| {
                e.code() == Some("InvalidRequestException")
                    && e.to_string().contains("scheduled for deletion")
            },
            || async move {
                sm.create_secret()
                    .name(key)
                    .set_description(opt_str(planned, "description").map(str::to_owned))
                    .set_kms_key_id(opt_str(planned, "kms_key_id").map(str::to_owned))
                    .set_tags((!all.is_empty()).then(|| sm_tags(all.clone())))
                    .force_overwrite_replica_secret(
                        opt_bool(planned, "force_overwrite_replica_secret").unwrap_or(false),
                    )
                    .send()
                    .await
                    .map_err(sdk("CreateSecret"))
            },
        )
        .await
        .map_err(|e| {
            if e.to_string().contains("scheduled for deletion") {
                AwsError::invalid(format!(
                    "{e}: a secret named {name} is scheduled for deletion; restore it and `dumcel import` it by ARN, or delete it without recovery (aws secretsmanager delete-secret --force-delete-without-recovery), then apply again"
                ))
            } else {
                e
            }
        })?;
        let arn = out
            .arn()
            .ok_or_else(|| AwsError::unexpected("CreateSecret", "no ARN in the answer"))?
            .to_owned();
        let made = with_all(
            planned,
            [("id", s(&arn)), ("arn", s(&arn)), ("name", s(&name))],
        );
        if let Some(doc) = opt_str(planned, "policy") {
            self.put_policy(sm, &arn, Some(doc))
                .await
                .map_err(|e| ProviderError {
                    message: e.to_string(),
                    partial: Some(made.clone()),
                })?;
        }
        self.settled(&made, &arn).await
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let arn = req_str(prior, "arn")?;
        let sm = self.shared.secretsmanager().await;
        let desc = opt_str(planned, "description");
        let key = opt_str(planned, "kms_key_id");
        if desc != opt_str(prior, "description") || key != opt_str(prior, "kms_key_id") {
            sm.update_secret()
                .secret_id(arn)
                .description(desc.unwrap_or(""))
                .set_kms_key_id(key.map(str::to_owned))
                .send()
                .await
                .map_err(sdk("UpdateSecret"))?;
        }
        let policy = opt_str(planned, "policy");
        let had = opt_str(prior, "policy");
        let policy_changed = match (had, policy) {
            (Some(a), Some(b)) => !crate::iam::equivalent(a, b),
            (a, b) => a != b,
        };
        // Left out of the configuration (null, or unknown until apply) the
        // policy is kept, as Terraform has it; only a set one is put.
        if policy_changed && planned.get("policy").is_some_and(|v| !v.is_unknown()) {
            self.put_policy(&sm, arn, policy).await?;
        }
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !set.is_empty() {
            sm.tag_resource()
                .secret_id(arn)
                .set_tags(Some(sm_tags(set)))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        if !removed.is_empty() {
            sm.untag_resource()
                .secret_id(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        self.observe(planned, arn).await?.ok_or_else(|| {
            ProviderError::new(format!("secret {arn} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let arn = match opt_str(prior, "arn") {
            Some(a) => a,
            None => req_str(prior, "id")?,
        };
        let client = self.shared.secretsmanager().await;
        let sm = &client;
        let window = opt_i32(prior, "recovery_window_in_days")?.unwrap_or(30);
        let req = sm.delete_secret().secret_id(arn);
        let req = if window == 0 {
            req.force_delete_without_recovery(true)
        } else {
            req.recovery_window_in_days(i64::from(window))
        };
        match req.send().await.map_err(sdk("DeleteSecret")) {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            // Already marked for deletion: what was wanted.
            Err(e)
                if e.code() == Some("InvalidRequestException")
                    && (e.to_string().contains("deleted")
                        || e.to_string().contains("deletion")) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        if window == 0 {
            // Deletion without recovery is asynchronous: wait until it is
            // done, so the name is free for a replacement.
            wait::until(
                &format!("secret {arn} to be deleted"),
                wait::limit(120),
                Duration::from_secs(1),
                || async move {
                    match sm.describe_secret().secret_id(arn).send().await {
                        Ok(_) => Ok(None),
                        Err(e) => {
                            let e = AwsError::sdk("DescribeSecret", e);
                            if e.is_not_found() {
                                Ok(Some(()))
                            } else {
                                Err(e)
                            }
                        }
                    }
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        if !id.starts_with("arn:") {
            return Err(ProviderError::new(format!(
                "an aws_secretsmanager_secret is imported by its ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-xxxxxx), got {id:?}"
            )));
        }
        let sm = self.shared.secretsmanager().await;
        let Some(out) = Self::describe(&sm, id).await? else {
            return Err(ProviderError::new(format!(
                "ResourceNotFoundException: no secret {id:?} to import (or it is scheduled for deletion)"
            )));
        };
        let tags = tags::imported(&self.shared.default_tags(), &tag_map(out.tags()));
        Ok(obj([
            ("id", s(id)),
            ("arn", s(id)),
            (
                "name_prefix",
                crate::attrs::os(out.name().and_then(prefix_of_generated)),
            ),
            ("recovery_window_in_days", n(30)),
            ("force_overwrite_replica_secret", Value::Bool(false)),
            ("tags", tags),
        ]))
    }
}
