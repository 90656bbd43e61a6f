//! The customer timeline: one table every source writes to (billing now; CRM, tickets, staff
//! actions and jobs as they land), read newest first by the customer page.

use crate::server::db::Tx;

#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Derived from what caused it (e.g. the Stripe event id), so recording twice is a no-op.
    pub id: String,
    pub customer_id: &'a str,
    /// When it happened, ms since the epoch, UTC.
    pub at_ms: i64,
    /// billing | crm | ticket | staff | job
    pub source: &'a str,
    /// Dotted, e.g. `invoice.payment_failed`, `account.state_changed`.
    pub kind: &'a str,
    pub summary: String,
    pub ref_type: Option<&'a str>,
    pub ref_id: Option<&'a str>,
    /// Minor units, with `currency`.
    pub amount: Option<i64>,
    pub currency: Option<&'a str>,
}

pub async fn record(tx: &mut Tx, e: &Entry<'_>, now_ms: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO customer_events (id, customer_id, at, source, kind, summary, ref_type, ref_id, amount, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&e.id)
    .bind(e.customer_id)
    .bind(e.at_ms)
    .bind(e.source)
    .bind(e.kind)
    .bind(&e.summary)
    .bind(e.ref_type)
    .bind(e.ref_id)
    .bind(e.amount)
    .bind(e.currency)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}
