//! What staff see and do on the Jobs page: counts, a filtered list, one job's detail with its
//! attempts, and the two actions (retry now, cancel), each audited.

use crate::domain::{
    JobAttemptView, JobCount, JobDetail, JobFilter, JobPage, JobStatus, JobSummary, Outcome,
    Permission,
};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::keyset::{next_cursor, ListQuery};
use crate::server::db::Db;
use crate::server::services::audit;
use sqlx::{any::AnyRow, Row};

#[derive(Debug, thiserror::Error)]
pub enum JobAdminError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No such job.")]
    NotFound,
    #[error("{0}")]
    WrongState(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(JobAdminError {
    denied: Denied,
    internal: [Db],
    Self::NotFound => NOT_FOUND,
    _ => CONFLICT,
});

const SUMMARY: &str =
    "id, kind, status, attempts, max_attempts, run_at, last_error, customer_id, created_at, updated_at";

fn summary(r: &AnyRow) -> Result<JobSummary, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(JobSummary {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown job status {status:?}").into()))?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        run_at_ms: r.try_get("run_at")?,
        last_error: r.try_get("last_error")?,
        customer_id: r.try_get("customer_id")?,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
    })
}

/// Jobs per status, every status present (zero when none).
pub async fn depth_by_status(db: &Db) -> Result<Vec<(JobStatus, i64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status")
            .fetch_all(db.pool())
            .await?;
    Ok(JobStatus::ALL
        .iter()
        .map(|s| {
            let n = rows
                .iter()
                .find(|(st, _)| st == s.as_str())
                .map_or(0, |(_, n)| *n);
            (*s, n)
        })
        .collect())
}

/// Jobs per kind and status (only the pairs that exist).
pub async fn counts(db: &Db, actor: &Actor) -> Result<Vec<JobCount>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(counts_rows(db).await?)
}

async fn counts_rows(db: &Db) -> Result<Vec<JobCount>, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status ORDER BY kind, status",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, status, count)| {
            JobStatus::parse(&status).map(|status| JobCount {
                kind,
                status,
                count,
            })
        })
        .collect())
}

/// Newest first. `before` is the cursor from the previous page ("created_at:id").
pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: &JobFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<JobPage, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(list_rows(db, filter, before, limit).await?)
}

