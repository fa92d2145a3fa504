//! `aws_cloudwatch_log_group`: a CloudWatch Logs log group. `id` is the
//! name, as Terraform has it, and so is the import id. The name (or the
//! `name_prefix` a name is generated from) and `log_group_class` replace it;
//! the retention, the KMS key and tags change in place. `arn` is the group's
//! ARN without the `:*` suffix `DescribeLogGroups` adds, as in Terraform v5.
//! With `skip_destroy`, destroy only forgets the group.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{LogGroup, LogGroupClass};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, Schema, Value};

use crate::attrs::{
    n, obj, opt_bool, opt_i32, opt_str, or_default, req_str, s, string_map, with_all,
};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::iam::{check_name, name_of};
use crate::{tags, wait};

/// The retention periods CloudWatch Logs accepts (0: never expire).
const RETENTION_DAYS: &[i32] = &[
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

const CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

pub struct CloudwatchLogGroup {
    shared: Arc<Shared>,
    schema: Schema,
}

impl CloudwatchLogGroup {
    pub fn new(shared: Arc<Shared>) -> CloudwatchLogGroup {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::optional_computed().force_new())
            .attr("name_prefix", Attribute::optional().force_new())
            .attr(
                "retention_in_days",
                Attribute::optional()
                    .describe("days to keep events; 0 (the default) keeps them forever"),
            )
            .attr("kms_key_id", Attribute::optional())
            .attr(
                "log_group_class",
                Attribute::optional_computed()
                    .force_new()
                    .describe("STANDARD (the default), INFREQUENT_ACCESS or DELIVERY"),
            )
            .attr(
                "skip_destroy",
                Attribute::optional().describe("destroy only removes the group from state"),
            )
            .attr("arn", Attribute::computed());
        CloudwatchLogGroup {
            shared,
            schema: tags::add(schema),
        }
    }

    /// The group named exactly `name`, if it exists.
    async fn describe(logs: &Client, name: &str) -> AwsResult<Option<LogGroup>> {
        let mut token = None;
        loop {
            let page = logs
                .describe_log_groups()
                .log_group_name_prefix(name)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match page.map_err(sdk("DescribeLogGroups")) {
                Ok(p) => p,
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(g) = page
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name))
            {
                return Ok(Some(g.clone()));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    /// The group's tags (`aws:` ones left out).
    async fn tags_of(logs: &Client, arn: &str) -> AwsResult<BTreeMap<String, String>> {
        let out = logs
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        Ok(out
            .tags()
            .map(|t| {
                t.iter()
                    .filter(|(k, _)| !k.starts_with("aws:"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The group as a value over `base`; `None` when it is gone.
    async fn observe(&self, base: &Value, name: &str) -> AwsResult<Option<Value>> {
        let logs = self.shared.logs().await;
        let Some(g) = Self::describe(&logs, name).await? else {
            return Ok(None);
        };
        let arn = arn_of(&g);
        let tags = match Self::tags_of(&logs, &arn).await {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let class = g
            .log_group_class()
            .map(|c| c.as_str().to_owned())
            // Left out by older APIs (and moto): the default.
            .unwrap_or_else(|| "STANDARD".to_owned());
        Ok(Some(with_all(
            base,
            [
                ("id", s(name)),
                ("name", s(name)),
                ("arn", s(arn)),
                ("retention_in_days", n(g.retention_in_days().unwrap_or(0))),
                ("kms_key_id", crate::attrs::os(g.kms_key_id())),
                ("log_group_class", s(class)),
                (
                    "skip_destroy",
                    Value::Bool(opt_bool(base, "skip_destroy").unwrap_or(false)),
                ),
                ("tags_all", string_map(tags)),
            ],
        )))
    }

    async fn set_retention(&self, logs: &Client, name: &str, days: i32) -> AwsResult<()> {
        if days == 0 {
            let out = logs
                .delete_retention_policy()
                .log_group_name(name)
                .send()
                .await
                .map_err(sdk("DeleteRetentionPolicy"));
            match out {
                Err(e) if !e.is_not_found() => Err(e),
                _ => Ok(()),
            }
        } else {
            logs.put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .map_err(sdk("PutRetentionPolicy"))?;
            Ok(())
        }
    }
}

/// The ARN without the `:*` that `DescribeLogGroups` appends.
fn arn_of(g: &LogGroup) -> String {
    match g.log_group_arn() {
        Some(a) if !a.is_empty() => a.to_owned(),
        _ => g
            .arn()
            .unwrap_or_default()
            .trim_end_matches(":*")
            .to_owned(),
    }
}

/// Terraform's `create.NamePrefixFromName`: the prefix a generated name was
/// made from (the name less its 25-character suffix: 17 digits of time, 8 hex
/// digits of a counter), so an imported group keeps its `name_prefix`.
pub(crate) fn prefix_of_generated(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(25)?;
    if !name.is_char_boundary(cut) {
        return None;
    }
    let (prefix, suffix) = name.split_at(cut);
    let (digits, hex) = suffix.split_at(17);
    (digits.bytes().all(|b| b.is_ascii_digit()) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(prefix)
}

#[async_trait]
impl ResourceType for CloudwatchLogGroup {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = check_name(config).into_iter().collect();
        match opt_i32(config, "retention_in_days") {
            Ok(Some(d)) if !RETENTION_DAYS.contains(&d) => out.push((
                "retention_in_days".into(),
                format!(
                    "must be one of {}; got {d}",
                    RETENTION_DAYS
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Err(e) => out.push(("retention_in_days".into(), e.to_string())),
            _ => {}
        }
        if let Some(c) = opt_str(config, "log_group_class")
            && !CLASSES.contains(&c)
        {
            out.push((
                "log_group_class".into(),
                format!("must be STANDARD, INFREQUENT_ACCESS or DELIVERY, got {c:?}"),
            ));
        }
        out
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        let proposed = or_default(proposed, "retention_in_days", n(0));
        let proposed = or_default(proposed, "skip_destroy", Value::Bool(false));
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let name = match opt_str(prior, "name") {
            Some(n) => n,
            None => req_str(prior, "id")?,
        };
        Ok(self.observe(prior, name).await?)
    }

    /// Log group names are unique in a region: a configured name finds the
    /// group a lost create made. A generated one cannot be told from others
    /// with the same prefix, unless there are none.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        if let Some(name) = opt_str(planned, "name") {
            return Ok(self.observe(planned, name).await?);
        }
        let prefix = opt_str(planned, "name_prefix").unwrap_or("terraform-");
        let logs = self.shared.logs().await;
        let page = logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .limit(1)
            .send()
            .await
            .map_err(sdk("DescribeLogGroups"))?;
        if page.log_groups().is_empty() {
            return Ok(None);
        }
        Err(ProviderError::new(format!(
            "log groups named {prefix}... exist and the generated name was not recorded: check which one the cut-off create made, then `dumcel import` it by name or `dumcel state rm` the address"
        )))
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = name_of(planned);
        let logs = self.shared.logs().await;
        let all = tags::merged(&self.shared.default_tags(), planned);
        logs.create_log_group()
            .log_group_name(&name)
            .set_kms_key_id(opt_str(planned, "kms_key_id").map(str::to_owned))
            .set_log_group_class(opt_str(planned, "log_group_class").map(LogGroupClass::from))
            .set_tags((!all.is_empty()).then(|| all.into_iter().collect::<HashMap<_, _>>()))
            .send()
            .await
            .map_err(sdk("CreateLogGroup"))?;
        let made = with_all(planned, [("id", s(&name)), ("name", s(&name))]);
        let partial = |e: AwsError| ProviderError {
            message: e.to_string(),
            partial: Some(made.clone()),
        };
        let days = opt_i32(planned, "retention_in_days").map_err(partial)?;
        if let Some(days) = days.filter(|d| *d != 0) {
            self.set_retention(&logs, &name, days)
                .await
                .map_err(partial)?;
        }
        let (base, key) = (&made, name.as_str());
        wait::until(
            &format!("log group {name} to be readable"),
            wait::limit(60),
            Duration::from_millis(500),
            move || async move { self.observe(base, key).await },
        )
        .await
        .map_err(partial)
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(prior, "name")?;
        let logs = self.shared.logs().await;
        let days = opt_i32(planned, "retention_in_days")?.unwrap_or(0);
        if opt_i32(prior, "retention_in_days")?.unwrap_or(0) != days {
            self.set_retention(&logs, name, days).await?;
        }
        let key = opt_str(planned, "kms_key_id");
        if key != opt_str(prior, "kms_key_id") {
            match key {
                Some(k) => logs
                    .associate_kms_key()
                    .log_group_name(name)
                    .kms_key_id(k)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(sdk("AssociateKmsKey"))?,
                None => logs
                    .disassociate_kms_key()
                    .log_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(sdk("DisassociateKmsKey"))?,
            }
        }
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !set.is_empty() || !removed.is_empty() {
            let arn = req_str(prior, "arn")?;
            if !set.is_empty() {
                logs.tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(set.into_iter().collect()))
                    .send()
                    .await
                    .map_err(sdk("TagResource"))?;
            }
            if !removed.is_empty() {
                logs.untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(sdk("UntagResource"))?;
            }
        }
        self.observe(planned, name).await?.ok_or_else(|| {
            ProviderError::new(format!("log group {name} vanished while it was updated"))
        })
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        if opt_bool(prior, "skip_destroy") == Some(true) {
            return Ok(());
        }
        let name = req_str(prior, "name")?;
        let out = self
            .shared
            .logs()
            .await
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .map_err(sdk("DeleteLogGroup"));
        crate::error::deleted(out)
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let logs = self.shared.logs().await;
        let Some(g) = Self::describe(&logs, id).await? else {
            return Err(ProviderError::new(format!(
                "ResourceNotFoundException: no log group named {id:?} to import"
            )));
        };
        let tags = tags::imported(
            &self.shared.default_tags(),
            &Self::tags_of(&logs, &arn_of(&g)).await?,
        );
        Ok(obj([
            ("id", s(id)),
            ("name", s(id)),
            ("name_prefix", crate::attrs::os(prefix_of_generated(id))),
            ("skip_destroy", Value::Bool(false)),
            ("tags", tags),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_give_their_prefix_back() {
        let name = crate::iam::unique_id("app-");
        assert_eq!(prefix_of_generated(&name), Some("app-"));
        assert_eq!(prefix_of_generated("/aws/ecs/app"), None);
        assert_eq!(prefix_of_generated("short"), None);
    }

    #[test]
    fn the_arn_has_no_wildcard_suffix() {
        let g = LogGroup::builder()
            .arn("arn:aws:logs:us-east-1:123456789012:log-group:app:*")
            .build();
        assert_eq!(
            arn_of(&g),
            "arn:aws:logs:us-east-1:123456789012:log-group:app"
        );
    }
}
