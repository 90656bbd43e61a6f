//! Refunds (billing.refund): validated against what is still refundable on the charge, within
//! the requester's limit or else waiting for a second person (billing.refund.approve, never
//! the requester), executed by a job whose Stripe call carries the request id as its
//! Idempotency-Key. Requested, approved, rejected, executed and failed are each audited.

use super::api::{ApiError, StripeApi};
use super::mirror::apply_fetched;
use crate::domain::{
    Money, Outcome, Permission, RefundRequestView, RefundStatus, Role, REFUND_REASONS,
};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::{Db, Tx};
use crate::server::jobs::{self, JobError, JobHandler, NewJob};
use crate::server::services::audit;
use sqlx::{any::AnyRow, AnyConnection, Row};
use std::collections::BTreeMap;

pub const REFUND_JOB: &str = "stripe.refund";

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("{0}")]
    Invalid(String),
    #[error("No such payment in the mirror.")]
    NoSuchCharge,
    #[error("No such refund request.")]
    NotFound,
    #[error("{0}")]
    WrongState(String),
    #[error("You cannot approve or reject your own refund request.")]
    OwnRequest,
    #[error("Stripe is not configured (STRIPE_API_KEY), so refunds cannot be made.")]
    NotConfigured,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(RefundError {
    denied: Denied,
    internal: [Db],
    Self::Invalid(_) => UNPROCESSABLE_ENTITY,
    Self::NoSuchCharge | Self::NotFound => NOT_FOUND,
    Self::OwnRequest => FORBIDDEN,
    _ => CONFLICT,
});

/// amount, amount_refunded, currency, status, Stripe customer.
type ChargeFacts = (
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub struct NewRefund<'a> {
    pub charge_id: &'a str,
    /// As staff typed it, in major units of the charge's currency ("12.50").
    pub amount: &'a str,
    pub reason: &'a str,
    pub note: &'a str,
    /// The form's one-time key: the same key from the same person returns the first request.
    pub request_key: Option<&'a str>,
}

fn valid_key(k: &str) -> bool {
    (8..=64).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn by_key(
    conn: &mut AnyConnection,
    actor: &Actor,
    key: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let Some(key) = key else { return Ok(None) };
    sqlx::query_scalar(
        "SELECT id FROM refund_requests WHERE requested_by = $1 AND request_key = $2",
    )
    .bind(actor.id().unwrap_or("system"))
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// The largest amount this role may refund alone; None = no limit.
pub fn limit_for(role: Option<Role>, billing_limit: i64) -> Option<i64> {
    match role {
        Some(Role::Admin) => None,
        _ => Some(billing_limit),
    }
}

const VIEW: &str = "id, customer_id, charge_id, amount, currency, reason, note, status, requested_by_label, decided_by, stripe_refund_id, error, created_at";

fn view(r: &AnyRow) -> Result<RefundRequestView, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(RefundRequestView {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        charge_id: r.try_get("charge_id")?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        reason: r.try_get("reason")?,
        note: r.try_get("note")?,
        status: RefundStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("refund status {status:?}").into()))?,
        requested_by: r.try_get("requested_by_label")?,
        decided_by: r.try_get("decided_by")?,
        stripe_refund_id: r.try_get("stripe_refund_id")?,
        error: r.try_get("error")?,
        created_at_ms: r.try_get("created_at")?,
    })
}

pub async fn get(db: &Db, id: &str) -> Result<RefundRequestView, RefundError> {
    let row = sqlx::query(&format!("SELECT {VIEW} FROM refund_requests WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(RefundError::NotFound)?;
    Ok(view(&row)?)
}

/// Newest first; `status` narrows it (e.g. the approvals queue).
pub async fn list(
    db: &Db,
    actor: &Actor,
    status: Option<RefundStatus>,
    customer_id: Option<&str>,
) -> Result<Vec<RefundRequestView>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(list_rows(db, status, customer_id).await?)
}

async fn list_rows(
    db: &Db,
    status: Option<RefundStatus>,
    customer_id: Option<&str>,
) -> Result<Vec<RefundRequestView>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {VIEW} FROM refund_requests WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR customer_id = $2) \
         ORDER BY created_at DESC, id DESC LIMIT 200"
    ))
    .bind(status.map(|s| s.as_str()))
    .bind(customer_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(view).collect()
}

async fn enqueue_execution(
    tx: &mut Tx,
    request_id: &str,
    customer: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut job = NewJob::new(
        REFUND_JOB,
        serde_json::json!({ "refund_request_id": request_id }),
        now,
    );
    job.dedupe_key = Some(format!("refund:{request_id}"));
    job.customer_id = customer.map(str::to_string);
    jobs::enqueue(tx, job, now).await?;
    Ok(())
}

/// Per charge, what refund requests hold (pending or approved) and what they executed, as
/// `held` and `executed`: the inputs of `left`.
pub const HELD_AND_EXECUTED: &str = "CAST(SUM(CASE WHEN status IN ('pending_approval', 'approved') THEN amount ELSE 0 END) AS BIGINT) AS held, \
     CAST(SUM(CASE WHEN status = 'executed' THEN amount ELSE 0 END) AS BIGINT) AS executed";

