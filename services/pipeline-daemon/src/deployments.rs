//! The pipeline's records (see [`crate::records`]) in DynamoDB, for the ECS
//! target.
//!
//! Table layout (created by the worker when missing, on-demand billing):
//! partition key `environment_key` = `<project>/<environment>`, sort key
//! `entry`:
//! - `environment`: the environment's lease (`lease_owner`,
//!   `lease_expires_ms`, `lease_token`) and what it serves (`serving_*`);
//! - `push#<delivery>`: one push's record (`branch`, `sha`, `image`,
//!   `digest`, `started_at`, `finished_at`, `outcome`, `reason`, `attempts`,
//!   `message`, `pusher`, `built_at`).
//!
//! Approvals live under `environment_key` = `approval/<project>`, entry
//! `sha#<sha>`; rejections beside them, entry `rejected#<sha>`. A lease
//! is taken with a conditional UpdateItem that bumps the token; a record is written in one TransactWriteItems with a condition on
//! the environment item's token, so no fenced-out worker ever writes.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
    KeyType, Put, ReturnValue, ScalarAttributeType, TransactWriteItem, Update,
};

use crate::records::{
    Decision, EnvironmentStatus, Lease, Outcome, Record, RecordError, Records, Serving,
    ServingChange, Written, now_ms,
};

pub struct Deployments {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

const ENVIRONMENT: &str = "environment";

fn env_key(project: &str, environment: &str) -> String {
    format!("{project}/{environment}")
}

fn push_entry(delivery: &str) -> String {
    format!("push#{delivery}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

type Item = HashMap<String, AttributeValue>;

impl Deployments {
    fn store(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }

    fn error<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        operation: &'static str,
        e: aws_sdk_dynamodb::error::SdkError<E>,
    ) -> RecordError {
        let message = match (e.code(), e.message()) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            _ => DisplayErrorContext(&e).to_string(),
        };
        RecordError {
            operation,
            store: self.store(),
            message,
        }
    }

    fn invalid(
        &self,
        operation: &'static str,
        e: aws_sdk_dynamodb::error::BuildError,
    ) -> RecordError {
        RecordError {
            operation,
            store: self.store(),
            message: e.to_string(),
        }
    }

    fn env_item_key(&self, project: &str, environment: &str) -> Item {
        HashMap::from([
            ("environment_key".into(), s(env_key(project, environment))),
            ("entry".into(), s(ENVIRONMENT)),
        ])
    }

    /// Checks that an existing table has this version's keys.
    async fn check_keys(&self) -> Result<bool, RecordError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(out) => {
                let keys: Vec<&str> = out
                    .table()
                    .map(|t| t.key_schema())
                    .unwrap_or_default()
                    .iter()
                    .map(|k| k.attribute_name())
                    .collect();
                if keys != ["environment_key", "entry"] {
                    return Err(RecordError {
                        operation: "DescribeTable",
                        store: self.store(),
                        message: format!(
                            "the table's keys are {keys:?}, not [\"environment_key\", \"entry\"]: it was made by an earlier version; set `deployments_table` in the daemon configuration to a new table name"
                        ),
                    });
                }
                Ok(true)
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(self.error("DescribeTable", e)),
        }
    }
}

