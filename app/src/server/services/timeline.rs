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

/// The customer's history newest first: billing entries, staff actions from the audit log and
/// jobs that gave up, merged in one query so the page needs one round trip.
pub async fn read(
    db: &crate::server::db::Db,
    customer_id: &str,
    limit: i64,
) -> Result<Vec<crate::domain::TimelineEntry>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, at, source, kind, summary, amount, currency FROM ( \
           SELECT id, at, source, kind, summary, amount, currency FROM customer_events WHERE customer_id = $1 \
           UNION ALL \
           SELECT id, at, 'staff' AS source, action AS kind, \
                  actor_label || ': ' || action || CASE WHEN outcome = 'ok' THEN '' ELSE ' (' || outcome || ')' END AS summary, \
                  CAST(NULL AS BIGINT) AS amount, CAST(NULL AS TEXT) AS currency \
             FROM audit_log WHERE customer_id = $1 \
           UNION ALL \
           SELECT id, updated_at AS at, 'job' AS source, kind, \
                  'Job ' || kind || ' gave up: ' || COALESCE(last_error, 'no error recorded') AS summary, \
                  CAST(NULL AS BIGINT) AS amount, CAST(NULL AS TEXT) AS currency \
             FROM jobs WHERE customer_id = $1 AND status = 'dead' \
         ) t ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let amount: Option<i64> = r.try_get("amount")?;
            let currency: Option<String> = r.try_get("currency")?;
            Ok(crate::domain::TimelineEntry {
                id: r.try_get("id")?,
                at_ms: r.try_get("at")?,
                source: r.try_get("source")?,
                kind: r.try_get("kind")?,
                summary: r.try_get("summary")?,
                amount: amount
                    .zip(currency)
                    .map(|(a, c)| crate::domain::Money::new(a, c)),
            })
        })
        .collect()
}
