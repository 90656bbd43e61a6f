//! The Webhooks page: delivery health, the event list, one event's payload, and replay.

use super::ingest::PROCESS_EVENT;
use crate::domain::{
    EventStatus, Outcome, Permission, SuccessRate, WebhookDetail, WebhookEventView, WebhookFilter,
    WebhookPage, WebhookStats,
};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::keyset::{next_cursor, ListQuery};
use crate::server::db::Db;
use crate::server::jobs::{self, NewJob};
use crate::server::services::audit;
use sqlx::{any::AnyRow, Row};

/// Events still queued this soon after arrival are in flight, not failing.
pub const IN_FLIGHT_MS: i64 = 5 * 60_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum WebhookAdminError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No such event.")]
    NotFound,
    #[error("{0}")]
    WrongState(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(WebhookAdminError {
    denied: Denied,
    internal: [Db],
    Self::NotFound => NOT_FOUND,
    _ => CONFLICT,
});

pub async fn success_rate(db: &Db, since_ms: i64, now_ms: i64) -> Result<SuccessRate, sqlx::Error> {
    let (processed, considered): (Option<i64>, i64) = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN status = 'processed' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*) FROM stripe_events \
         WHERE received_at >= $1 AND (status IN ('processed', 'failed') OR (status = 'received' AND received_at < $2))",
    )
    .bind(since_ms)
    .bind(now_ms - IN_FLIGHT_MS)
    .fetch_one(db.pool())
    .await?;
    Ok(SuccessRate {
        processed: processed.unwrap_or(0),
        considered,
    })
}

pub async fn mode_mismatches(db: &Db, since_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_events WHERE status = 'rejected' AND received_at >= $1",
    )
    .bind(since_ms)
    .fetch_one(db.pool())
    .await
}

pub async fn stats(db: &Db, actor: &Actor, now_ms: i64) -> Result<WebhookStats, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(stats_rows(db, now_ms).await?)
}

async fn stats_rows(db: &Db, now_ms: i64) -> Result<WebhookStats, sqlx::Error> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT status, COUNT(*), CAST(SUM(duplicate_count) AS BIGINT) FROM stripe_events GROUP BY status",
    )
    .fetch_all(db.pool())
    .await?;
    let by_status = EventStatus::ALL
        .iter()
        .map(|s| {
            let n = rows.iter().find(|r| r.0 == s.as_str()).map_or(0, |r| r.1);
            (*s, n)
        })
        .collect();
    Ok(WebhookStats {
        last_24h: success_rate(db, now_ms - DAY_MS, now_ms).await?,
        last_7d: success_rate(db, now_ms - 7 * DAY_MS, now_ms).await?,
        by_status,
        duplicates_dropped: rows.iter().filter_map(|r| r.2).sum(),
        mode_mismatches_7d: mode_mismatches(db, now_ms - 7 * DAY_MS).await?,
    })
}

const VIEW: &str = "e.id, e.event_type, e.status, e.status_reason, e.object_type, e.object_id, e.stripe_customer_id, \
    e.livemode, e.duplicate_count, e.received_at, e.processed_at, e.job_id, j.attempts, j.last_error";

fn view(r: &AnyRow) -> Result<WebhookEventView, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(WebhookEventView {
        id: r.try_get("id")?,
        event_type: r.try_get("event_type")?,
        status: EventStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown event status {status:?}").into())
        })?,
        status_reason: r.try_get("status_reason")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        stripe_customer: r.try_get("stripe_customer_id")?,
        livemode: r.try_get::<i64, _>("livemode")? != 0,
        duplicates: r.try_get("duplicate_count")?,
        received_at_ms: r.try_get("received_at")?,
        processed_at_ms: r.try_get("processed_at")?,
        job_id: r.try_get("job_id")?,
        attempts: r.try_get("attempts")?,
        job_error: r.try_get("last_error")?,
    })
}

/// Newest first; `before` is the previous page's cursor ("received_at:id").
pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: &WebhookFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<WebhookPage, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(list_rows(db, filter, before, limit).await?)
}

