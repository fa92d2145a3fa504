//! The pipeline's records (see [`crate::records`]) in an embedded SQLite
//! file, for the Docker-host target: no AWS account needed. Every write that
//! must be fenced runs in one `IMMEDIATE` transaction (the lease is checked
//! and the record written with no other writer in between, across every
//! worker sharing the file). Calls run on tokio's blocking pool: SQLite's API
//! is synchronous, and a write waits for its fsync.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::records::{
    Decision, EnvironmentStatus, Lease, Outcome, Record, RecordError, Records, Serving,
    ServingChange, Written, may_write, now_ms,
};

pub struct SqliteRecords {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
}

/// `deployments` of earlier versions (keyed by SHA) is left alone.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pushes (
    project     TEXT NOT NULL,
    environment TEXT NOT NULL,
    delivery    TEXT NOT NULL,
    branch      TEXT NOT NULL,
    sha         TEXT NOT NULL,
    image       TEXT NOT NULL,
    digest      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    pusher      TEXT NOT NULL DEFAULT '',
    built_at    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (project, environment, delivery)
);
CREATE TABLE IF NOT EXISTS environments (
    project          TEXT NOT NULL,
    environment      TEXT NOT NULL,
    lease_owner      TEXT,
    lease_expires_ms INTEGER NOT NULL DEFAULT 0,
    lease_token      INTEGER NOT NULL DEFAULT 0,
    serving_delivery TEXT,
    serving_sha      TEXT,
    serving_image    TEXT,
    PRIMARY KEY (project, environment)
);
CREATE TABLE IF NOT EXISTS approvals (
    project     TEXT NOT NULL,
    sha         TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (project, sha)
);
CREATE TABLE IF NOT EXISTS rejections (
    project     TEXT NOT NULL,
    sha         TEXT NOT NULL,
    rejected_by TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    PRIMARY KEY (project, sha)
)";

const COLUMNS: &str = "project, environment, delivery, branch, sha, image, digest, started_at, finished_at, outcome, reason, attempts, message, pusher, built_at";

/// Columns added since `pushes` was first made, with their definitions:
/// added to a file an earlier version created.
const ADDED: [(&str, &str); 3] = [
    ("message", "TEXT NOT NULL DEFAULT ''"),
    ("pusher", "TEXT NOT NULL DEFAULT ''"),
    ("built_at", "TEXT NOT NULL DEFAULT ''"),
];

impl SqliteRecords {
    /// Opens (creating when missing) the records file at `path`.
    pub fn open(path: &Path) -> Result<SqliteRecords, RecordError> {
        let fail = |operation, message: String| RecordError {
            store: format!("SQLite file {}", path.display()),
            operation,
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail("open", format!("creating {}: {e}", dir.display())))?;
        }
        let connection = Connection::open(path).map_err(|e| fail("open", e.to_string()))?;
        // Several workers may share the file: wait for a writer rather than fail.
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail("open", e.to_string()))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| fail("open", e.to_string()))?;
        Ok(SqliteRecords {
            path: path.to_owned(),
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection, off the async threads.
    async fn with<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, RecordError> {
        let connection = self.connection.clone();
        let store = format!("SQLite file {}", self.path.display());
        let fail = |message: String| RecordError {
            store: store.clone(),
            operation,
            message,
        };
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut connection)
        })
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| fail(e.to_string()))
    }
}

/// A row read back; `None` for an outcome this version does not know.
fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Record>> {
    let outcome: String = row.get(9)?;
    let Some(outcome) = Outcome::parse(&outcome) else {
        return Ok(None);
    };
    Ok(Some(Record {
        project: row.get(0)?,
        environment: row.get(1)?,
        delivery: row.get(2)?,
        branch: row.get(3)?,
        sha: row.get(4)?,
        image: row.get(5)?,
        digest: row.get(6)?,
        started_at: row.get(7)?,
        finished_at: row.get(8)?,
        outcome,
        reason: row.get(10)?,
        attempts: row.get(11)?,
        message: row.get(12)?,
        pusher: row.get(13)?,
        built_at: row.get(14)?,
    }))
}

fn get_record(
    c: &Connection,
    project: &str,
    environment: &str,
    delivery: &str,
) -> rusqlite::Result<Option<Record>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM pushes WHERE project = ?1 AND environment = ?2 AND delivery = ?3"
        ),
        params![project, environment, delivery],
        from_row,
    )
    .optional()
    .map(Option::flatten)
}

