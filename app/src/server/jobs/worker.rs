//! Worker loops: claim and run jobs until told to stop, finishing the job in hand first.
//! They run inside `serve` (WORKER_COUNT, default 2) or alone with `ledgerline worker`, and
//! several processes may share one PostgreSQL database.

use super::{run_one, Registry, RetryPolicy};
use crate::server::db::Db;
use rand::Rng;
use std::{sync::Arc, time::Duration};
use tokio::{sync::watch, task::JoinHandle};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub count: usize,
    /// How long an idle worker waits before looking again.
    pub poll: Duration,
    pub heartbeat_every: Duration,
    pub policy: RetryPolicy,
}

impl WorkerConfig {
    pub fn with_count(count: usize) -> Self {
        WorkerConfig {
            count,
            poll: Duration::from_millis(500),
            heartbeat_every: Duration::from_secs(10),
            policy: RetryPolicy::default(),
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Starts `config.count` workers. Send `true` on the shutdown channel and await the handles to
/// stop them gracefully.
pub fn spawn_workers(
    db: Db,
    registry: Arc<Registry>,
    config: WorkerConfig,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    (0..config.count)
        .map(|n| {
            let (db, registry, config, shutdown) = (
                db.clone(),
                registry.clone(),
                config.clone(),
                shutdown.clone(),
            );
            let id = format!("{}-{}-{n}", hostname(), &process[..8]);
            tokio::spawn(async move { worker_loop(db, registry, id, config, shutdown).await })
        })
        .collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "worker".into())
}

async fn beat(db: &Db, id: &str, started: i64) {
    let result = async {
        sqlx::query(
            "INSERT INTO worker_heartbeats (worker_id, started_at, beat_at) VALUES ($1, $2, $3) \
         ON CONFLICT (worker_id) DO UPDATE SET beat_at = $3",
        )
        .bind(id)
        .bind(started)
        .bind(now_ms())
        .execute(&mut *db.write().await?)
        .await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(worker = %id, error = %e, "heartbeat failed");
    }
}

async fn worker_loop(
    db: Db,
    registry: Arc<Registry>,
    id: String,
    config: WorkerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let started = now_ms();
    beat(&db, &id, started).await;
    let mut last_beat = std::time::Instant::now();
    tracing::info!(worker = %id, "worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_beat.elapsed() >= config.heartbeat_every {
            beat(&db, &id, started).await;
            last_beat = std::time::Instant::now();
        }
        let unit: f64 = rand::thread_rng().gen();
        match run_one(&db, &registry, &id, &config.policy, &now_ms, unit).await {
            // Straight on to the next job; the shutdown flag is checked between jobs only, so a
            // job in hand always finishes.
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => tracing::warn!(worker = %id, error = %e, "could not claim a job"),
        }
        tokio::select! {
            _ = tokio::time::sleep(config.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
    if let Ok(mut conn) = db.write().await {
        let _ = sqlx::query("DELETE FROM worker_heartbeats WHERE worker_id = $1")
            .bind(&id)
            .execute(&mut *conn)
            .await;
    }
    tracing::info!(worker = %id, "worker stopped");
}

/// Workers whose last heartbeat is recent, and the age of the oldest runnable job (ms).
pub async fn liveness(
    db: &Db,
    now: i64,
    stale_after: Duration,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let alive: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM worker_heartbeats WHERE beat_at > $1")
            .bind(now - stale_after.as_millis() as i64)
            .fetch_one(db.pool())
            .await?;
    let oldest: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(run_at) FROM jobs WHERE status IN ('queued', 'failed_retrying') AND run_at <= $1",
    )
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok((alive, oldest.map(|t| now - t)))
}