async fn list_rows(
    db: &Db,
    filter: &WebhookFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<WebhookPage, sqlx::Error> {
    let mut q = ListQuery::new(format!(
        "SELECT {VIEW} FROM stripe_events e LEFT JOIN jobs j ON j.id = e.job_id WHERE 1 = 1"
    ));
    if let Some(st) = filter.status {
        q.and(" AND e.status = ?", [st.as_str().into()]);
    }
    if let Some(t) = &filter.event_type {
        if let Some(prefix) = t.strip_suffix('.') {
            q.and(
                " AND e.event_type LIKE ?",
                [format!("{}.%", prefix.replace(['%', '_'], "")).into()],
            );
        } else {
            q.and(" AND e.event_type = ?", [t.clone().into()]);
        }
    }
    if let Some(c) = &filter.stripe_customer {
        // Written so each side matches one index on both backends: the customer index holds
        // events once they leave `received` (it is not written on the acknowledgement path),
        // and the few still waiting for processing come from the status index.
        q.and(
            " AND ((e.stripe_customer_id = ? AND e.status <> 'received') \
             OR (e.status = 'received' AND e.stripe_customer_id = ?))",
            [c.clone().into(), c.clone().into()],
        );
    }
    let rows = q
        .fetch_page(db, "e.received_at", "e.id", before, limit)
        .await?;
    let mut events = rows.iter().map(view).collect::<Result<Vec<_>, _>>()?;
    let next_before = next_cursor(&mut events, limit, |e| (e.received_at_ms, &e.id));
    Ok(WebhookPage {
        events,
        next_before,
    })
}

pub async fn detail(db: &Db, actor: &Actor, id: &str) -> Result<WebhookDetail, WebhookAdminError> {
    actor.require(Permission::CustomerRead)?;
    let can_replay = actor.require(Permission::WebhooksReplay).is_ok();
    let row = sqlx::query(&format!(
        "SELECT {VIEW}, e.payload, e.api_version FROM stripe_events e LEFT JOIN jobs j ON j.id = e.job_id WHERE e.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(WebhookAdminError::NotFound)?;
    let raw: String = row.try_get("payload")?;
    let payload = crate::server::redact::pretty_redacted(&raw);
    let event = view(&row)?;
    Ok(WebhookDetail {
        can_replay: can_replay && event.status.can_replay(),
        event,
        payload,
        api_version: row.try_get("api_version")?,
    })
}

/// Processes a stored event again (after a fix, or to re-apply it). Audited.
pub async fn replay(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    now_ms: i64,
) -> Result<String, WebhookAdminError> {
    actor.require(Permission::WebhooksReplay)?;
    let mut tx = db.begin().await?;
    let found: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT status, event_type, stripe_customer_id FROM stripe_events WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (status, event_type, stripe_customer) = found.ok_or(WebhookAdminError::NotFound)?;
    let status = EventStatus::parse(&status).unwrap_or(EventStatus::Ignored);
    if !status.can_replay() {
        return Err(WebhookAdminError::WrongState(match status {
            EventStatus::Rejected => {
                "It came from the other Stripe mode than the API key; it is never applied.".into()
            }
            _ => {
                "Ledgerline does not mirror this event type, so there is nothing to replay.".into()
            }
        }));
    }
    let mut job = NewJob::new(PROCESS_EVENT, serde_json::json!({ "event_id": id }), now_ms);
    job.dedupe_key = Some(format!("stripe_event:{id}"));
    let Some(job_id) = jobs::enqueue(&mut tx, job, now_ms).await? else {
        return Err(WebhookAdminError::WrongState(
            "It is already queued for processing.".into(),
        ));
    };
    sqlx::query(
        "UPDATE stripe_events SET status = 'received', status_reason = NULL, job_id = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(&job_id)
    .bind(now_ms)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let customer =
        super::mirror::customers::internal_id(&mut tx, stripe_customer.as_deref()).await?;
    let mut entry = audit::NewEntry::new(actor, meta, "webhooks.replayed", Outcome::Ok)
        .target("stripe_event", id)
        .details(serde_json::json!({ "type": event_type, "previous_status": status.as_str(), "job": job_id }));
    if let Some(c) = &customer {
        entry = entry.customer(c);
    }
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(job_id)
}
