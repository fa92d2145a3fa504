//! The state object in S3 and the lock table in DynamoDB.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use dumcel_state::{LockInfo, State};

use crate::error::S3Error;
use crate::lock::RemoteLock;
use crate::settings::S3Settings;

/// One workspace's state in one bucket.
#[derive(Clone)]
pub struct S3Remote {
    pub settings: S3Settings,
    pub key: String,
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

fn aws<E: std::error::Error>(operation: &str, e: E) -> S3Error {
    S3Error::Aws {
        operation: operation.to_owned(),
        message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

impl S3Remote {
    /// Clients from the standard AWS chain (environment, profile, `AWS_ENDPOINT_URL`).
    /// Nothing is contacted yet.
    pub async fn connect(settings: S3Settings, workspace: &str) -> S3Remote {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let config = loader.load().await;
        // Path-style addressing works with every endpoint, custom ones included.
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        S3Remote {
            key: settings.key_for(workspace),
            settings,
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
        }
    }

    /// What the lock item is keyed by: `BUCKET/KEY`.
    pub fn lock_id(&self) -> String {
        format!("{}/{}", self.settings.bucket, self.key)
    }

    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.settings.bucket, self.key)
    }

    /// The recorded state; `None` when the object does not exist yet.
    pub async fn download(&self) -> Result<Option<State>, S3Error> {
        let got = self
            .s3
            .get_object()
            .bucket(&self.settings.bucket)
            .key(&self.key)
            .send()
            .await;
        let object = match got {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(aws(&format!("reading {}", self.describe()), e)),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| aws(&format!("reading {}", self.describe()), e))?
            .into_bytes();
        State::from_json(&bytes)
            .map(Some)
            .map_err(|source| S3Error::Corrupt {
                bucket: self.settings.bucket.clone(),
                key: self.key.clone(),
                source,
            })
    }

    pub async fn upload(&self, state: &State) -> Result<(), S3Error> {
        let mut put = self
            .s3
            .put_object()
            .bucket(&self.settings.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(state.to_json_pretty()));
        if self.settings.encrypt {
            put = put.server_side_encryption(ServerSideEncryption::Aes256);
        }
        put.send()
            .await
            .map_err(|e| aws(&format!("writing {}", self.describe()), e))?;
        Ok(())
    }

    /// Takes the lock, retrying until `timeout`. `None` without a lock table.
    pub async fn lock(
        &self,
        operation: &str,
        timeout: Duration,
    ) -> Result<Option<RemoteLock>, S3Error> {
        let Some(table) = self.settings.dynamodb_table.clone() else {
            return Ok(None);
        };
        let info = LockInfo::new(operation);
        let json = serde_json::to_string(&info).unwrap_or_default();
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            let put = self
                .dynamodb
                .put_item()
                .table_name(&table)
                .item("LockID", AttributeValue::S(self.lock_id()))
                .item("ID", AttributeValue::S(info.id.clone()))
                .item("Info", AttributeValue::S(json.clone()))
                .condition_expression("attribute_not_exists(LockID)")
                .send()
                .await;
            match put {
                Ok(_) => {
                    return Ok(Some(RemoteLock::new(
                        self.dynamodb.clone(),
                        table,
                        self.lock_id(),
                        info,
                    )));
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    if started.elapsed() >= timeout {
                        return Err(match self.lock_info().await {
                            Ok(Some(holder)) => S3Error::Locked {
                                info: Box::new(holder),
                            },
                            Ok(None) => S3Error::LockedUnreadable(
                                "the lock was released meanwhile; try again".into(),
                            ),
                            Err(e) => S3Error::LockedUnreadable(e.to_string()),
                        });
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(e) => {
                    return Err(aws(
                        &format!("locking {} in DynamoDB table {table}", self.describe()),
                        e,
                    ));
                }
            }
        }
    }

    /// Who holds the lock, if anyone.
    pub async fn lock_info(&self) -> Result<Option<LockInfo>, S3Error> {
        let Some(table) = &self.settings.dynamodb_table else {
            return Ok(None);
        };
        let got = self
            .dynamodb
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(self.lock_id()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws(&format!("reading the lock in {table}"), e))?;
        Ok(got
            .item
            .and_then(|item| item.get("Info").and_then(|v| v.as_s().ok()).cloned())
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Removes a lock left by a process that cannot release it, if its ID matches.
    pub async fn force_unlock(&self, id: &str) -> Result<(), S3Error> {
        let table = self
            .settings
            .dynamodb_table
            .clone()
            .ok_or(S3Error::MissingSetting("dynamodb_table to hold locks"))?;
        let deleted = self
            .dynamodb
            .delete_item()
            .table_name(&table)
            .key("LockID", AttributeValue::S(self.lock_id()))
            .condition_expression("ID = :id")
            .expression_attribute_values(":id", AttributeValue::S(id.to_owned()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let actual = match self.lock_info().await? {
                    Some(info) => format!("{} (held by {})", info.id, info.who),
                    None => "not held".to_owned(),
                };
                Err(S3Error::LockIdMismatch {
                    given: id.to_owned(),
                    actual,
                    table,
                })
            }
            Err(e) => Err(aws(&format!("removing the lock in {table}"), e)),
        }
    }
}
