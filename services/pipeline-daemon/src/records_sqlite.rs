//! Deployment records (see [`crate::records`]) in an embedded SQLite file,
//! for the Docker-host target: no AWS account needed. One row per (project,
//! environment, SHA), as DynamoDB keeps one item; a put replaces the row
//! whole, as PutItem does. Calls run on tokio's blocking pool: SQLite's API
//! is synchronous, and a write waits for its fsync.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use crate::records::{Outcome, Record, RecordError, Records, newest_good};

pub struct SqliteRecords {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deployments (
    project     TEXT NOT NULL,
    environment TEXT NOT NULL,
    sha         TEXT NOT NULL,
    image       TEXT NOT NULL,
    digest      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (project, environment, sha)
)";

const COLUMNS: &str =
    "project, environment, sha, image, digest, started_at, finished_at, outcome, reason";

impl SqliteRecords {
    /// Opens (creating when missing) the records file at `path`.
    pub fn open(path: &Path) -> Result<SqliteRecords, RecordError> {
        let fail = |operation, e: rusqlite::Error| RecordError {
            store: format!("SQLite file {}", path.display()),
            operation,
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RecordError {
                store: format!("SQLite file {}", path.display()),
                operation: "open",
                message: format!("creating {}: {e}", dir.display()),
            })?;
        }
        let connection = Connection::open(path).map_err(|e| fail("open", e))?;
        // Several workers may share the file: wait for a writer rather than fail.
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail("open", e))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| fail("open", e))?;
        Ok(SqliteRecords {
            path: path.to_owned(),
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection, off the async threads.
    async fn with<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, RecordError> {
        let connection = self.connection.clone();
        let store = format!("SQLite file {}", self.path.display());
        let fail = |message: String| RecordError {
            store: store.clone(),
            operation,
            message,
        };
        tokio::task::spawn_blocking(move || {
            let connection = connection.lock().unwrap_or_else(|p| p.into_inner());
            work(&connection)
        })
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| fail(e.to_string()))
    }
}

/// A row read back; `None` for an outcome this version does not know.
fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Record>> {
    let outcome: String = row.get(7)?;
    let Some(outcome) = Outcome::parse(&outcome) else {
        return Ok(None);
    };
    Ok(Some(Record {
        project: row.get(0)?,
        environment: row.get(1)?,
        sha: row.get(2)?,
        image: row.get(3)?,
        digest: row.get(4)?,
        started_at: row.get(5)?,
        finished_at: row.get(6)?,
        outcome,
        reason: row.get(8)?,
    }))
}

#[async_trait]
impl Records for SqliteRecords {
    async fn ensure(&self) -> Result<(), RecordError> {
        self.with("CREATE TABLE", |c| c.execute_batch(SCHEMA)).await
    }

    async fn get(
        &self,
        project: &str,
        environment: &str,
        sha: &str,
    ) -> Result<Option<Record>, RecordError> {
        let key = (project.to_owned(), environment.to_owned(), sha.to_owned());
        self.with("SELECT", move |c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM deployments WHERE project = ?1 AND environment = ?2 AND sha = ?3"
                ),
                params![key.0, key.1, key.2],
                from_row,
            )
            .optional()
            .map(Option::flatten)
        })
        .await
    }

    async fn put(&self, record: &Record) -> Result<(), RecordError> {
        let r = record.clone();
        self.with("INSERT", move |c| {
            c.execute(
                &format!("INSERT OR REPLACE INTO deployments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    r.project,
                    r.environment,
                    r.sha,
                    r.image,
                    r.digest,
                    r.started_at,
                    r.finished_at,
                    r.outcome.as_str(),
                    r.reason
                ],
            )
            .map(|_| ())
        })
        .await
    }

    async fn last_good(
        &self,
        project: &str,
        environment: &str,
        except_sha: &str,
    ) -> Result<Option<Record>, RecordError> {
        let key = (project.to_owned(), environment.to_owned());
        let all = self
            .with("SELECT", move |c| {
                let mut statement = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM deployments WHERE project = ?1 AND environment = ?2"
                ))?;
                let rows = statement.query_map(params![key.0, key.1], from_row)?;
                rows.filter_map(Result::transpose)
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(newest_good(all, except_sha))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sha: &str, outcome: Outcome, finished_at: &str) -> Record {
        Record {
            project: "shop".into(),
            environment: "production".into(),
            sha: sha.into(),
            image: format!("127.0.0.1:5000/shop:{sha}"),
            digest: String::new(),
            started_at: "2026-11-30T10:00:00Z".into(),
            finished_at: finished_at.into(),
            outcome,
            reason: String::new(),
        }
    }

    #[tokio::test]
    async fn records_are_kept_across_opens_and_the_last_good_one_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records/deployments.sqlite3");
        let store = SqliteRecords::open(&path).unwrap();
        store.ensure().await.unwrap();
        let a = record("a", Outcome::Succeeded, "2026-11-30T10:01:00Z");
        store.put(&a).await.unwrap();
        store
            .put(&record("b", Outcome::Succeeded, "2026-11-30T10:02:00Z"))
            .await
            .unwrap();
        store
            .put(&record("c", Outcome::InProgress, ""))
            .await
            .unwrap();
        // A put replaces the row whole, as DynamoDB's PutItem does.
        store
            .put(&record("c", Outcome::DeployFailed, "2026-11-30T10:03:00Z"))
            .await
            .unwrap();
        drop(store);

        let store = SqliteRecords::open(&path).unwrap();
        store.ensure().await.unwrap();
        assert_eq!(store.get("shop", "production", "a").await.unwrap(), Some(a));
        assert_eq!(
            store
                .get("shop", "production", "c")
                .await
                .unwrap()
                .map(|r| r.outcome),
            Some(Outcome::DeployFailed)
        );
        assert_eq!(store.get("shop", "preview-x", "a").await.unwrap(), None);
        let good = store.last_good("shop", "production", "c").await.unwrap();
        assert_eq!(good.map(|r| r.sha), Some("b".into()));
        let good = store.last_good("shop", "production", "b").await.unwrap();
        assert_eq!(good.map(|r| r.sha), Some("a".into()));
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.sqlite3");
        std::fs::write(&path, b"this is not SQLite").unwrap();
        let err = match SqliteRecords::open(&path) {
            Ok(store) => store.ensure().await.unwrap_err(),
            Err(e) => e,
        };
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}
