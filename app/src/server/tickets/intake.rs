//! Creating a ticket from the intake API: identify the customer, snapshot the account, route,
//! store the ticket and its first message, and queue the side effects (CRM contact, help-desk
//! copy) in the same transaction. Retries with the same Idempotency-Key find the first ticket.

use super::enrich;
use super::request::TicketRequest;
use super::store::{self, RECEIPT_COLUMNS};
use crate::domain::tickets::{route, Signals, Snapshot, TicketReceipt, TicketStatus};
use crate::domain::Outcome;
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::Db;
use crate::server::jobs::{self, NewJob};
use crate::server::services::{audit, timeline};
use crate::server::Config;

/// Identical bodies from one key this close together count as one request (a double click),
/// when the caller sends no Idempotency-Key.
pub const AUTO_DEDUPE_WINDOW_MS: i64 = 10 * 60 * 1000;
pub const HELPDESK_COPY_JOB: &str = "helpdesk.copy";

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("Idempotency-Key must be 1 to 255 printable ASCII characters.")]
    BadIdempotencyKey,
    #[error("This Idempotency-Key was already used with a different request.")]
    KeyReused,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(IntakeError {
    internal: [Db],
    Self::BadIdempotencyKey => BAD_REQUEST,
    Self::KeyReused => UNPROCESSABLE_ENTITY,
});

impl IntakeError {
    /// What the refusal is counted under in the audit log; None for internal trouble, which is
    /// not the caller's doing.
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            IntakeError::BadIdempotencyKey => Some("bad_idempotency_key"),
            IntakeError::KeyReused => Some("idempotency_key_reused"),
            IntakeError::Db(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub receipt: TicketReceipt,
    /// The ticket existed already: this was a retry.
    pub replayed: bool,
}

fn idempotency_key(
    explicit: Option<&str>,
    digest: &str,
    now_ms: i64,
) -> Result<String, IntakeError> {
    match explicit {
        Some(k) if !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(format!("key:{k}"))
        }
        Some(_) => Err(IntakeError::BadIdempotencyKey),
        None => Ok(format!("auto:{digest}:{}", now_ms / AUTO_DEDUPE_WINDOW_MS)),
    }
}

/// The ticket a key already made under `idem`, if any; refuses a different request under it.
async fn existing(
    db: &Db,
    key_id: &str,
    idem: &str,
    digest: &str,
) -> Result<Option<TicketReceipt>, IntakeError> {
    let found = sqlx::query(&format!(
        "SELECT {RECEIPT_COLUMNS}, request_hash FROM tickets WHERE api_key_id = $1 AND idempotency_key = $2"
    ))
    .bind(key_id)
    .bind(idem)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = found else { return Ok(None) };
    let hash: String = sqlx::Row::try_get(&row, "request_hash")?;
    if hash != digest {
        return Err(IntakeError::KeyReused);
    }
    Ok(Some(store::receipt(&row)?))
}

