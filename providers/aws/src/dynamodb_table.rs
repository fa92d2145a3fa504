//! `aws_dynamodb_table`: a table with its keys and attribute definitions
//! (those replace it), billing mode and capacity (in place), and TTL (in
//! place). Create and delete wait for the table to be ACTIVE / gone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableDescription, TableStatus, Tag, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use dumcel_engine::provider::{ProviderError, ProviderResult, ResourceType};
use dumcel_planner::{Attribute, NestedBlock, Schema, Value};

use crate::attrs::{
    block, blocks, n, narrow_blocks, obj, opt_bool, opt_i64, opt_str, req_str, s, string_map,
    with_all,
};
use crate::config::Shared;
use crate::error::{AwsError, AwsResult, sdk};
use crate::{tags, wait};

pub struct DynamodbTable {
    shared: Arc<Shared>,
    schema: Schema,
}

impl DynamodbTable {
    pub fn new(shared: Arc<Shared>) -> DynamodbTable {
        let schema = Schema::new()
            .attr("id", Attribute::computed())
            .attr("name", Attribute::required().force_new())
            .attr("hash_key", Attribute::required().force_new())
            .attr("range_key", Attribute::optional().force_new())
            .attr("billing_mode", Attribute::optional_computed())
            .attr("read_capacity", Attribute::optional_computed())
            .attr("write_capacity", Attribute::optional_computed())
            .attr("arn", Attribute::computed())
            .block(
                "attribute",
                NestedBlock {
                    schema: Schema::new()
                        .attr("name", Attribute::required())
                        .attr("type", Attribute::required()),
                    min_items: 1,
                    max_items: None,
                    force_new: true,
                },
            )
            .block(
                "ttl",
                NestedBlock {
                    schema: Schema::new()
                        .attr("attribute_name", Attribute::required())
                        .attr("enabled", Attribute::optional()),
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            );
        DynamodbTable {
            shared,
            schema: tags::add(schema),
        }
    }

    async fn describe(&self, name: &str) -> AwsResult<Option<TableDescription>> {
        match self
            .shared
            .dynamodb()
            .await
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(sdk("DescribeTable"))
        {
            Ok(o) => Ok(o
                .table()
                .filter(|t| t.table_status() != Some(&TableStatus::Deleting))
                .cloned()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn observe(&self, base: &Value, name: &str) -> AwsResult<Option<Value>> {
        let Some(t) = self.describe(name).await? else {
            return Ok(None);
        };
        let mode = t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str().to_owned())
            .unwrap_or_else(|| "PROVISIONED".into());
        let key = |kt: KeyType| {
            t.key_schema()
                .iter()
                .find(|k| *k.key_type() == kt)
                .map(|k| s(k.attribute_name()))
                .unwrap_or(Value::Null)
        };
        // Attribute definitions in the recorded order where names match.
        let prior_attrs = blocks(base, "attribute");
        let mut defs: Vec<Value> = t
            .attribute_definitions()
            .iter()
            .map(|a| {
                obj([
                    ("name", s(a.attribute_name())),
                    ("type", s(a.attribute_type().as_str())),
                ])
            })
            .collect();
        let pos = |v: &Value| {
            let name = v.get("name").and_then(Value::as_str);
            prior_attrs
                .iter()
                .position(|p| p.get("name").and_then(Value::as_str) == name)
                .unwrap_or(usize::MAX)
        };
        defs.sort_by_key(pos);
        let ttl = self
            .shared
            .dynamodb()
            .await
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(sdk("DescribeTimeToLive"))?;
        let ttl = ttl.time_to_live_description();
        let enabled = ttl.and_then(|d| d.time_to_live_status()) == Some(&TimeToLiveStatus::Enabled);
        let prior_ttl = blocks(base, "ttl");
        let actual_ttl: Vec<Value> = if enabled || !prior_ttl.is_empty() {
            vec![obj([
                (
                    "attribute_name",
                    ttl.and_then(|d| d.attribute_name())
                        .map(s)
                        .or_else(|| {
                            prior_ttl
                                .first()
                                .and_then(|p| p.get("attribute_name"))
                                .cloned()
                        })
                        .unwrap_or(Value::Null),
                ),
                ("enabled", Value::Bool(enabled)),
            ])]
        } else {
            Vec::new()
        };
        let (rc, wc) = t
            .provisioned_throughput()
            .map(|p| {
                (
                    p.read_capacity_units().unwrap_or(0),
                    p.write_capacity_units().unwrap_or(0),
                )
            })
            .unwrap_or((0, 0));
        let all = self.read_tags(t.table_arn().unwrap_or_default()).await?;
        Ok(Some(with_all(
            base,
            [
                ("id", s(name)),
                ("name", s(name)),
                ("arn", s(t.table_arn().unwrap_or_default())),
                ("billing_mode", s(mode)),
                ("hash_key", key(KeyType::Hash)),
                ("range_key", key(KeyType::Range)),
                ("read_capacity", n(rc as f64)),
                ("write_capacity", n(wc as f64)),
                ("attribute", narrow_blocks(prior_attrs, defs)),
                ("ttl", narrow_blocks(prior_ttl, actual_ttl)),
                ("tags_all", string_map(all)),
            ],
        )))
    }

    /// The tags AWS holds for the table, every page of them.
    async fn read_tags(&self, arn: &str) -> AwsResult<BTreeMap<String, String>> {
        let ddb = self.shared.dynamodb().await;
        let mut all = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = ddb
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(sdk("ListTagsOfResource"))?;
            all.extend(tags::from_pairs(
                page.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
            ));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(all),
            }
        }
    }

    async fn wait_active(&self, name: &str) -> AwsResult<()> {
        wait::until(
            &format!("table {name} to be ACTIVE"),
            wait::limit(600),
            Duration::from_secs(2),
            || async move {
                Ok(self
                    .describe(name)
                    .await?
                    .filter(|t| t.table_status() == Some(&TableStatus::Active))
                    .map(|_| ()))
            },
        )
        .await
    }

    fn throughput(planned: &Value) -> AwsResult<Option<ProvisionedThroughput>> {
        if opt_str(planned, "billing_mode") == Some("PAY_PER_REQUEST") {
            return Ok(None);
        }
        Ok(Some(
            ProvisionedThroughput::builder()
                .read_capacity_units(opt_i64(planned, "read_capacity")?.unwrap_or(1))
                .write_capacity_units(opt_i64(planned, "write_capacity")?.unwrap_or(1))
                .build()
                .map_err(|e| AwsError::invalid(e.to_string()))?,
        ))
    }

    async fn set_ttl(&self, name: &str, prior: Option<&Value>, planned: &Value) -> AwsResult<()> {
        let want = block(planned, "ttl");
        let had = prior.and_then(|p| block(p, "ttl"));
        let spec = match (want, had) {
            (Some(w), _) => Some((
                req_str(w, "attribute_name").map_err(|e| AwsError::invalid(e.to_string()))?,
                opt_bool(w, "enabled").unwrap_or(true),
            )),
            (None, Some(h)) if opt_bool(h, "enabled") == Some(true) => Some((
                req_str(h, "attribute_name").map_err(|e| AwsError::invalid(e.to_string()))?,
                false,
            )),
            _ => None,
        };
        let Some((attr, enabled)) = spec else {
            return Ok(());
        };
        if prior.is_none() && !enabled {
            return Ok(());
        }
        self.shared
            .dynamodb()
            .await
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attr)
                    .enabled(enabled)
                    .build()
                    .map_err(|e| AwsError::invalid(e.to_string()))?,
            )
            .send()
            .await
            .map_err(sdk("UpdateTimeToLive"))?;
        Ok(())
    }
}

