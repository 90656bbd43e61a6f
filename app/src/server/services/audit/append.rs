use super::chain::Canonical;
use crate::domain::Outcome;
use crate::server::actor::{Actor, RequestMeta};
use crate::server::db::{Db, Tx};
use crate::server::redact::redact;

/// One thing that happened, to be recorded.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub actor: &'a Actor,
    pub meta: &'a RequestMeta,
    /// Dotted, e.g. `staff.role_changed`, `billing.refund.executed`.
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub outcome: Outcome,
    /// Before/after for changes, error text for failures. Secret-looking keys are redacted.
    pub details: serde_json::Value,
}

impl<'a> NewEntry<'a> {
    pub fn new(actor: &'a Actor, meta: &'a RequestMeta, action: &'a str, outcome: Outcome) -> Self {
        NewEntry {
            actor,
            meta,
            action,
            target_type: None,
            target_id: None,
            customer_id: None,
            outcome,
            details: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn target(mut self, kind: &'a str, id: &'a str) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id);
        self
    }
    pub fn customer(mut self, id: &'a str) -> Self {
        self.customer_id = Some(id);
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends inside `tx`. Returns the entry's sequence number.
pub async fn append(tx: &mut Tx, entry: NewEntry<'_>, now_ms: i64) -> Result<i64, sqlx::Error> {
    // Locks the head row (PostgreSQL row lock; SQLite is already writing): the next writer
    // waits here until this transaction ends, so every entry links to the true predecessor.
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let mut details = entry.details;
    redact(&mut details);
    let details = details.to_string();
    let id = format!("aud_{}", uuid::Uuid::new_v4().simple());
    let actor_id = entry.actor.id().map(str::to_string);
    let actor_label = entry.actor.label();
    let canonical = Canonical {
        v: 1,
        seq,
        id: &id,
        at: now_ms,
        actor_kind: entry.actor.kind(),
        actor_id: actor_id.as_deref(),
        actor_label: &actor_label,
        action: entry.action,
        target_type: entry.target_type,
        target_id: entry.target_id,
        customer_id: entry.customer_id,
        request_id: entry.meta.request_id.as_deref(),
        ip: entry.meta.ip.as_deref(),
        user_agent: entry.meta.user_agent.as_deref(),
        outcome: entry.outcome.as_str(),
        details: &details,
        prev_hash: &prev_hash,
    };
    let hash = canonical.hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, id, at, actor_kind, actor_id, actor_label, action, target_type, \
         target_id, customer_id, request_id, ip, user_agent, outcome, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(seq)
    .bind(&id)
    .bind(now_ms)
    .bind(canonical.actor_kind)
    .bind(canonical.actor_id)
    .bind(canonical.actor_label)
    .bind(canonical.action)
    .bind(canonical.target_type)
    .bind(canonical.target_id)
    .bind(canonical.customer_id)
    .bind(canonical.request_id)
    .bind(canonical.ip)
    .bind(canonical.user_agent)
    .bind(canonical.outcome)
    .bind(&details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// Appends in a transaction of its own, for events with no other change to commit with
/// (a failed login, a permission denial).
pub async fn append_now(db: &Db, entry: NewEntry<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, entry, chrono::Utc::now().timestamp_millis()).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Records that `actor` was refused `method path` for want of `required`. The route guard and a
/// server function's own check both write it, so a refusal reads the same whichever wall held.
pub async fn permission_denied(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    route: &str,
    method: &str,
    path: &str,
    required: &str,
) {
    let entry = NewEntry::new(
        actor,
        meta,
        "permission.denied",
        crate::domain::Outcome::Denied,
    )
    .target("route", route)
    .details(serde_json::json!({ "method": method, "path": path, "required": required }));
    if let Err(e) = append_now(db, entry).await {
        tracing::error!(error = %e, "could not audit a permission denial");
    }
}
