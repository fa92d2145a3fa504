//! Deployment records (see [`crate::records`]) in DynamoDB, for the ECS
//! target: one item per (project, environment, SHA).
//!
//! Table layout (created by the worker when missing, on-demand billing):
//! partition key `environment_key` = `<project>/<environment>`, sort key
//! `sha`; attributes `project`, `environment`, `image`, `digest`,
//! `started_at`, `finished_at` (RFC 3339), `outcome` and `reason`.

use std::collections::HashMap;

use async_trait::async_trait;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};

use crate::records::{Outcome, Record, RecordError, Records, newest_good};

pub struct Deployments {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

fn key(project: &str, environment: &str) -> String {
    format!("{project}/{environment}")
}

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
}

#[async_trait]
impl Records for Deployments {
    /// Creates the table if it does not exist.
    async fn ensure(&self) -> Result<(), RecordError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(self.error("DescribeTable", e)),
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let invalid = |e: aws_sdk_dynamodb::error::BuildError| RecordError {
            operation: "CreateTable",
            store: self.store(),
            message: e.to_string(),
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
                [attr("environment_key"), attr("sha")]
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(invalid)?,
            ))
            .set_key_schema(Some(
                [
                    key("environment_key", KeyType::Hash),
                    key("sha", KeyType::Range),
                ]
                .into_iter()
                .collect::<Result<_, _>>()
                .map_err(invalid)?,
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
            .wait(std::time::Duration::from_secs(120))
            .await
            .map_err(|e| RecordError {
                operation: "DescribeTable (waiting for the new table)",
                store: self.store(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        Ok(())
    }

    /// The record of `sha` in (`project`, `environment`), if any.
    async fn get(
        &self,
        project: &str,
        environment: &str,
        sha: &str,
    ) -> Result<Option<Record>, RecordError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                "environment_key",
                AttributeValue::S(key(project, environment)),
            )
            .key("sha", AttributeValue::S(sha.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", e))?;
        Ok(out.item().and_then(from_item))
    }

    /// Writes `record` whole (a new pipeline run for its SHA, or its end).
    async fn put(&self, record: &Record) -> Result<(), RecordError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .send()
            .await
            .map_err(|e| self.error("PutItem", e))?;
        Ok(())
    }

    /// The newest succeeded deployment of (`project`, `environment`) other
    /// than `except_sha`: what a rollback returns to.
    async fn last_good(
        &self,
        project: &str,
        environment: &str,
        except_sha: &str,
    ) -> Result<Option<Record>, RecordError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("environment_key = :k")
            .expression_attribute_values(":k", AttributeValue::S(key(project, environment)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut all = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.error("Query", e))?;
            all.extend(from_item(&item));
        }
        Ok(newest_good(all, except_sha))
    }
}

fn to_item(r: &Record) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    HashMap::from([
        (
            "environment_key".to_owned(),
            s(&key(&r.project, &r.environment)),
        ),
        ("sha".to_owned(), s(&r.sha)),
        ("project".to_owned(), s(&r.project)),
        ("environment".to_owned(), s(&r.environment)),
        ("image".to_owned(), s(&r.image)),
        ("digest".to_owned(), s(&r.digest)),
        ("started_at".to_owned(), s(&r.started_at)),
        ("finished_at".to_owned(), s(&r.finished_at)),
        ("outcome".to_owned(), s(r.outcome.as_str())),
        ("reason".to_owned(), s(&r.reason)),
    ])
}

/// An item read back; `None` when it is not one of ours (a missing or
/// mistyped attribute), never a panic.
fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Record> {
    let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some(Record {
        project: s("project")?,
        environment: s("environment")?,
        sha: s("sha")?,
        image: s("image").unwrap_or_default(),
        digest: s("digest").unwrap_or_default(),
        started_at: s("started_at").unwrap_or_default(),
        finished_at: s("finished_at").unwrap_or_default(),
        outcome: Outcome::parse(&s("outcome")?)?,
        reason: s("reason").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_round_trip_and_foreign_items_are_skipped() {
        let r = Record {
            project: "shop".into(),
            environment: "production".into(),
            sha: "a".repeat(40),
            image: "127.0.0.1:5000/shop:aaa".into(),
            digest: "sha256:00".into(),
            started_at: "2026-11-23T10:00:00Z".into(),
            finished_at: "2026-11-23T10:01:00Z".into(),
            outcome: Outcome::Succeeded,
            reason: String::new(),
        };
        assert_eq!(from_item(&to_item(&r)), Some(r.clone()));
        let mut odd = to_item(&r);
        odd.insert("outcome".into(), AttributeValue::N("1".into()));
        assert_eq!(from_item(&odd), None);
        odd.remove("project");
        assert_eq!(from_item(&odd), None);
    }
}