#[async_trait]
impl Records for SqliteRecords {
    async fn ensure(&self) -> Result<(), RecordError> {
        self.with("CREATE TABLE", |c| {
            c.execute_batch(SCHEMA)?;
            let mut has = c.prepare("SELECT 1 FROM pragma_table_info('pushes') WHERE name = ?1")?;
            for (column, definition) in ADDED {
                if !has.exists([column])? {
                    c.execute_batch(&format!(
                        "ALTER TABLE pushes ADD COLUMN {column} {definition}"
                    ))?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn get(
        &self,
        project: &str,
        environment: &str,
        delivery: &str,
    ) -> Result<Option<Record>, RecordError> {
        let key = (
            project.to_owned(),
            environment.to_owned(),
            delivery.to_owned(),
        );
        self.with("SELECT", move |c| get_record(c, &key.0, &key.1, &key.2))
            .await
    }

    async fn acquire(
        &self,
        project: &str,
        environment: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, RecordError> {
        let (project, environment, owner) =
            (project.to_owned(), environment.to_owned(), owner.to_owned());
        self.with("acquire lease", move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT OR IGNORE INTO environments (project, environment) VALUES (?1, ?2)",
                params![project, environment],
            )?;
            let now = now_ms();
            let token: Option<u64> = tx
                .query_row(
                    "UPDATE environments SET lease_owner = ?3, lease_expires_ms = ?4,
                         lease_token = lease_token + 1
                     WHERE project = ?1 AND environment = ?2
                       AND (lease_owner IS NULL OR lease_expires_ms < ?5 OR lease_owner = ?3)
                     RETURNING lease_token",
                    params![
                        project,
                        environment,
                        owner,
                        now + ttl.as_millis() as i64,
                        now
                    ],
                    |row| row.get(0),
                )
                .optional()?;
            tx.commit()?;
            Ok(token.map(|token| Lease {
                project,
                environment,
                owner,
                token,
            }))
        })
        .await
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, RecordError> {
        let l = lease.clone();
        self.with("renew lease", move |c| {
            let changed = c.execute(
                "UPDATE environments SET lease_expires_ms = ?5
                 WHERE project = ?1 AND environment = ?2 AND lease_owner = ?3 AND lease_token = ?4",
                params![
                    l.project,
                    l.environment,
                    l.owner,
                    l.token,
                    now_ms() + ttl.as_millis() as i64
                ],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release(&self, lease: &Lease) -> Result<(), RecordError> {
        let l = lease.clone();
        self.with("release lease", move |c| {
            c.execute(
                "UPDATE environments SET lease_owner = NULL, lease_expires_ms = 0
                 WHERE project = ?1 AND environment = ?2 AND lease_owner = ?3 AND lease_token = ?4",
                params![l.project, l.environment, l.owner, l.token],
            )
            .map(|_| ())
        })
        .await
    }

    async fn write(
        &self,
        record: &Record,
        serving: &ServingChange,
        lease: &Lease,
    ) -> Result<Written, RecordError> {
        let (r, serving, l) = (record.clone(), serving.clone(), lease.clone());
        self.with("write record", move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let holder: Option<(Option<String>, u64)> = tx
                .query_row(
                    "SELECT lease_owner, lease_token FROM environments
                     WHERE project = ?1 AND environment = ?2",
                    params![r.project, r.environment],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if holder != Some((Some(l.owner.clone()), l.token)) {
                return Ok(Written::Fenced);
            }
            let existing = get_record(&tx, &r.project, &r.environment, &r.delivery)?;
            if !may_write(existing.as_ref().map(|e| e.outcome)) {
                return Ok(Written::AlreadyFinal(
                    existing.map_or(Outcome::Skipped, |e| e.outcome),
                ));
            }
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO pushes ({COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    r.project,
                    r.environment,
                    r.delivery,
                    r.branch,
                    r.sha,
                    r.image,
                    r.digest,
                    r.started_at,
                    r.finished_at,
                    r.outcome.as_str(),
                    r.reason,
                    r.attempts,
                    r.message,
                    r.pusher,
                    r.built_at
                ],
            )?;
            let now = match &serving {
                ServingChange::Unchanged => None,
                ServingChange::Now(s) => Some(Some(s)),
                ServingChange::Nothing => Some(None),
            };
            if let Some(now) = now {
                tx.execute(
                    "UPDATE environments SET serving_delivery = ?3, serving_sha = ?4, serving_image = ?5
                     WHERE project = ?1 AND environment = ?2",
                    params![
                        r.project,
                        r.environment,
                        now.map(|s| &s.delivery),
                        now.map(|s| &s.sha),
                        now.map(|s| &s.image)
                    ],
                )?;
            }
            tx.commit()?;
            Ok(Written::Written)
        })
        .await
    }

    async fn history(&self, project: &str, environment: &str) -> Result<Vec<Record>, RecordError> {
        let key = (project.to_owned(), environment.to_owned());
        self.with("SELECT", move |c| {
            let mut statement = c.prepare(&format!(
                "SELECT {COLUMNS} FROM pushes WHERE project = ?1 AND environment = ?2"
            ))?;
            let rows = statement.query_map(params![key.0, key.1], from_row)?;
            rows.filter_map(Result::transpose).collect()
        })
        .await
    }

    async fn environments(&self) -> Result<Vec<EnvironmentStatus>, RecordError> {
        self.with("SELECT", |c| {
            let mut statement = c.prepare(
                "SELECT project, environment, lease_owner, lease_expires_ms, lease_token,
                        serving_delivery, serving_sha, serving_image
                 FROM environments ORDER BY project, environment",
            )?;
            let rows = statement.query_map([], |row| {
                let serving = match (row.get(5)?, row.get(6)?, row.get(7)?) {
                    (Some(delivery), Some(sha), Some(image)) => Some(Serving {
                        delivery,
                        sha,
                        image,
                    }),
                    _ => None,
                };
                Ok(EnvironmentStatus {
                    project: row.get(0)?,
                    environment: row.get(1)?,
                    lease_owner: row.get(2)?,
                    lease_expires_ms: row.get(3)?,
                    token: row.get(4)?,
                    serving,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn decide(
        &self,
        project: &str,
        sha: &str,
        decision: &Decision,
    ) -> Result<(), RecordError> {
        // Approvals keep the table earlier versions made; rejections have
        // one of their own. The other kind's row goes in the same
        // transaction: one decision stands, whatever the clocks say.
        let (sql, other) = if decision.approved {
            (
                "INSERT OR REPLACE INTO approvals (project, sha, approved_by, approved_at) VALUES (?1, ?2, ?3, ?4)",
                "DELETE FROM rejections WHERE project = ?1 AND sha = ?2",
            )
        } else {
            (
                "INSERT OR REPLACE INTO rejections (project, sha, rejected_by, rejected_at) VALUES (?1, ?2, ?3, ?4)",
                "DELETE FROM approvals WHERE project = ?1 AND sha = ?2",
            )
        };
        let row = (
            project.to_owned(),
            sha.to_owned(),
            decision.by.clone(),
            decision.at.clone(),
        );
        self.with("INSERT", move |c| {
            let tx = c.transaction()?;
            tx.execute(sql, params![row.0, row.1, row.2, row.3])?;
            tx.execute(other, params![row.0, row.1])?;
            tx.commit()
        })
        .await
    }

    async fn decision(&self, project: &str, sha: &str) -> Result<Option<Decision>, RecordError> {
        let key = (project.to_owned(), sha.to_owned());
        self.with("SELECT", move |c| {
            let mut decisions = Vec::new();
            for (approved, sql) in [
                (true, "SELECT approved_by, approved_at FROM approvals WHERE project = ?1 AND sha = ?2"),
                (false, "SELECT rejected_by, rejected_at FROM rejections WHERE project = ?1 AND sha = ?2"),
            ] {
                let found = c
                    .query_row(sql, params![key.0, key.1], |row| {
                        Ok(Decision {
                            approved,
                            by: row.get(0)?,
                            at: row.get(1)?,
                        })
                    })
                    .optional()?;
                decisions.extend(found);
            }
            Ok(decisions.pop())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_store_keeps_the_records_contract_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records/pipeline.sqlite3");
        let store = SqliteRecords::open(&path).unwrap();
        crate::records::contract::leases_fence_and_records_only_move_forward(&store).await;
        drop(store);
        let store = SqliteRecords::open(&path).unwrap();
        store.ensure().await.unwrap();
        assert_eq!(store.history("shop", "production").await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_file_from_before_messages_pushers_and_build_times_gets_their_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.sqlite3");
        let old_schema = SCHEMA.replace(
            "    message     TEXT NOT NULL DEFAULT '',\n    pusher      TEXT NOT NULL DEFAULT '',\n    built_at    TEXT NOT NULL DEFAULT '',\n",
            "",
        );
        assert_ne!(old_schema, SCHEMA);
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&old_schema).unwrap();
        old.execute(
            "INSERT INTO pushes VALUES ('old', 'production', 'd0', 'main', 'aaa', 'i', 'sha256:x', 't0', 't1', 'succeeded', '', 1)",
            [],
        )
        .unwrap();
        drop(old);
        let store = SqliteRecords::open(&path).unwrap();
        store.ensure().await.unwrap();
        store.ensure().await.unwrap();
        let kept = store.get("old", "production", "d0").await.unwrap().unwrap();
        assert_eq!((kept.sha.as_str(), kept.message.as_str()), ("aaa", ""));
        crate::records::contract::leases_fence_and_records_only_move_forward(&store).await;
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.sqlite3");
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
