//! The customer timeline: one table every source writes to (billing, CRM, tickets), read merged
//! with staff actions from the audit log and jobs that gave up — newest first, filtered by
//! source, paged by keyset so page 50 costs what page 1 does.

use crate::domain::{Money, Permission, TimelineEntry, TimelinePage, TIMELINE_SOURCES};
use crate::server::actor::{Actor, ReadError};
use crate::server::db::keyset::{next_cursor, Cursor};
use crate::server::db::{Db, Tx};
use sqlx::Row;

pub const PAGE_SIZE: i64 = 50;

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

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("Unknown timeline source; use billing, crm, ticket, staff or job.")]
pub struct UnknownSource;

/// A source filter from user input: None for all, else one of `TIMELINE_SOURCES`.
pub fn parse_source(s: Option<&str>) -> Result<Option<&'static str>, UnknownSource> {
    match s.map(str::trim).filter(|s| !s.is_empty() && *s != "all") {
        None => Ok(None),
        Some(s) => TIMELINE_SOURCES
            .iter()
            .find(|(v, _)| *v == s)
            .map(|(v, _)| Some(*v))
            .ok_or(UnknownSource),
    }
}

/// One arm of the merged read: its own newest `limit` rows before the cursor ($2, $3), so each
/// arm walks its index and stops early.
fn arm(select: &str, from_where: &str, at: &str) -> String {
    format!(
        "SELECT * FROM (SELECT {select} FROM {from_where} AND ({at} < $2 OR ({at} = $2 AND id < $3)) \
         ORDER BY {at} DESC, id DESC LIMIT $4) AS a"
    )
}

/// A page of `customer_id`'s history, newest first, optionally from one source only.
pub async fn page(
    db: &Db,
    actor: &Actor,
    customer_id: &str,
    source: Option<&'static str>,
    cursor: Option<&str>,
    limit: i64,
    now_ms: i64,
) -> Result<TimelinePage, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(page_rows(db, customer_id, source, cursor, limit, now_ms).await?)
}

async fn page_rows(
    db: &Db,
    customer_id: &str,
    source: Option<&'static str>,
    cursor: Option<&str>,
    limit: i64,
    now_ms: i64,
) -> Result<TimelinePage, sqlx::Error> {
    // No cursor: start after the end of time.
    let after = cursor.and_then(Cursor::parse).unwrap_or(Cursor {
        at: i64::MAX,
        id: String::new(),
    });
    let mut arms = Vec::new();
    match source {
        None => arms.push(arm(
            "id, at, source, kind, summary, amount, currency, ref_type, ref_id",
            "customer_events WHERE customer_id = $1",
            "at",
        )),
        Some(s @ ("billing" | "crm" | "ticket")) => arms.push(arm(
            "id, at, source, kind, summary, amount, currency, ref_type, ref_id",
            &format!("customer_events WHERE customer_id = $1 AND source = '{s}'"),
            "at",
        )),
        _ => {}
    }
    if matches!(source, None | Some("staff")) {
        arms.push(arm(
            "id, at, 'staff' AS source, action AS kind, \
             actor_label || ': ' || action || CASE WHEN outcome = 'ok' THEN '' ELSE ' (' || outcome || ')' END AS summary, \
             CAST(NULL AS BIGINT) AS amount, CAST(NULL AS TEXT) AS currency, target_type AS ref_type, target_id AS ref_id",
            "audit_log WHERE customer_id = $1",
            "at",
        ));
    }
    if matches!(source, None | Some("job")) {
        arms.push(arm(
            "id, updated_at AS at, 'job' AS source, kind, \
             'Job ' || kind || ' gave up: ' || COALESCE(last_error, 'no error recorded') AS summary, \
             CAST(NULL AS BIGINT) AS amount, CAST(NULL AS TEXT) AS currency, 'job' AS ref_type, id AS ref_id",
            "jobs WHERE customer_id = $1 AND status = 'dead'",
            "updated_at",
        ));
    }
    let sql = format!(
        "SELECT id, at, source, kind, summary, amount, currency, ref_type, ref_id FROM ({}) t \
         ORDER BY at DESC, id DESC LIMIT $4",
        arms.join(" UNION ALL ")
    );
    let rows = sqlx::query(&sql)
        .bind(customer_id)
        .bind(after.at)
        .bind(after.id)
        .bind(limit + 1)
        .fetch_all(db.pool())
        .await?;
    let mut entries = rows
        .iter()
        .map(|r| {
            let amount: Option<i64> = r.try_get("amount")?;
            let currency: Option<String> = r.try_get("currency")?;
            Ok(TimelineEntry {
                id: r.try_get("id")?,
                at_ms: r.try_get("at")?,
                source: r.try_get("source")?,
                kind: r.try_get("kind")?,
                summary: r.try_get("summary")?,
                amount: amount.zip(currency).map(|(a, c)| Money::new(a, c)),
                ref_type: r.try_get("ref_type")?,
                ref_id: r.try_get("ref_id")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let next_cursor = next_cursor(&mut entries, limit, |e| (e.at_ms, &e.id));
    Ok(TimelinePage {
        entries,
        next_cursor,
        source: source.map(str::to_string),
        now_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_parsed_from_the_known_list_only() {
        assert_eq!(parse_source(None), Ok(None));
        assert_eq!(parse_source(Some(" ")), Ok(None));
        assert_eq!(parse_source(Some("all")), Ok(None));
        assert_eq!(parse_source(Some("ticket")), Ok(Some("ticket")));
        assert_eq!(parse_source(Some("tickets' OR 1=1")), Err(UnknownSource));
    }
}
