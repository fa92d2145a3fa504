//! The state object in S3 and the lock table in DynamoDB.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use dumcel_state::{LockInfo, State};

use md5::{Digest, Md5};

use crate::error::S3Error;
use crate::lock::{RemoteLock, expires_from_now, now};
use crate::settings::S3Settings;

/// One workspace's state in one bucket.
#[derive(Clone)]
pub struct S3Remote {
    pub settings: S3Settings,
    pub key: String,
    pub(crate) s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

pub(crate) fn aws<E: std::error::Error>(operation: &str, e: E) -> S3Error {
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

    /// The item holding the state object's digest, as Terraform keys it.
    fn digest_id(&self) -> String {
        format!("{}-md5", self.lock_id())
    }

    /// The digest recorded at the last write, if a lock table is configured
    /// and holds one.
    async fn recorded_digest(&self) -> Result<Option<String>, S3Error> {
        let item = self
            .table_item(&self.digest_id(), "the state digest")
            .await?;
        Ok(item
            .and_then(|item| item.get("Digest").and_then(|v| v.as_s().ok()).cloned())
            .filter(|d| !d.is_empty()))
    }

    /// The lock table's item `id` (consistent read); `None` without a table
    /// or without the item. `what` names it in errors.
    async fn table_item(
        &self,
        id: &str,
        what: &str,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, S3Error> {
        let Some(table) = &self.settings.dynamodb_table else {
            return Ok(None);
        };
        let got = self
            .dynamodb
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws(&format!("reading {what} in {table}"), e))?;
        Ok(got.item)
    }

    async fn record_digest(&self, digest: &str) -> Result<(), S3Error> {
        let Some(table) = &self.settings.dynamodb_table else {
            return Ok(());
        };
        self.dynamodb
            .put_item()
            .table_name(table)
            .item("LockID", AttributeValue::S(self.digest_id()))
            .item("Digest", AttributeValue::S(digest.to_owned()))
            .send()
            .await
            .map_err(|e| aws(&format!("recording the state digest in {table}"), e))?;
        Ok(())
    }

    fn check_digest(&self, expected: Option<String>, bytes: &[u8]) -> Result<(), S3Error> {
        let (Some(expected), Some(table)) = (expected, &self.settings.dynamodb_table) else {
            return Ok(());
        };
        let actual = hex::encode(Md5::digest(bytes));
        if actual == expected {
            return Ok(());
        }
        Err(S3Error::DigestMismatch {
            object: self.describe(),
            table: table.clone(),
            item: self.digest_id(),
            expected,
            actual,
        })
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
        let expected = self.recorded_digest().await?;
        let object = match got {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                // A digest for an object that is gone: it was deleted
                // behind dumcel's back, and starting afresh would orphan
                // everything it recorded.
                self.check_digest(expected, b"")?;
                return Ok(None);
            }
            Err(e) => return Err(aws(&format!("reading {}", self.describe()), e)),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| aws(&format!("reading {}", self.describe()), e))?
            .into_bytes();
        self.check_digest(expected, &bytes)?;
        State::from_json(&bytes)
            .map(Some)
            .map_err(|source| S3Error::Corrupt {
                bucket: self.settings.bucket.clone(),
                key: self.key.clone(),
                source: Box::new(source),
            })
    }

    /// Writes the state object, then its digest. With a lock, checks first
    /// that it is still ours (renewing its lease): a holder whose lock was
    /// taken over never overwrites its successor's state.
    pub async fn upload(&self, state: &State, lock: Option<&RemoteLock>) -> Result<(), S3Error> {
        if let Some(lock) = lock {
            lock.check().await?;
        }
        let bytes = state.to_json_pretty();
        let digest = hex::encode(Md5::digest(&bytes));
        let mut put = self
            .s3
            .put_object()
            .bucket(&self.settings.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        if self.settings.encrypt {
            put = put.server_side_encryption(ServerSideEncryption::Aes256);
        }
        put.send()
            .await
            .map_err(|e| aws(&format!("writing {}", self.describe()), e))?;
        self.record_digest(&digest).await
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
        // The holder's ID when the lock may be taken over from it.
        let mut take_over: Option<String> = None;
        loop {
            let mut put = self
                .dynamodb
                .put_item()
                .table_name(&table)
                .item("LockID", AttributeValue::S(self.lock_id()))
                .item("ID", AttributeValue::S(info.id.clone()))
                .item("Info", AttributeValue::S(json.clone()))
                .item("Expires", expires_from_now());
            put = match &take_over {
                // Only the very item judged stale: never one written since.
                Some(old) => put
                    .condition_expression("ID = :old")
                    .expression_attribute_values(":old", AttributeValue::S(old.clone())),
                None => put.condition_expression("attribute_not_exists(LockID)"),
            };
            match put.send().await {
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
                    take_over = None;
                    let holder = self.holder().await;
                    if let Ok(Some(h)) = &holder
                        && let Some(why) = h.stale()
                    {
                        eprintln!(
                            "Taking over the state lock {} held by {} (pid {}) for {:?} since {}: {why}.",
                            h.info.id, h.info.who, h.info.pid, h.info.operation, h.info.created
                        );
                        take_over = Some(h.info.id.clone());
                        continue;
                    }
                    if started.elapsed() >= timeout {
                        return Err(match holder {
                            Ok(Some(h)) => S3Error::Locked {
                                info: Box::new(h.info),
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

    /// The lock item as it is now: holder and lease.
    async fn holder(&self) -> Result<Option<Holder>, S3Error> {
        let Some(item) = self.table_item(&self.lock_id(), "the lock").await? else {
            return Ok(None);
        };
        let info = item
            .get("Info")
            .and_then(|v| v.as_s().ok())
            .and_then(|json| serde_json::from_str::<LockInfo>(json).ok());
        let expires = item
            .get("Expires")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok());
        Ok(info.map(|info| Holder { info, expires }))
    }

    /// Who holds the lock, if anyone.
    pub async fn lock_info(&self) -> Result<Option<LockInfo>, S3Error> {
        Ok(self.holder().await?.map(|h| h.info))
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

/// A lock item read back.
struct Holder {
    info: LockInfo,
    /// The lease's end (Unix seconds); `None` in items without a lease
    /// (written by older versions), which never expire by themselves.
    expires: Option<u64>,
}

impl Holder {
    /// Why this holder's lock may be taken over, if it may.
    fn stale(&self) -> Option<String> {
        if self.info.holder_is_dead_here() {
            return Some(format!(
                "that process no longer runs on this host ({})",
                self.info.host
            ));
        }
        let expires = self.expires?;
        (expires < now()).then(|| {
            format!(
                "its lease expired {}s ago and its holder on {} stopped renewing it",
                now() - expires,
                if self.info.host.is_empty() {
                    "another host"
                } else {
                    &self.info.host
                }
            )
        })
    }
}
