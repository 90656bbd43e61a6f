use super::{backoff_ms, status, JobError, Registry, RetryPolicy};
use crate::server::db::batch::{Arg, BatchTx};
use crate::server::db::{Db, Tx};
use crate::server::metrics;
use sqlx::Row;

/// A job to enqueue. Not `Clone`: a copy would carry the same id, and enqueueing it would be
/// skipped as if it were a pending duplicate.
#[derive(Debug)]
pub struct NewJob<'a> {
    /// Chosen up front, so a caller can point its own rows at the job in the same statement
    /// that writes them (webhook ingest does).
    pub id: String,
    pub kind: &'a str,
    pub payload: serde_json::Value,
    /// While a job with this key is still pending, enqueueing another one is a no-op.
    pub dedupe_key: Option<String>,
    pub customer_id: Option<String>,
    pub max_attempts: i64,
    pub run_at_ms: i64,
}

impl<'a> NewJob<'a> {
    pub fn new(kind: &'a str, payload: serde_json::Value, now_ms: i64) -> Self {
        // Time-ordered (UUIDv7): each new id lands at the end of the primary-key index. A
        // random v4 id dirtied a random index page per job, and on SQLite every dirty page is
        // written whole to the WAL at each commit; ingest ran about 30 % faster without that.
        NewJob {
            id: format!("job_{}", uuid::Uuid::now_v7().simple()),
            kind,
            payload,
            dedupe_key: None,
            customer_id: None,
            max_attempts: RetryPolicy::default().max_attempts,
            run_at_ms: now_ms,
        }
    }
}

/// Enqueues inside the caller's transaction (the outbox pattern): the job exists exactly when
/// the change that asked for it commits. Returns the job id, or None when a pending job with the
/// same dedupe key already exists.
pub async fn enqueue(
    tx: &mut Tx,
    job: NewJob<'_>,
    now_ms: i64,
) -> Result<Option<String>, sqlx::Error> {
    let mut ids = enqueue_many(tx, std::slice::from_ref(&job), now_ms).await?;
    Ok(ids.pop().flatten())
}

/// `enqueue` for many jobs in one statement (webhook group commit writes in batches). A job
/// whose dedupe key is already pending is skipped by the partial unique index: `ON CONFLICT DO
/// NOTHING` never aborts the caller's transaction, which a violation would poison on
/// PostgreSQL, and unlike a check-then-insert it also holds against a concurrent enqueue.
/// Returns each job's id in order, or None where it was skipped.
pub async fn enqueue_many<T: BatchTx>(
    tx: &mut T,
    jobs: &[NewJob<'_>],
    now_ms: i64,
) -> Result<Vec<Option<String>>, T::Error> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, dedupe_key, customer_id, created_at, updated_at) VALUES ",
    );
    let mut p = tx.placeholders();
    for i in 0..jobs.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        p.push_list(&mut sql, 3);
        sql.push_str(", 'queued', 0, ");
        p.push_list(&mut sql, 6);
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING id");
    let payloads: Vec<String> = jobs.iter().map(|job| job.payload.to_string()).collect();
    let mut args = Vec::with_capacity(jobs.len() * 9);
    for (job, payload) in jobs.iter().zip(&payloads) {
        args.extend([
            Arg::Text(&job.id),
            Arg::Text(job.kind),
            Arg::Text(payload),
            Arg::Int(job.max_attempts),
            Arg::Int(job.run_at_ms),
            Arg::OptText(job.dedupe_key.as_deref()),
            Arg::OptText(job.customer_id.as_deref()),
            Arg::Int(now_ms),
            Arg::Int(now_ms),
        ]);
    }
    let inserted: std::collections::HashSet<String> =
        tx.fetch_strings(&sql, &args).await?.into_iter().collect();
    Ok(jobs
        .iter()
        .map(|job| {
            inserted.contains(&job.id).then(|| {
                metrics::job_enqueued(job.kind);
                job.id.clone()
            })
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i64,
    pub max_attempts: i64,
    /// When this worker took it; the attempt's start time.
    pub claimed_at_ms: i64,
}

/// Takes the next runnable job (due, or running under an expired lease) for `worker_id`, in
/// one statement: no two workers can ever hold the same job.
pub async fn claim(
    db: &Db,
    worker_id: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_by = $1, lease_expires_at = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE (status IN ('queued', 'failed_retrying') AND run_at <= $3) \
                        OR (status = 'running' AND lease_expires_at < $3) \
                     ORDER BY run_at LIMIT 1{}) \
         RETURNING id, kind, payload, attempts, max_attempts",
        db.skip_locked()
    );
    let row = sqlx::query(&sql)
        .bind(worker_id)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .fetch_optional(&mut *db.write().await?)
        .await?;
    row.map(|r| {
        let payload: String = r.try_get("payload")?;
        Ok(ClaimedJob {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            attempts: r.try_get("attempts")?,
            max_attempts: r.try_get("max_attempts")?,
            claimed_at_ms: now_ms,
        })
    })
    .transpose()
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Succeeded,
    Retry {
        run_at_ms: i64,
    },
    Dead,
    /// Another worker took the job over (our lease had expired); our result was discarded.
    LostLease,
}