async fn list_rows(
    db: &Db,
    filter: &JobFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<JobPage, sqlx::Error> {
    let mut q = ListQuery::new(format!("SELECT {SUMMARY} FROM jobs WHERE 1 = 1"));
    if let Some(st) = filter.status {
        q.and(" AND status = ?", [st.as_str().into()]);
    }
    if let Some(k) = &filter.kind {
        q.and(" AND kind = ?", [k.clone().into()]);
    }
    if let Some(c) = &filter.customer_id {
        q.and(" AND customer_id = ?", [c.clone().into()]);
    }
    let rows = q.fetch_page(db, "created_at", "id", before, limit).await?;
    let mut jobs = rows.iter().map(summary).collect::<Result<Vec<_>, _>>()?;
    let next_before = next_cursor(&mut jobs, limit, |j| (j.created_at_ms, &j.id));
    Ok(JobPage { jobs, next_before })
}

/// One job; the retry and cancel buttons only for those who may use them.
pub async fn detail(db: &Db, actor: &Actor, id: &str) -> Result<JobDetail, JobAdminError> {
    actor.require(Permission::CustomerRead)?;
    let can_act = actor.require(Permission::JobsRetry).is_ok();
    let row = sqlx::query(&format!(
        "SELECT {SUMMARY}, payload, dedupe_key, locked_by, lease_expires_at FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(JobAdminError::NotFound)?;
    let raw: String = row.try_get("payload")?;
    let payload = crate::server::redact::pretty_redacted(&raw);
    let attempts: Vec<(i64, String, i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT attempt, worker_id, started_at, finished_at, outcome, error FROM job_attempts \
         WHERE job_id = $1 ORDER BY attempt DESC, started_at DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(JobDetail {
        job: summary(&row)?,
        payload,
        dedupe_key: row.try_get("dedupe_key")?,
        locked_by: row.try_get("locked_by")?,
        lease_expires_at_ms: row.try_get("lease_expires_at")?,
        attempts: attempts
            .into_iter()
            .map(
                |(attempt, worker_id, started, finished, outcome, error)| JobAttemptView {
                    attempt,
                    worker_id,
                    started_at_ms: started,
                    duration_ms: finished - started,
                    outcome,
                    error,
                },
            )
            .collect(),
        can_act,
    })
}

/// Makes the job due now. A job that gave up gets a fresh attempt budget (its history stays).
/// Refused while it runs, when it already succeeded, or when an equivalent job is pending.
pub async fn retry_now(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    now: i64,
) -> Result<JobSummary, JobAdminError> {
    actor.require(Permission::JobsRetry)?;
    change(db, actor, meta, id, now, Action::Retry).await
}

/// Stops a job that is waiting to run (queued or between retries). Refused once it runs.
pub async fn cancel(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    now: i64,
) -> Result<JobSummary, JobAdminError> {
    actor.require(Permission::JobsRetry)?;
    change(db, actor, meta, id, now, Action::Cancel).await
}

#[derive(Clone, Copy)]
enum Action {
    Retry,
    Cancel,
}

async fn change(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    now: i64,
    action: Action,
) -> Result<JobSummary, JobAdminError> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT {SUMMARY}, dedupe_key FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(JobAdminError::NotFound)?;
    let before = summary(&row)?;
    let dedupe_key: Option<String> = row.try_get("dedupe_key")?;
    let (allowed, to, audit_action) = match action {
        Action::Retry => (before.status.can_retry(), JobStatus::Queued, "jobs.retried"),
        Action::Cancel => (
            before.status.can_cancel(),
            JobStatus::Cancelled,
            "jobs.cancelled",
        ),
    };
    if !allowed {
        let why = match (action, before.status) {
            (_, JobStatus::Running) => "It is running now; wait for this attempt to finish.",
            (_, JobStatus::Succeeded) => "It already succeeded.",
            (Action::Cancel, JobStatus::Dead) => "It already gave up; there is nothing to cancel.",
            (Action::Cancel, JobStatus::Cancelled) => "It is already cancelled.",
            _ => "It cannot be changed in its current state.",
        };
        return Err(JobAdminError::WrongState(why.into()));
    }
    let pending = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::FailedRetrying,
    ];
    if matches!(action, Action::Retry) && !pending.contains(&before.status) {
        if let Some(key) = &dedupe_key {
            let other: Option<String> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE dedupe_key = $1 AND id <> $2 \
                 AND status IN ('queued', 'running', 'failed_retrying')",
            )
            .bind(key)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(other) = other {
                return Err(JobAdminError::WrongState(format!(
                    "An equivalent job ({other}) is already waiting to run."
                )));
            }
        }
    }
    let max_attempts = match action {
        Action::Retry if before.attempts >= before.max_attempts => {
            before.attempts + super::RetryPolicy::default().max_attempts
        }
        _ => before.max_attempts,
    };
    let run_at = match action {
        Action::Retry => now,
        Action::Cancel => before.run_at_ms,
    };
    sqlx::query(
        "UPDATE jobs SET status = $1, run_at = $2, max_attempts = $3, updated_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(run_at)
    .bind(max_attempts)
    .bind(now)
    .bind(id)
    .bind(before.status.as_str())
    .execute(&mut *tx)
    .await?;
    let mut entry = audit::NewEntry::new(actor, meta, audit_action, Outcome::Ok)
        .target("job", id)
        .details(serde_json::json!({
            "kind": before.kind,
            "from": before.status.as_str(),
            "to": to.as_str(),
            "attempts": before.attempts,
            "last_error": before.last_error,
        }));
    if let Some(c) = &before.customer_id {
        entry = entry.customer(c);
    }
    audit::append(&mut tx, entry, now).await?;
    tx.commit().await?;
    let after = JobSummary {
        status: to,
        run_at_ms: run_at,
        max_attempts,
        updated_at_ms: now,
        ..before
    };
    Ok(after)
}
