//! Accepting a verified event: store it raw and enqueue its processing in one transaction, then
//! acknowledge. Nothing slow happens here, so Stripe hears back in milliseconds.

use super::event::EventEnvelope;
use super::handled::is_handled;
use crate::server::config::StripeMode;
use crate::server::db::Db;
use crate::server::jobs::{self, NewJob};

pub const PROCESS_EVENT: &str = "stripe.process_event";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// New and handled: stored, processing job enqueued.
    Queued,
    /// New but of a type we do not mirror: stored and marked ignored.
    Ignored,
    /// New but from the other Stripe mode than our API key: stored, marked rejected, alerted.
    ModeMismatch,
    /// Seen before: counted, nothing else.
    Duplicate,
}

impl Received {
    pub fn as_str(self) -> &'static str {
        match self {
            Received::Queued => "queued",
            Received::Ignored => "ignored",
            Received::ModeMismatch => "rejected",
            Received::Duplicate => "duplicate",
        }
    }
}

/// Stores `event` (whose raw body is `raw`) unless its id is already stored.
/// `key_mode` is the mode of the configured API key; None accepts either mode.
pub async fn receive(
    db: &Db,
    event: &EventEnvelope,
    raw: &str,
    key_mode: Option<StripeMode>,
    now_ms: i64,
) -> Result<Received, sqlx::Error> {
    let event_mode = if event.livemode {
        StripeMode::Live
    } else {
        StripeMode::Test
    };
    let outcome = if key_mode.is_some_and(|m| m != event_mode) {
        Received::ModeMismatch
    } else if is_handled(&event.kind) {
        Received::Queued
    } else {
        Received::Ignored
    };
    let (status, reason) = match outcome {
        Received::Queued => ("received", None),
        Received::Ignored => ("ignored", Some("type not mirrored")),
        _ => ("rejected", Some("mode mismatch")),
    };
    let mut tx = db.begin().await?;
    // ON CONFLICT DO NOTHING: two concurrent deliveries of one event cannot both insert, and
    // the loser does not abort its transaction.
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, event_type, created, livemode, api_version, account, object_type, object_id, \
         stripe_customer_id, payload, status, status_reason, duplicate_count, received_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $13) ON CONFLICT (id) DO NOTHING",
    )
    .bind(event.id.as_str())
    .bind(&event.kind)
    .bind(event.created)
    .bind(event.livemode as i64)
    .bind(&event.api_version)
    .bind(&event.account)
    .bind(&event.object_type)
    .bind(&event.object_id)
    .bind(&event.stripe_customer)
    .bind(raw)
    .bind(status)
    .bind(reason)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        sqlx::query(
            "UPDATE stripe_events SET duplicate_count = duplicate_count + 1, updated_at = $1 WHERE id = $2",
        )
        .bind(now_ms)
        .bind(event.id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Received::Duplicate);
    }
    if outcome == Received::Queued {
        let mut job = NewJob::new(
            PROCESS_EVENT,
            serde_json::json!({ "event_id": event.id.as_str() }),
            now_ms,
        );
        job.dedupe_key = Some(format!("stripe_event:{}", event.id.as_str()));
        let job_id = jobs::enqueue(&mut tx, job, now_ms).await?;
        sqlx::query("UPDATE stripe_events SET job_id = $1 WHERE id = $2")
            .bind(job_id)
            .bind(event.id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}