/// Records the result of running `job`. Only the worker still holding the lease may do so.
pub async fn finish(
    db: &Db,
    job: &ClaimedJob,
    worker_id: &str,
    result: Result<(), JobError>,
    now_ms: i64,
    policy: &RetryPolicy,
    unit: f64,
) -> Result<RunOutcome, sqlx::Error> {
    let (outcome, status, run_at, error) = match &result {
        Ok(()) => (RunOutcome::Succeeded, status::SUCCEEDED, None, None),
        Err(JobError::Permanent(m)) => (RunOutcome::Dead, status::DEAD, None, Some(m.clone())),
        Err(JobError::Transient { message, .. }) if job.attempts >= job.max_attempts => (
            RunOutcome::Dead,
            status::DEAD,
            None,
            Some(format!(
                "{message} (gave up after {} attempts)",
                job.attempts
            )),
        ),
        Err(JobError::Transient {
            message,
            retry_after,
        }) => {
            let at = now_ms + backoff_ms(policy, job.attempts, unit, *retry_after);
            (
                RunOutcome::Retry { run_at_ms: at },
                status::FAILED_RETRYING,
                Some(at),
                Some(message.clone()),
            )
        }
    };
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), last_error = COALESCE($3, last_error), \
         locked_by = NULL, lease_expires_at = NULL, updated_at = $4 \
         WHERE id = $5 AND locked_by = $6 AND status = 'running' AND attempts = $7",
    )
    .bind(status)
    .bind(run_at)
    .bind(&error)
    .bind(now_ms)
    .bind(&job.id)
    .bind(worker_id)
    .bind(job.attempts)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(RunOutcome::LostLease);
    }
    let attempt_outcome = match outcome {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::Retry { .. } => "retry",
        _ => "dead",
    };
    sqlx::query(
        "INSERT INTO job_attempts (id, job_id, attempt, worker_id, started_at, finished_at, outcome, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(format!("att_{}", uuid::Uuid::new_v4().simple()))
    .bind(&job.id)
    .bind(job.attempts)
    .bind(worker_id)
    .bind(job.claimed_at_ms)
    .bind(now_ms)
    .bind(attempt_outcome)
    .bind(&error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let seconds = (now_ms - job.claimed_at_ms).max(0) as f64 / 1000.0;
    metrics::job_ran(&job.kind, attempt_outcome, seconds);
    Ok(outcome)
}

/// Claims and runs one job. Returns None when nothing is runnable. `clock` gives "now" in ms and
/// `unit` the jitter draw, so tests control time and randomness.
pub async fn run_one(
    db: &Db,
    registry: &Registry,
    worker_id: &str,
    policy: &RetryPolicy,
    clock: &(dyn Fn() -> i64 + Send + Sync),
    unit: f64,
) -> Result<Option<(ClaimedJob, RunOutcome)>, sqlx::Error> {
    let started = clock();
    let Some(job) = claim(db, worker_id, started, policy.lease.as_millis() as i64).await? else {
        return Ok(None);
    };
    let result = match registry.get(&job.kind) {
        None => Err(JobError::Permanent(format!(
            "no handler is registered for job kind {:?}",
            job.kind
        ))),
        Some(handler) => {
            let deadline = handler.deadline();
            match tokio::time::timeout(deadline, handler.run(db, &job.id, job.payload.clone()))
                .await
            {
                Ok(r) => r,
                Err(_) => Err(JobError::transient(format!(
                    "timed out after {} s",
                    deadline.as_secs()
                ))),
            }
        }
    };
    if let Err(e) = &result {
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
    }
    let error = result.as_ref().err().map(|e| e.to_string());
    let outcome = finish(db, &job, worker_id, result, clock(), policy, unit).await?;
    if let (RunOutcome::Dead, Some(handler)) = (&outcome, registry.get(&job.kind)) {
        let error = error.unwrap_or_default();
        if let Err(e) = handler
            .on_dead(db, &job.id, job.payload.clone(), &error)
            .await
        {
            tracing::error!(job = %job.id, error = %e, "on_dead hook failed");
        }
    }
    Ok(Some((job, outcome)))
}

/// A job with this dedupe key is queued, running or waiting to retry.
pub async fn pending(db: &Db, dedupe_key: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1 AND status IN ('queued', 'running', 'failed_retrying')",
    )
    .bind(dedupe_key)
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}
