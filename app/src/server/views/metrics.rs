//! The Prometheus scrape: the queue's gauges read from the database at scrape time, then every
//! metric rendered as text. The names and counters live in `server::metrics`, below the queue.

use crate::server::db::Db;
use crate::server::jobs;
use crate::server::metrics::{install, JOBS_DEPTH, JOBS_OLDEST_RUNNABLE_AGE, WORKERS_ALIVE};

/// The scrape: refreshes the database gauges, then renders everything as Prometheus text.
pub async fn render(db: &Db, now_ms: i64) -> Result<String, sqlx::Error> {
    let handle = install();
    for (status, n) in jobs::depth_by_status(db).await? {
        metrics::gauge!(JOBS_DEPTH, "status" => status.as_str()).set(n as f64);
    }
    let (alive, oldest_age_ms) =
        jobs::liveness(db, now_ms, std::time::Duration::from_secs(30)).await?;
    metrics::gauge!(WORKERS_ALIVE).set(alive as f64);
    metrics::gauge!(JOBS_OLDEST_RUNNABLE_AGE)
        .set(oldest_age_ms.unwrap_or(0).max(0) as f64 / 1000.0);
    Ok(handle.render())
}