#[async_trait]
impl ResourceType for DynamodbTable {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        if let Some(m) = opt_str(config, "billing_mode")
            && m != "PROVISIONED"
            && m != "PAY_PER_REQUEST"
        {
            errs.push((
                "billing_mode".into(),
                format!("must be PROVISIONED or PAY_PER_REQUEST, got {m:?}"),
            ));
        }
        for a in blocks(config, "attribute") {
            if let Some(t) = opt_str(a, "type")
                && !matches!(t, "S" | "N" | "B")
            {
                errs.push((
                    "attribute".into(),
                    format!("type must be S, N or B, got {t:?}"),
                ));
            }
        }
        errs
    }

    fn plan(&self, _prior: Option<&Value>, proposed: Value) -> Result<Value, String> {
        Ok(tags::plan(&self.shared.default_tags(), proposed))
    }

    async fn read(&self, prior: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(prior, "name")?;
        Ok(self.observe(prior, name).await?)
    }

    /// Table names are unique in a region and account. A table still
    /// CREATING is waited for, as create waits, so what is recorded is what
    /// create would have returned; TTL a cut-off create never set shows as a
    /// change on the next plan.
    async fn find(&self, planned: &Value) -> ProviderResult<Option<Value>> {
        let name = req_str(planned, "name")?;
        if self.describe(name).await?.is_none() {
            return Ok(None);
        }
        self.wait_active(name).await?;
        Ok(self.observe(planned, name).await?)
    }

    async fn create(&self, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let mut req = self
            .shared
            .dynamodb()
            .await
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::from(
                opt_str(planned, "billing_mode").unwrap_or("PROVISIONED"),
            ))
            .set_provisioned_throughput(Self::throughput(planned)?)
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(req_str(planned, "hash_key")?)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| AwsError::invalid(e.to_string()))?,
            );
        if let Some(range) = opt_str(planned, "range_key") {
            req = req.key_schema(
                KeySchemaElement::builder()
                    .attribute_name(range)
                    .key_type(KeyType::Range)
                    .build()
                    .map_err(|e| AwsError::invalid(e.to_string()))?,
            );
        }
        for a in blocks(planned, "attribute") {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(req_str(a, "name")?)
                    .attribute_type(ScalarAttributeType::from(req_str(a, "type")?))
                    .build()
                    .map_err(|e| AwsError::invalid(e.to_string()))?,
            );
        }
        for (k, v) in tags::merged(&self.shared.default_tags(), planned) {
            req = req.tags(
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| AwsError::invalid(e.to_string()))?,
            );
        }
        req.send().await.map_err(sdk("CreateTable"))?;
        let made = with_all(planned, [("id", s(name))]);
        let finish = async {
            self.wait_active(name).await?;
            self.set_ttl(name, None, planned).await?;
            self.observe(planned, name).await
        };
        match finish.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ProviderError::new(format!(
                "table {name} vanished after it was created"
            ))),
            Err(e) => Err(ProviderError {
                message: e.to_string(),
                partial: Some(made),
            }),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value) -> ProviderResult<Value> {
        let name = req_str(planned, "name")?;
        let ddb = self.shared.dynamodb().await;
        let mode_changed = prior.get("billing_mode") != planned.get("billing_mode");
        let cap_changed = prior.get("read_capacity") != planned.get("read_capacity")
            || prior.get("write_capacity") != planned.get("write_capacity");
        if mode_changed || cap_changed {
            let mode = opt_str(planned, "billing_mode").unwrap_or("PROVISIONED");
            ddb.update_table()
                .table_name(name)
                .billing_mode(BillingMode::from(mode))
                .set_provisioned_throughput(Self::throughput(planned)?)
                .send()
                .await
                .map_err(sdk("UpdateTable"))?;
            self.wait_active(name).await?;
        }
        self.set_ttl(name, Some(prior), planned).await?;
        let arn = req_str(prior, "arn")?;
        let (set, removed) = tags::delta(&tags::recorded(prior), &tags::recorded(planned));
        if !set.is_empty() {
            let mut req = ddb.tag_resource().resource_arn(arn);
            for (k, v) in set {
                req = req.tags(
                    Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                        .map_err(|e| AwsError::invalid(e.to_string()))?,
                );
            }
            req.send().await.map_err(sdk("TagResource"))?;
        }
        if !removed.is_empty() {
            ddb.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        Ok(self.observe(planned, name).await?.ok_or_else(|| {
            ProviderError::new(format!("table {name} vanished while it was updated"))
        })?)
    }

    async fn delete(&self, prior: &Value) -> ProviderResult<()> {
        let name = req_str(prior, "name")?;
        match self
            .shared
            .dynamodb()
            .await
            .delete_table()
            .table_name(name)
            .send()
            .await
            .map_err(sdk("DeleteTable"))
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        wait::until(
            &format!("table {name} to be deleted"),
            wait::limit(600),
            Duration::from_secs(2),
            || async move { Ok(self.describe(name).await?.is_none().then_some(())) },
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str) -> ProviderResult<Value> {
        let base = obj([("tags", Value::Null)]);
        let v = self.observe(&base, id).await?.ok_or_else(|| {
            ProviderError::new(format!(
                "ResourceNotFoundException: no table {id:?} to import"
            ))
        })?;
        let all = tags::recorded(&v);
        Ok(with_all(
            &v,
            [("tags", tags::imported(&self.shared.default_tags(), &all))],
        ))
    }
}