pub async fn create(
    db: &Db,
    config: &Config,
    actor: &Actor,
    meta: &RequestMeta,
    req: &TicketRequest,
    explicit_key: Option<&str>,
    now_ms: i64,
) -> Result<Created, IntakeError> {
    let key_id = actor.id().unwrap_or("none").to_string();
    let digest = req.digest();
    let idem = idempotency_key(explicit_key, &digest, now_ms)?;
    if let Some(receipt) = existing(db, &key_id, &idem, &digest).await? {
        return replayed(db, actor, meta, receipt).await;
    }

    let mut tx = db.begin().await?;
    let who = enrich::identify(&mut tx, req, now_ms).await?;
    let mut snapshot = match &who.customer_id {
        Some(id) => enrich::snapshot(&mut tx, id, now_ms).await?,
        None => Snapshot::default(),
    };
    snapshot.identity = who.how.clone();
    snapshot.user_id = snapshot.user_id.or_else(|| req.user_id.clone());
    snapshot.app_context = req.context.clone();
    let routing = route(
        &Signals {
            dunning: snapshot.dunning,
            failed_payment_recent: snapshot.failed_payment_recent,
            open_dispute: snapshot.open_dispute,
            category: req.category,
            subject: &req.subject,
            message: &req.message,
        },
        &config.tickets.routing,
    );
    let number: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + 1 WHERE name = 'ticket' RETURNING value",
    )
    .fetch_one(&mut *tx)
    .await?;
    let id = format!("tkt_{}", uuid::Uuid::new_v4().simple());
    let sla_due = now_ms + routing.sla_minutes * 60_000;
    let inserted = sqlx::query(
        "INSERT INTO tickets (id, number, api_key_id, idempotency_key, request_hash, customer_id, product_user_id, \
           email, requester_name, subject, category, queue, priority, route_reasons, status, sla_due_at, snapshot, \
           created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
         ON CONFLICT (api_key_id, idempotency_key) DO NOTHING",
    )
    .bind(&id)
    .bind(number)
    .bind(&key_id)
    .bind(&idem)
    .bind(&digest)
    .bind(&who.customer_id)
    .bind(&req.user_id)
    .bind(req.email.as_ref().map(|e| e.as_str()))
    .bind(&req.name)
    .bind(&req.subject)
    .bind(req.category.map(|c| c.as_str()))
    .bind(routing.queue.as_str())
    .bind(routing.priority.as_str())
    .bind(serde_json::to_string(&routing.reasons).expect("strings serialize"))
    .bind(TicketStatus::Received.as_str())
    .bind(sla_due)
    .bind(serde_json::to_string(&snapshot).expect("snapshot serializes"))
    .bind(now_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // The same request, committed by a concurrent call while this one was working.
        tx.rollback().await?;
        let receipt = existing(db, &key_id, &idem, &digest)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        return replayed(db, actor, meta, receipt).await;
    }
    let author = req
        .email
        .as_ref()
        .map(|e| e.as_str().to_string())
        .or_else(|| req.user_id.clone())
        .unwrap_or_default();
    store::add_message(
        &mut tx,
        &id,
        "customer",
        &author,
        None,
        &req.message,
        now_ms,
    )
    .await?;
    if let Some(customer) = &who.customer_id {
        timeline::record(
            &mut tx,
            &timeline::Entry {
                id: format!("tl_ticket_{id}"),
                customer_id: customer,
                at_ms: now_ms,
                source: "ticket",
                kind: "ticket.received",
                summary: format!(
                    "Ticket #{number} received ({}): {}",
                    routing.queue.label(),
                    req.subject
                ),
                ref_type: Some("ticket"),
                ref_id: Some(&id),
                amount: None,
                currency: None,
            },
            now_ms,
        )
        .await?;
        if who.created && config.crm.enabled() {
            crate::server::crm::sync_queue::enqueue(&mut tx, customer, "signup", now_ms).await?;
        }
    }
    if config.tickets.helpdesk_enabled() {
        let mut job = NewJob::new(
            HELPDESK_COPY_JOB,
            serde_json::json!({ "ticket_id": id }),
            now_ms,
        );
        job.dedupe_key = Some(format!("{HELPDESK_COPY_JOB}:{id}"));
        job.customer_id = who.customer_id.clone();
        job.max_attempts = 25;
        jobs::enqueue(&mut tx, job, now_ms).await?;
    }
    let entry = audit::NewEntry::new(actor, meta, "ticket.received", Outcome::Ok)
        .target("ticket", &id)
        .details(serde_json::json!({
            "number": number,
            "queue": routing.queue.as_str(),
            "priority": routing.priority.as_str(),
            "customer_id": who.customer_id,
            "new_customer": who.created,
        }));
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(Created {
        receipt: TicketReceipt {
            id,
            number,
            status: TicketStatus::Received,
            queue: routing.queue,
            priority: routing.priority,
            sla_due_ms: sla_due,
            customer_id: who.customer_id,
        },
        replayed: false,
    })
}

async fn replayed(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    receipt: TicketReceipt,
) -> Result<Created, IntakeError> {
    let entry = audit::NewEntry::new(actor, meta, "ticket.replayed", Outcome::Ok)
        .target("ticket", &receipt.id)
        .details(serde_json::json!({ "number": receipt.number }));
    audit::append_now(db, entry).await?;
    Ok(Created {
        receipt,
        replayed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_keys_are_checked_and_auto_keys_expire() {
        assert_eq!(idempotency_key(Some("abc-1"), "d", 0).unwrap(), "key:abc-1");
        assert!(idempotency_key(Some(""), "d", 0).is_err());
        assert!(idempotency_key(Some("has space"), "d", 0).is_err());
        assert!(idempotency_key(Some(&"x".repeat(256)), "d", 0).is_err());
        let a = idempotency_key(None, "d", 1_000).unwrap();
        assert_eq!(a, idempotency_key(None, "d", 2_000).unwrap());
        assert_ne!(
            a,
            idempotency_key(None, "d", 1_000 + AUTO_DEDUPE_WINDOW_MS).unwrap()
        );
    }
}