/// What a new request may still refund on a charge: its amount less what is refunded (the
/// mirror's figure, or executed requests whose webhook has not come yet, whichever is more)
/// and what pending or approved requests hold.
pub fn left(amount: i64, mirrored_refunded: i64, held: Option<i64>, executed: Option<i64>) -> i64 {
    amount - mirrored_refunded.max(executed.unwrap_or(0)) - held.unwrap_or(0)
}

async fn remaining(
    conn: &mut AnyConnection,
    charge_id: &str,
    amount: i64,
    mirrored_refunded: i64,
) -> Result<i64, sqlx::Error> {
    let (held, executed): (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
        "SELECT {HELD_AND_EXECUTED} FROM refund_requests WHERE charge_id = $1"
    ))
    .bind(charge_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(left(amount, mirrored_refunded, held, executed))
}

/// Records a refund request; executes it (through the job) at once when within the
/// requester's limit, otherwise leaves it waiting for approval.
pub async fn request(
    db: &Db,
    api_configured: bool,
    billing_limit: i64,
    actor: &Actor,
    meta: &RequestMeta,
    new: NewRefund<'_>,
    now: i64,
) -> Result<RefundRequestView, RefundError> {
    actor.require(Permission::BillingRefund)?;
    if !api_configured {
        return Err(RefundError::NotConfigured);
    }
    if new.request_key.is_some_and(|k| !valid_key(k)) {
        return Err(RefundError::Invalid(
            "The form's key is not valid; reload the page.".into(),
        ));
    }
    if !REFUND_REASONS.contains(&new.reason) {
        return Err(RefundError::Invalid(
            "Pick a reason: requested by customer, duplicate or fraudulent.".into(),
        ));
    }
    let note = new.note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(RefundError::Invalid(
            "Add an internal note (up to 500 characters) saying why.".into(),
        ));
    }
    let mut tx = db.begin().await?;
    // A second click (or a resent form) gets the first request back: nothing new is refunded.
    if let Some(first) = by_key(&mut tx, actor, new.request_key).await? {
        tx.rollback().await?;
        return get(db, &first).await;
    }
    let charge: Option<ChargeFacts> = sqlx::query_as(
        "SELECT amount, amount_refunded, currency, status, stripe_customer_id FROM stripe_charges WHERE id = $1",
    )
    .bind(new.charge_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (Some(amount), refunded, Some(currency), status, stripe_customer) =
        charge.ok_or(RefundError::NoSuchCharge)?
    else {
        return Err(RefundError::NoSuchCharge);
    };
    if status.as_deref() != Some("succeeded") {
        return Err(RefundError::WrongState(
            "Only a succeeded payment can be refunded.".into(),
        ));
    }
    let wanted = Money::parse_major(new.amount, &currency)
        .map_err(|e| RefundError::Invalid(e.to_string()))?
        .amount;
    if wanted <= 0 {
        return Err(RefundError::Invalid(
            "The amount must be more than zero.".into(),
        ));
    }
    let refundable = remaining(&mut tx, new.charge_id, amount, refunded.unwrap_or(0)).await?;
    if wanted > refundable {
        return Err(RefundError::Invalid(format!(
            "At most {} can still be refunded on this payment.",
            Money::new(refundable.max(0), currency)
        )));
    }
    let customer =
        super::mirror::customers::internal_id(&mut tx, stripe_customer.as_deref()).await?;
    let needs_approval = limit_for(actor.role(), billing_limit).is_some_and(|limit| wanted > limit);
    let status = if needs_approval {
        RefundStatus::PendingApproval
    } else {
        RefundStatus::Approved
    };
    let id = format!("rr_{}", uuid::Uuid::new_v4().simple());
    let inserted = sqlx::query(
        "INSERT INTO refund_requests (id, customer_id, charge_id, amount, currency, reason, note, status, requested_by, requested_by_label, created_at, updated_at, request_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
    )
    .bind(&id)
    .bind(&customer)
    .bind(new.charge_id)
    .bind(wanted)
    .bind(&currency)
    .bind(new.reason)
    .bind(note)
    .bind(status.as_str())
    .bind(actor.id().unwrap_or("system"))
    .bind(actor.label())
    .bind(now)
    .bind(new.request_key)
    .execute(&mut *tx)
    .await;
    // Two clicks racing on PostgreSQL: the loser meets the unique key and answers with the
    // winner's request.
    if let Err(sqlx::Error::Database(e)) = &inserted {
        if e.is_unique_violation() {
            tx.rollback().await?;
            let first = by_key(&mut *db.pool().acquire().await?, actor, new.request_key)
                .await?
                .ok_or(RefundError::NotFound)?;
            return get(db, &first).await;
        }
    }
    inserted?;
    let mut entry = audit::NewEntry::new(actor, meta, "billing.refund.requested", Outcome::Ok)
        .target("refund_request", &id)
        .details(serde_json::json!({
            "charge": new.charge_id, "amount": wanted, "currency": currency, "reason": new.reason,
            "note": note, "needs_approval": needs_approval,
        }));
    if let Some(c) = &customer {
        entry = entry.customer(c);
    }
    audit::append(&mut tx, entry, now).await?;
    if !needs_approval {
        enqueue_execution(&mut tx, &id, customer.as_deref(), now).await?;
    }
    tx.commit().await?;
    get(db, &id).await
}

