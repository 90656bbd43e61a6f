//! The `stripe.process_event` job: apply a stored event to the mirror, exactly once in effect.
//! Processing an event twice (a retry after a crash, a replay) writes the same rows and
//! timeline ids again, so the result is the same.
//!
//! Stripe says to treat an event as a hint: with an API key configured the object is fetched
//! again and its current state applied; without one (demo, tests) the snapshot in the event
//! is applied, and the version rule keeps an older snapshot from overwriting newer state.

use super::api::{resource_path, ApiError, StripeApi};
use super::{mirror, EventEnvelope};
use crate::server::db::Db;
use crate::server::jobs::{JobError, JobHandler};
use async_trait::async_trait;

pub struct ProcessEvent {
    api: Option<StripeApi>,
    options: mirror::Options,
}

impl ProcessEvent {
    /// `api`: the client built once by the wiring, or None to apply snapshots as they came.
    pub fn new(api: Option<StripeApi>, options: mirror::Options) -> Self {
        ProcessEvent { api, options }
    }

    fn event_id(payload: &serde_json::Value) -> Option<&str> {
        payload.get("event_id").and_then(|v| v.as_str())
    }

    /// The object's current state from Stripe, or None to apply the snapshot (no API key, an
    /// object type we do not fetch, or one Stripe no longer has, e.g. a deleted customer).
    async fn current(&self, event: &EventEnvelope) -> Result<Option<serde_json::Value>, JobError> {
        let (Some(api), Some(kind), Some(id)) = (&self.api, &event.object_type, &event.object_id)
        else {
            return Ok(None);
        };
        if resource_path(kind).is_none() || event.kind.ends_with(".deleted") {
            return Ok(None);
        }
        match api.retrieve(kind, id).await {
            Ok(object) => Ok(Some(object)),
            Err(ApiError::NotFound) => Ok(None),
            Err(e) if e.is_transient() => Err(JobError::transient(e.to_string())),
            Err(e) => Err(JobError::Permanent(e.to_string())),
        }
    }
}

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
        let event = EventEnvelope::parse(raw.as_bytes())
            .map_err(|e| JobError::Permanent(format!("stored event cannot be read: {e}")))?;
        let current = self.current(&event).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let mut tx = db.begin().await.map_err(transient)?;
        let applied = mirror::apply_event(&mut tx, &event, current.as_ref(), &self.options, now)
            .await
            .map_err(transient)?;
        // Push customers whose mirror changed to the CRM, in the same transaction.
        if let (true, true, Some(customer)) =
            (self.options.crm_sync, applied.written, &applied.customer_id)
        {
            crate::server::crm::sync_queue::enqueue(&mut tx, customer, "billing", now)
                .await
                .map_err(transient)?;
        }
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

    /// Gave up: the event shows as failed, with the reason, until someone replays it.
    async fn on_dead(
        &self,
        db: &Db,
        _job_id: &str,
        payload: serde_json::Value,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        let Some(id) = Self::event_id(&payload) else {
            return Ok(());
        };
        sqlx::query("UPDATE stripe_events SET status = 'failed', status_reason = $1, updated_at = $2 WHERE id = $3")
            .bind(error)
            .bind(chrono::Utc::now().timestamp_millis())
            .bind(id)
            .execute(&mut *db.write().await?)
            .await?;
        Ok(())
    }
}