#[async_trait]
impl Records for Deployments {
    /// Creates the table if it does not exist.
    async fn ensure(&self) -> Result<(), RecordError> {
        if self.check_keys().await? {
            return Ok(());
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(
                [attr("environment_key"), attr("entry")]
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(|e| self.invalid("CreateTable", e))?,
            ))
            .set_key_schema(Some(
                [
                    key("environment_key", KeyType::Hash),
                    key("entry", KeyType::Range),
                ]
                .into_iter()
                .collect::<Result<_, _>>()
                .map_err(|e| self.invalid("CreateTable", e))?,
            ))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Another worker made it in the meantime.
            Err(e) if e.code() == Some("ResourceInUseException") => {}
            Err(e) => return Err(self.error("CreateTable", e)),
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(Duration::from_secs(120))
            .await
            .map_err(|e| RecordError {
                operation: "DescribeTable (waiting for the new table)",
                store: self.store(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        Ok(())
    }

    async fn get(
        &self,
        project: &str,
        environment: &str,
        delivery: &str,
    ) -> Result<Option<Record>, RecordError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("environment_key", s(env_key(project, environment)))
            .key("entry", s(push_entry(delivery)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", e))?;
        Ok(out.item().and_then(from_item))
    }

    async fn acquire(
        &self,
        project: &str,
        environment: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, RecordError> {
        let now = now_ms();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.env_item_key(project, environment)))
            .update_expression(
                "SET lease_owner = :o, lease_expires_ms = :e, #project = :p, #environment = :env, \
                 lease_token = if_not_exists(lease_token, :zero) + :one",
            )
            // Both are DynamoDB reserved words.
            .expression_attribute_names("#project", "project")
            .expression_attribute_names("#environment", "environment")
            .condition_expression(
                "attribute_not_exists(lease_owner) OR lease_expires_ms < :now OR lease_owner = :o",
            )
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":e", n(now + ttl.as_millis() as i64))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":p", s(project))
            .expression_attribute_values(":env", s(environment))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => {
                let token = out
                    .attributes()
                    .and_then(|a| a.get("lease_token"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| RecordError {
                        operation: "UpdateItem",
                        store: self.store(),
                        message: "the lease came back without a lease_token".into(),
                    })?;
                Ok(Some(Lease {
                    project: project.to_owned(),
                    environment: environment.to_owned(),
                    owner: owner.to_owned(),
                    token,
                }))
            }
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(None),
            Err(e) => Err(self.error("UpdateItem", e)),
        }
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, RecordError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.env_item_key(&lease.project, &lease.environment)))
            .update_expression("SET lease_expires_ms = :e")
            .condition_expression("lease_owner = :o AND lease_token = :t")
            .expression_attribute_values(":e", n(now_ms() + ttl.as_millis() as i64))
            .expression_attribute_values(":o", s(&lease.owner))
            .expression_attribute_values(":t", n(lease.token))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(self.error("UpdateItem", e)),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<(), RecordError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.env_item_key(&lease.project, &lease.environment)))
            .update_expression("REMOVE lease_owner SET lease_expires_ms = :zero")
            .condition_expression("lease_owner = :o AND lease_token = :t")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":o", s(&lease.owner))
            .expression_attribute_values(":t", n(lease.token))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(self.error("UpdateItem", e)),
        }
    }

    async fn write(
        &self,
        record: &Record,
        serving: &ServingChange,
        lease: &Lease,
    ) -> Result<Written, RecordError> {
        let invalid = |e| self.invalid("TransactWriteItems", e);
        let key = self.env_item_key(&record.project, &record.environment);
        let fence = "lease_owner = :o AND lease_token = :t";
        let mut values = HashMap::from([
            (":o".to_owned(), s(&lease.owner)),
            (":t".to_owned(), n(lease.token)),
        ]);
        // One transaction may name an item once: the fence is a plain
        // condition check, or the condition of the update that changes what
        // the environment serves.
        let update = match serving {
            ServingChange::Unchanged => None,
            ServingChange::Now(now) => {
                values.insert(":d".into(), s(&now.delivery));
                values.insert(":s".into(), s(&now.sha));
                values.insert(":i".into(), s(&now.image));
                Some("SET serving_delivery = :d, serving_sha = :s, serving_image = :i")
            }
            ServingChange::Nothing => Some("REMOVE serving_delivery, serving_sha, serving_image"),
        };
        let fence_item = match update {
            None => TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key))
                        .condition_expression(fence)
                        .set_expression_attribute_values(Some(values))
                        .build()
                        .map_err(invalid)?,
                )
                .build(),
            Some(expression) => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key))
                        .update_expression(expression)
                        .condition_expression(fence)
                        .set_expression_attribute_values(Some(values))
                        .build()
                        .map_err(invalid)?,
                )
                .build(),
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(#entry) OR outcome = :running")
            .expression_attribute_names("#entry", "entry")
            .expression_attribute_values(":running", s(Outcome::InProgress.as_str()))
            .build()
            .map_err(invalid)?;
        let sent = self
            .client
            .transact_write_items()
            .transact_items(fence_item)
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Written::Written),
            Err(e) => {
                let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
                    e.as_service_error()
                else {
                    return Err(self.error("TransactWriteItems", e));
                };
                let failed = |i: usize| {
                    cancel
                        .cancellation_reasons()
                        .get(i)
                        .and_then(|r| r.code())
                        .is_some_and(|c| c == "ConditionalCheckFailed")
                };
                if failed(0) {
                    return Ok(Written::Fenced);
                }
                if failed(1) {
                    let existing = self
                        .get(&record.project, &record.environment, &record.delivery)
                        .await?;
                    return Ok(Written::AlreadyFinal(
                        existing.map_or(Outcome::Skipped, |r| r.outcome),
                    ));
                }
                Err(self.error("TransactWriteItems", e))
            }
        }
    }

    async fn history(&self, project: &str, environment: &str) -> Result<Vec<Record>, RecordError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("environment_key = :k AND begins_with(#entry, :push)")
            .expression_attribute_names("#entry", "entry")
            .expression_attribute_values(":k", s(env_key(project, environment)))
            .expression_attribute_values(":push", s("push#"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut all = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.error("Query", e))?;
            all.extend(from_item(&item));
        }
        Ok(all)
    }

    async fn environments(&self) -> Result<Vec<EnvironmentStatus>, RecordError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#entry = :e")
            .expression_attribute_names("#entry", "entry")
            .expression_attribute_values(":e", s(ENVIRONMENT))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut all = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.error("Scan", e))?;
            all.extend(environment_from_item(&item));
        }
        all.sort_by(|a, b| (&a.project, &a.environment).cmp(&(&b.project, &b.environment)));
        Ok(all)
    }

    async fn decide(
        &self,
        project: &str,
        sha: &str,
        decision: &Decision,
    ) -> Result<(), RecordError> {
        // Approvals keep the entries earlier versions made
        // (`sha#`, `approved_by`); rejections have entries of their own. The
        // other kind's entry goes in the same transaction: one decision
        // stands, whatever the clocks say.
        let ((entry, by, at), other) = if decision.approved {
            (("sha", "approved_by", "approved_at"), "rejected")
        } else {
            (("rejected", "rejected_by", "rejected_at"), "sha")
        };
        let invalid = |e| self.invalid("TransactWriteItems", e);
        let key = s(format!("approval/{project}"));
        let put = Put::builder()
            .table_name(&self.table)
            .item("environment_key", key.clone())
            .item("entry", s(format!("{entry}#{sha}")))
            .item(by, s(&decision.by))
            .item(at, s(&decision.at))
            .build()
            .map_err(invalid)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("environment_key", key)
            .key("entry", s(format!("{other}#{sha}")))
            .build()
            .map_err(invalid)?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .send()
            .await
            .map_err(|e| self.error("TransactWriteItems", e))?;
        Ok(())
    }

    async fn decision(&self, project: &str, sha: &str) -> Result<Option<Decision>, RecordError> {
        let mut decisions = Vec::new();
        for (approved, entry, by, at) in [
            (true, "sha", "approved_by", "approved_at"),
            (false, "rejected", "rejected_by", "rejected_at"),
        ] {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("environment_key", s(format!("approval/{project}")))
                .key("entry", s(format!("{entry}#{sha}")))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.error("GetItem", e))?;
            if let Some(item) = out.item() {
                decisions.push(Decision {
                    approved,
                    by: text(item, by).unwrap_or_default(),
                    at: text(item, at).unwrap_or_default(),
                });
            }
        }
        Ok(decisions.pop())
    }
}

