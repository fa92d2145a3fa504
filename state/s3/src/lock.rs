//! A held DynamoDB lock. It is released when dropped, so every way out of a
//! command (errors included) lets go of it; a process killed outright leaves
//! it behind, and `dumcel force-unlock ID` removes it.

use aws_sdk_dynamodb::types::AttributeValue;

use dumcel_state::LockInfo;

pub struct RemoteLock {
    client: aws_sdk_dynamodb::Client,
    table: String,
    lock_id: String,
    info: LockInfo,
    released: bool,
}

impl RemoteLock {
    pub(crate) fn new(
        client: aws_sdk_dynamodb::Client,
        table: String,
        lock_id: String,
        info: LockInfo,
    ) -> RemoteLock {
        RemoteLock {
            client,
            table,
            lock_id,
            info,
            released: false,
        }
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Deletes the lock item, only if it is still ours.
    pub async fn release(mut self) {
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
        if let Err(e) = result {
            tracing::warn!(
                "could not release the state lock {} in {}: {}; run dumcel force-unlock {}",
                self.info.id,
                self.table,
                aws_sdk_dynamodb::error::DisplayErrorContext(e),
                self.info.id
            );
        }
    }
}

impl Drop for RemoteLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Dropped without `release` (an early return): release it here, on the
        // runtime this command runs on.
        if let Ok(handle) = tokio::runtime::Handle::try_current()
            && handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        {
            tokio::task::block_in_place(|| handle.block_on(self.delete()));
        }
    }
}
