//! Housekeeping that anonymous traffic would otherwise grow without end: expired sessions,
//! throttle rows with nothing left to remember, and known devices unused for half a year. It runs as a job (`maintenance.cleanup`), so it
//! shows on the Jobs page with its attempts like any other work, and with one dedupe key only
//! one is ever waiting, however many processes schedule it.

use crate::server::db::Db;
use crate::server::jobs::{self, JobError, JobHandler, NewJob};
use crate::server::services::auth::throttle;
use std::time::Duration;

pub const CLEANUP_JOB: &str = "maintenance.cleanup";

/// How often `schedule` queues a cleanup.
pub const EVERY: Duration = Duration::from_secs(15 * 60);

/// What one run removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub sessions: u64,
    pub throttle_rows: u64,
    pub devices: u64,
}

pub async fn run(db: &Db, now_ms: i64) -> Result<Removed, sqlx::Error> {
    let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(&mut *db.write().await?)
        .await?
        .rows_affected();
    let throttle_rows = throttle::delete_stale(db, now_ms).await?;
    let devices = crate::server::services::auth::devices::delete_stale(db, now_ms).await?;
    Ok(Removed {
        sessions,
        throttle_rows,
        devices,
    })
}

/// Queues a cleanup unless one is already waiting.
pub async fn enqueue(db: &Db, now_ms: i64) -> Result<Option<String>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut job = NewJob::new(CLEANUP_JOB, serde_json::json!({}), now_ms);
    job.dedupe_key = Some(CLEANUP_JOB.into());
    let id = jobs::enqueue(&mut tx, job, now_ms).await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues a cleanup now and every `EVERY` until `shutdown` says stop.
pub fn schedule(
    db: Db,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = enqueue(&db, chrono::Utc::now().timestamp_millis()).await {
                        tracing::warn!(error = %e, "could not queue the cleanup");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// The job handler.
pub struct Cleanup;

#[async_trait::async_trait]
impl JobHandler for Cleanup {
    async fn run(&self, db: &Db, _id: &str, _payload: serde_json::Value) -> Result<(), JobError> {
        let removed = run(db, chrono::Utc::now().timestamp_millis())
            .await
            .map_err(|e| JobError::transient(format!("cleanup: {e}")))?;
        tracing::info!(
            sessions = removed.sessions,
            throttle_rows = removed.throttle_rows,
            devices = removed.devices,
            "cleanup removed expired rows"
        );
        Ok(())
    }
}