fn to_item(r: &Record) -> Item {
    HashMap::from([
        (
            "environment_key".to_owned(),
            s(env_key(&r.project, &r.environment)),
        ),
        ("entry".to_owned(), s(push_entry(&r.delivery))),
        ("project".to_owned(), s(&r.project)),
        ("environment".to_owned(), s(&r.environment)),
        ("delivery".to_owned(), s(&r.delivery)),
        ("branch".to_owned(), s(&r.branch)),
        ("sha".to_owned(), s(&r.sha)),
        ("image".to_owned(), s(&r.image)),
        ("digest".to_owned(), s(&r.digest)),
        ("started_at".to_owned(), s(&r.started_at)),
        ("finished_at".to_owned(), s(&r.finished_at)),
        ("outcome".to_owned(), s(r.outcome.as_str())),
        ("reason".to_owned(), s(&r.reason)),
        ("attempts".to_owned(), n(r.attempts)),
        ("message".to_owned(), s(&r.message)),
        ("pusher".to_owned(), s(&r.pusher)),
        ("built_at".to_owned(), s(&r.built_at)),
    ])
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// An item read back; `None` when it is not one of ours (a missing or
/// mistyped attribute), never a panic.
fn from_item(item: &Item) -> Option<Record> {
    let t = |name: &str| text(item, name);
    Some(Record {
        project: t("project")?,
        environment: t("environment")?,
        delivery: t("delivery")?,
        branch: t("branch").unwrap_or_default(),
        sha: t("sha")?,
        image: t("image").unwrap_or_default(),
        digest: t("digest").unwrap_or_default(),
        started_at: t("started_at").unwrap_or_default(),
        finished_at: t("finished_at").unwrap_or_default(),
        outcome: Outcome::parse(&t("outcome")?)?,
        reason: t("reason").unwrap_or_default(),
        attempts: number(item, "attempts").unwrap_or(0),
        message: t("message").unwrap_or_default(),
        pusher: t("pusher").unwrap_or_default(),
        built_at: t("built_at").unwrap_or_default(),
    })
}

fn environment_from_item(item: &Item) -> Option<EnvironmentStatus> {
    let t = |name: &str| text(item, name);
    let serving = match (t("serving_delivery"), t("serving_sha"), t("serving_image")) {
        (Some(delivery), Some(sha), Some(image)) => Some(Serving {
            delivery,
            sha,
            image,
        }),
        _ => None,
    };
    Some(EnvironmentStatus {
        project: t("project")?,
        environment: t("environment")?,
        lease_owner: t("lease_owner"),
        lease_expires_ms: number(item, "lease_expires_ms").unwrap_or(0),
        token: number(item, "lease_token").unwrap_or(0),
        serving,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_round_trip_and_foreign_items_are_skipped() {
        let r = Record {
            image: "127.0.0.1:5000/shop:aaa".into(),
            digest: "sha256:00".into(),
            finished_at: "2026-11-23T10:01:00Z".into(),
            outcome: Outcome::Succeeded,
            attempts: 2,
            built_at: "2026-11-23T10:00:40Z".into(),
            ..Record::start("shop", "production", "d-1", "main", &"a".repeat(40))
        };
        assert_eq!(from_item(&to_item(&r)), Some(r.clone()));
        let mut odd = to_item(&r);
        odd.insert("outcome".into(), n(1));
        assert_eq!(from_item(&odd), None);
        odd.remove("project");
        assert_eq!(from_item(&odd), None);
    }

    /// The same contract as the SQLite store, against DynamoDB's API (moto
    /// on loopback, started by dev/test.sh): conditional writes and
    /// transactions are what make the fences hold.
    #[tokio::test]
    async fn the_dynamodb_store_keeps_the_records_contract() {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            endpoint.starts_with("http://127."),
            "AWS_ENDPOINT_URL must point at moto on loopback (dev/test.sh sets it): {endpoint:?}"
        );
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let store = Deployments {
            client: aws_sdk_dynamodb::Client::new(&aws),
            table: format!("records-contract-{nanos}"),
        };
        crate::records::contract::leases_fence_and_records_only_move_forward(&store).await;
    }
}
