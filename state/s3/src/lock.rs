//! A held DynamoDB lock, with a lease its holder renews while it runs.
//!
//! The item names the holder (host, boot, pid and process start time) and
//! carries `Expires`, a Unix time a renewal task pushes forward every third of
//! the lease. Another command may take the lock over only when its holder
//! provably stopped: a process of this host that no longer runs, or a lease
//! that expired (its holder, on another host, stopped renewing it). A live
//! holder's lock is never taken. It is released when dropped, so every way
//! out of a command (errors included) lets go of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;

use dumcel_state::LockInfo;

use crate::error::S3Error;

/// How long a lock stays valid without renewal.
pub const LEASE: Duration = Duration::from_secs(30);

pub struct RemoteLock {
    client: aws_sdk_dynamodb::Client,
    table: String,
    lock_id: String,
    info: LockInfo,
    released: bool,
    /// Set by the renewal task when the item is no longer ours.
    lost: Arc<AtomicBool>,
    renewal: tokio::task::JoinHandle<()>,
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The lease's end, as written in the item, for a lock renewed now.
pub(crate) fn expires_from_now() -> AttributeValue {
    AttributeValue::N((now() + LEASE.as_secs()).to_string())
}

impl RemoteLock {
    pub(crate) fn new(
        client: aws_sdk_dynamodb::Client,
        table: String,
        lock_id: String,
        info: LockInfo,
    ) -> RemoteLock {
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = tokio::spawn(renew_forever(
            client.clone(),
            table.clone(),
            lock_id.clone(),
            info.id.clone(),
            lost.clone(),
        ));
        RemoteLock {
            client,
            table,
            lock_id,
            info,
            released: false,
            lost,
            renewal,
        }
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Renews the lease now and fails if the lock is no longer ours: called
    /// right before the state is written, so a holder whose lease expired
    /// (and was taken over) never overwrites its successor's state.
    pub async fn check(&self) -> Result<(), S3Error> {
        if self.lost.load(Ordering::Acquire) {
            return Err(self.lost_error());
        }
        match renew(&self.client, &self.table, &self.lock_id, &self.info.id).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.lost.store(true, Ordering::Release);
                Err(self.lost_error())
            }
            Err(message) => Err(S3Error::Aws {
                operation: format!("renewing the state lock in {}", self.table),
                message,
            }),
        }
    }

    fn lost_error(&self) -> S3Error {
        S3Error::LockLost {
            id: self.info.id.clone(),
            table: self.table.clone(),
        }
    }

    /// Deletes the lock item, only if it is still ours.
    pub async fn release(mut self) {
        self.renewal.abort();
        self.delete().await;
        self.released = true;
    }

    async fn delete(&self) {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("LockID", AttributeValue::S(self.lock_id.clone()))
            .condition_expression("ID = :id")
            .expression_attribute_values(":id", AttributeValue::S(self.info.id.clone()))
            .send()
            .await;
        match result {
            Ok(_) => {}
            // Taken over after our lease expired: nothing of ours to delete.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => tracing::warn!(
                "could not release the state lock {} in {}: {}; it expires {}s after its last renewal, or run dumcel force-unlock {}",
                self.info.id,
                self.table,
                aws_sdk_dynamodb::error::DisplayErrorContext(e),
                LEASE.as_secs(),
                self.info.id
            ),
        }
    }
}

impl Drop for RemoteLock {
    fn drop(&mut self) {
        self.renewal.abort();
        if self.released {
            return;
        }
        // Dropped without `release` (an early return, an interrupt): release
        // it here, on the runtime this command runs on.
        if let Ok(handle) = tokio::runtime::Handle::try_current()
            && handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        {
            tokio::task::block_in_place(|| handle.block_on(self.delete()));
        }
    }
}

/// Pushes the lease forward: `Ok(false)` when the item is no longer ours.
async fn renew(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    lock_id: &str,
    id: &str,
) -> Result<bool, String> {
    let result = client
        .update_item()
        .table_name(table)
        .key("LockID", AttributeValue::S(lock_id.to_owned()))
        .update_expression("SET Expires = :expires")
        .condition_expression("ID = :id")
        .expression_attribute_values(":id", AttributeValue::S(id.to_owned()))
        .expression_attribute_values(":expires", expires_from_now())
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()),
    }
}

async fn renew_forever(
    client: aws_sdk_dynamodb::Client,
    table: String,
    lock_id: String,
    id: String,
    lost: Arc<AtomicBool>,
) {
    let mut every = tokio::time::interval(LEASE / 3);
    every.tick().await; // the first tick is immediate; the lease is fresh
    loop {
        every.tick().await;
        match renew(&client, &table, &lock_id, &id).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!(lock = %id, %table, "the state lock was taken over: this command no longer holds it and will not write the state");
                lost.store(true, Ordering::Release);
                return;
            }
            // A passing error: the next tick tries again, well within the lease.
            Err(message) => {
                tracing::warn!(lock = %id, %table, %message, "renewing the state lock failed")
            }
        }
    }
}