/// Approves (then executes) or rejects a request waiting for approval. Four eyes: the
/// requester can do neither.
pub async fn decide(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    approve: bool,
    now: i64,
) -> Result<RefundRequestView, RefundError> {
    actor.require(Permission::BillingRefundApprove)?;
    let mut tx = db.begin().await?;
    let found: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT status, requested_by, customer_id FROM refund_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (status, requested_by, customer) = found.ok_or(RefundError::NotFound)?;
    if actor.id() == Some(requested_by.as_str()) {
        return Err(RefundError::OwnRequest);
    }
    if status != RefundStatus::PendingApproval.as_str() {
        return Err(RefundError::WrongState(
            "It is not waiting for approval.".into(),
        ));
    }
    let (to, action) = if approve {
        (RefundStatus::Approved, "billing.refund.approved")
    } else {
        (RefundStatus::Rejected, "billing.refund.rejected")
    };
    sqlx::query("UPDATE refund_requests SET status = $1, decided_by = $2, decided_at = $3, updated_at = $3 WHERE id = $4")
        .bind(to.as_str())
        .bind(actor.label())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let mut entry =
        audit::NewEntry::new(actor, meta, action, Outcome::Ok).target("refund_request", id);
    if let Some(c) = &customer {
        entry = entry.customer(c);
    }
    audit::append(&mut tx, entry, now).await?;
    if approve {
        enqueue_execution(&mut tx, id, customer.as_deref(), now).await?;
    }
    tx.commit().await?;
    get(db, id).await
}

/// The `stripe.refund` job.
pub struct RefundJob {
    api: Option<StripeApi>,
    options: super::mirror::Options,
}

impl RefundJob {
    pub fn new(api: Option<StripeApi>, options: super::mirror::Options) -> Self {
        RefundJob { api, options }
    }
}

async fn finish(
    db: &Db,
    options: &super::mirror::Options,
    id: &str,
    outcome: Result<&serde_json::Value, &str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let customer: Option<String> = sqlx::query_scalar::<_, Option<String>>(
        "SELECT customer_id FROM refund_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let (action, result) = match outcome {
        Ok(refund) => {
            apply_fetched(&mut tx, std::slice::from_ref(refund), options, now).await?;
            let refund_id = refund.get("id").and_then(|v| v.as_str());
            sqlx::query("UPDATE refund_requests SET status = 'executed', stripe_refund_id = $1, error = NULL, updated_at = $2 WHERE id = $3")
                .bind(refund_id)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            (
                "billing.refund.executed",
                (
                    Outcome::Ok,
                    serde_json::json!({ "stripe_refund": refund_id }),
                ),
            )
        }
        Err(error) => {
            sqlx::query("UPDATE refund_requests SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3")
                .bind(error)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            (
                "billing.refund.failed",
                (Outcome::Failed, serde_json::json!({ "error": error })),
            )
        }
    };
    let meta = RequestMeta::default();
    let mut entry = audit::NewEntry::new(&Actor::System, &meta, action, result.0)
        .target("refund_request", id)
        .details(result.1);
    if let Some(c) = &customer {
        entry = entry.customer(c);
    }
    audit::append(&mut tx, entry, now).await?;
    tx.commit().await
}

#[async_trait::async_trait]
impl JobHandler for RefundJob {
    async fn run(
        &self,
        db: &Db,
        _job_id: &str,
        payload: serde_json::Value,
    ) -> Result<(), JobError> {
        let Some(id) = payload.get("refund_request_id").and_then(|v| v.as_str()) else {
            return Err(JobError::Permanent(
                "the job names no refund request".into(),
            ));
        };
        let request = get(db, id)
            .await
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        if request.status != RefundStatus::Approved {
            return Ok(()); // already executed or decided otherwise: nothing to do
        }
        let api = self
            .api
            .as_ref()
            .ok_or_else(|| JobError::Permanent("STRIPE_API_KEY is not set".into()))?;
        let form = BTreeMap::from([
            ("charge", request.charge_id.clone()),
            ("amount", request.amount.to_string()),
            ("reason", request.reason.clone()),
            ("metadata[refund_request_id]", request.id.clone()),
        ]);
        let now = chrono::Utc::now().timestamp_millis();
        let db_err = |e: sqlx::Error| JobError::transient(format!("database: {e}"));
        match api.post_idempotent("/refunds", &form, &request.id).await {
            Ok(refund) => finish(db, &self.options, id, Ok(&refund), now)
                .await
                .map_err(db_err),
            Err(e) if e.is_transient() => Err(JobError::transient(e.to_string())),
            Err(e) => {
                let message = match &e {
                    ApiError::Refused { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                finish(db, &self.options, id, Err(&message), now)
                    .await
                    .map_err(db_err)?;
                Err(JobError::Permanent(message))
            }
        }
    }
}
