//! The `stripe.process_event` job: apply a stored event to the mirror, exactly once in effect.
//! Processing an event twice (a retry after a crash, a replay) writes the same rows and
//! timeline ids again, so the result is the same.

use super::{mirror, EventEnvelope};
use crate::server::db::Db;
use crate::server::jobs::{JobError, JobHandler};
use async_trait::async_trait;

pub struct ProcessEvent;

fn transient(e: sqlx::Error) -> JobError {
    JobError::transient(format!("database: {e}"))
}

#[async_trait]
impl JobHandler for ProcessEvent {
    async fn run(
        &self,
        db: &Db,
        _job_id: &str,
        payload: serde_json::Value,
    ) -> Result<(), JobError> {
        let Some(event_id) = Self::event_id(&payload) else {
            return Err(JobError::Permanent("the job names no event_id".into()));
        };
        let raw: Option<String> =
            sqlx::query_scalar("SELECT payload FROM stripe_events WHERE id = $1")
                .bind(event_id)
                .fetch_optional(db.pool())
                .await
                .map_err(transient)?;
        let Some(raw) = raw else {
            return Err(JobError::Permanent(format!(
                "event {event_id} is not stored"
            )));
        };
        let now = chrono::Utc::now().timestamp_millis();
        let event = match EventEnvelope::parse(raw.as_bytes()) {
            Ok(e) => e,
            Err(e) => {
                let message = format!("stored event cannot be read: {e}");
                mark(db, event_id, "failed", Some(&message), now)
                    .await
                    .map_err(transient)?;
                return Err(JobError::Permanent(message));
            }
        };
        let mut tx = db.begin().await.map_err(transient)?;
        mirror::apply_event(&mut tx, &event, now)
            .await
            .map_err(transient)?;
        sqlx::query(
            "UPDATE stripe_events SET status = 'processed', status_reason = NULL, processed_at = $1, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(event_id)
        .execute(&mut *tx)
        .await
        .map_err(transient)?;
        tx.commit().await.map_err(transient)?;
        Ok(())
    }

    async fn on_dead(
        &self,
        db: &Db,
        _job_id: &str,
        payload: serde_json::Value,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        match Self::event_id(&payload) {
            Some(id) => {
                mark(
                    db,
                    id,
                    "failed",
                    Some(error),
                    chrono::Utc::now().timestamp_millis(),
                )
                .await
            }
            None => Ok(()),
        }
    }
}

impl ProcessEvent {
    fn event_id(payload: &serde_json::Value) -> Option<&str> {
        payload.get("event_id").and_then(|v| v.as_str())
    }
}

async fn mark(
    db: &Db,
    event_id: &str,
    status: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE stripe_events SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(status)
    .bind(reason)
    .bind(now)
    .bind(event_id)
    .execute(db.pool())
    .await?;
    Ok(())
}
