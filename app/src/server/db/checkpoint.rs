//! WAL checkpoints off the write path (SQLite files only).
//!
//! SQLite's own checkpoint runs inside the commit that crosses `wal_autocheckpoint`: that
//! writer copies the WAL's pages into the database and fsyncs it while every other writer
//! (webhook ingest above all) waits behind it. Here a task on a reader connection — another
//! thread — copies committed pages as they come (a PASSIVE checkpoint never blocks a writer),
//! so the writer's own checkpoint, kept as a backstop that lets the WAL restart from the
//! beginning, finds almost nothing left to copy.

use sqlx::AnyPool;
use std::time::Duration;

/// The writer lets the WAL grow to 4,000 pages (16 MiB) before checkpointing itself (SQLite's
/// default is 1,000). With the background copy that checkpoint has little left to do and is
/// mostly the moment the WAL restarts from the beginning.
pub(super) const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 4000;";
/// How soon after a checkpoint that copied pages the next one runs.
const BUSY_INTERVAL: Duration = Duration::from_millis(10);
/// The longest wait while nothing is being written.
const IDLE_INTERVAL: Duration = Duration::from_millis(500);

/// Runs until the pool closes.
pub(super) fn spawn(pool: AnyPool) {
    tokio::spawn(async move {
        let mut wait = BUSY_INTERVAL;
        let mut last = None;
        loop {
            tokio::time::sleep(wait).await;
            if pool.is_closed() {
                return;
            }
            // (busy, frames in the WAL, frames copied to the database)
            let copied = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
            wait = match copied {
                // The WAL moved since the last look: someone is writing.
                Ok((_, log, done)) if last != Some((log, done)) => {
                    last = Some((log, done));
                    BUSY_INTERVAL
                }
                Ok(_) => (wait * 2).min(IDLE_INTERVAL),
                Err(e) => {
                    tracing::warn!(error = %e, "background WAL checkpoint failed");
                    IDLE_INTERVAL
                }
            };
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::server::config::database::DatabaseUrl;
    use crate::server::db::Db;
    use std::time::{Duration, Instant};

    /// A commit far below the writer's own threshold still reaches the database file: the
    /// background copy did it. Without it the pages would sit in the WAL until 4,000 of them.
    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_a_writer_checkpoint() {
        let dir = std::env::temp_dir().join(format!("ll-checkpoint-{}", std::process::id()));
        let path = dir.join("c.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let db = Db::connect(&url).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        sqlx::query("CREATE TABLE blobs (b TEXT NOT NULL)")
            .execute(&mut *tx)
            .await
            .unwrap();
        for _ in 0..100 {
            sqlx::query("INSERT INTO blobs (b) VALUES ($1)")
                .bind("x".repeat(8000))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // 800 KB is about 200 pages.
        let size = || std::fs::metadata(&path).map_or(0, |m| m.len());
        let deadline = Instant::now() + Duration::from_secs(5);
        while size() < 800_000 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let copied = size();
        db.close().await;
        std::fs::remove_dir_all(&dir).ok();
        assert!(copied >= 800_000, "database file is {copied} bytes");
    }
}
