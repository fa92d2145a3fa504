//! The apply journal's copy in S3, so that a second machine taking over after
//! a crash knows every object the first one made or was making.
//!
//! Each group commit of the local journal is written as one object,
//! `<key>.journal/<journal id>/<batch number>`, before the intents in it are
//! acknowledged (see `dumcel_state::Ship`). Joined in order, the objects of
//! one journal id are byte for byte the local journal file. They are deleted
//! once the state that folds them in is uploaded.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use dumcel_state::Ship;

use crate::error::S3Error;
use crate::remote::{S3Remote, aws};

impl S3Remote {
    fn journal_prefix(&self) -> String {
        format!("{}.journal/", self.key)
    }

    /// A shipper for the local journal's writer thread: each batch becomes an
    /// object. It runs on that (non-async) thread, so it drives the upload
    /// on the command's runtime and waits for it.
    pub fn journal_shipper(&self, journal_id: &str) -> Ship {
        let handle = tokio::runtime::Handle::current();
        let remote = self.clone();
        let prefix = format!("{}{journal_id}/", self.journal_prefix());
        Box::new(move |batch: u64, bytes: &[u8]| {
            let key = format!("{prefix}{batch:010}");
            let body = ByteStream::from(bytes.to_vec());
            handle
                .block_on(
                    remote
                        .s3
                        .put_object()
                        .bucket(&remote.settings.bucket)
                        .key(&key)
                        .body(body)
                        .send(),
                )
                .map(|_| ())
                .map_err(|e| {
                    std::io::Error::other(format!(
                        "copying the state journal to s3://{}/{key}: {}",
                        remote.settings.bucket,
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    ))
                })
        })
    }

    /// Every object under the journal prefix: (key, journal id, last modified).
    async fn journal_objects(&self) -> Result<Vec<(String, String, i64)>, S3Error> {
        let prefix = self.journal_prefix();
        let mut out = Vec::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.settings.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws(&format!("listing {}", self.describe()), e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let id = key[prefix.len().min(key.len())..]
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let modified = object.last_modified().map(|t| t.secs()).unwrap_or(0);
                out.push((key.to_owned(), id, modified));
            }
        }
        Ok(out)
    }

    /// The newest journal kept in S3, joined back into the local file's
    /// bytes: `(id, bytes)`, or `None` when there is none.
    pub async fn download_journal(&self) -> Result<Option<(String, Vec<u8>)>, S3Error> {
        let objects = self.journal_objects().await?;
        let Some(newest) = objects
            .iter()
            .max_by_key(|(_, _, modified)| *modified)
            .map(|(_, id, _)| id.clone())
        else {
            return Ok(None);
        };
        // Keys are zero-padded batch numbers: their order is the file's.
        let mut keys: Vec<&String> = objects
            .iter()
            .filter(|(_, id, _)| *id == newest)
            .map(|(key, _, _)| key)
            .collect();
        keys.sort();
        let mut bytes = Vec::new();
        for key in keys {
            let object = self
                .s3
                .get_object()
                .bucket(&self.settings.bucket)
                .key(key.as_str())
                .send()
                .await
                .map_err(|e| aws(&format!("reading s3://{}/{key}", self.settings.bucket), e))?;
            let body = object
                .body
                .collect()
                .await
                .map_err(|e| aws(&format!("reading s3://{}/{key}", self.settings.bucket), e))?;
            bytes.extend_from_slice(&body.into_bytes());
        }
        Ok(Some((newest, bytes)))
    }

    /// Deletes every journal copy: called once the state holding them is uploaded.
    pub async fn delete_journals(&self) -> Result<(), S3Error> {
        let objects = self.journal_objects().await?;
        for chunk in objects.chunks(1000) {
            let ids: Vec<ObjectIdentifier> = chunk
                .iter()
                .filter_map(|(key, _, _)| ObjectIdentifier::builder().key(key).build().ok())
                .collect();
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| aws("building a DeleteObjects request", e))?;
            self.s3
                .delete_objects()
                .bucket(&self.settings.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws(&format!("deleting the journal of {}", self.describe()), e))?;
        }
        Ok(())
    }
}
