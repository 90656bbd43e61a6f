//! The home page: KPIs, chart series and the attention list, each one aggregate query (bucketed
//! by integer division of the ms timestamps, which both backends do the same way).

use crate::domain::{
    AttentionGroup, AttentionItem, AttentionKind, Money, OverviewData, Permission, Point,
};
use crate::server::actor::{Actor, ReadError};
use crate::server::db::Db;
use crate::server::stripe::webhooks;
use sqlx::Row;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const ATTENTION_ITEMS: i64 = 5;

/// A subscription's monthly amount in SQL, as `domain::billing::monthly_minor` computes it
/// (interval count 1; the overview test checks the two agree).
const MONTHLY: &str = "(CASE billing_interval \
     WHEN 'month' THEN unit_amount * (CASE WHEN quantity IS NULL OR quantity < 1 THEN 1 ELSE quantity END) \
     WHEN 'year' THEN (unit_amount * (CASE WHEN quantity IS NULL OR quantity < 1 THEN 1 ELSE quantity END) + 6) / 12 \
     WHEN 'week' THEN (unit_amount * (CASE WHEN quantity IS NULL OR quantity < 1 THEN 1 ELSE quantity END) * 52 + 6) / 12 \
     WHEN 'day' THEN (unit_amount * (CASE WHEN quantity IS NULL OR quantity < 1 THEN 1 ELSE quantity END) * 365 + 6) / 12 \
     ELSE 0 END)";
/// When a subscription started paying: after its trial, if it had one.
const START: &str = "(CASE WHEN trial_end IS NOT NULL AND trial_end > COALESCE(stripe_created, 0) \
     THEN trial_end ELSE COALESCE(stripe_created, 0) END)";
/// Subscriptions whose dates say whether they paid at a time: current payers and ended ones.
const DATED: &str = "status IN ('active', 'past_due', 'unpaid', 'canceled') AND unit_amount IS NOT NULL AND currency IS NOT NULL";

fn monies(rows: Vec<(String, Option<i64>)>) -> Vec<Money> {
    let mut out: Vec<Money> = rows
        .into_iter()
        .map(|(c, a)| Money::new(a.unwrap_or(0), c))
        .filter(|m| m.amount != 0)
        .collect();
    out.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.currency.cmp(&b.currency)));
    out
}

async fn mrr_now(db: &Db) -> Result<Vec<Money>, sqlx::Error> {
    let rows = sqlx::query_as(&format!(
        "SELECT currency, CAST(SUM({MONTHLY}) AS BIGINT) FROM stripe_subscriptions \
         WHERE status IN ('active', 'past_due', 'unpaid') AND unit_amount IS NOT NULL AND currency IS NOT NULL \
         GROUP BY currency"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(monies(rows))
}

async fn mrr_at(db: &Db, at_ms: i64) -> Result<Vec<Money>, sqlx::Error> {
    let rows = sqlx::query_as(&format!(
        "SELECT currency, CAST(SUM({MONTHLY}) AS BIGINT) FROM stripe_subscriptions \
         WHERE {DATED} AND {START} <= $1 AND (ended_at IS NULL OR ended_at > $1) GROUP BY currency"
    ))
    .bind(at_ms)
    .fetch_all(db.pool())
    .await?;
    Ok(monies(rows))
}

/// MRR in `currency` at the end of each of the `days` days up to `now_ms`: the value at the
/// window's start plus each start and end inside it.
async fn mrr_daily(
    db: &Db,
    currency: &str,
    now_ms: i64,
    days: i64,
) -> Result<Vec<Point>, sqlx::Error> {
    let today = now_ms.div_euclid(DAY_MS);
    let first = today - days + 1;
    let from = first * DAY_MS;
    let base: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT CAST(SUM({MONTHLY}) AS BIGINT) FROM stripe_subscriptions \
         WHERE {DATED} AND currency = $1 AND {START} < $2 AND (ended_at IS NULL OR ended_at >= $2)"
    ))
    .bind(currency)
    .bind(from)
    .fetch_one(db.pool())
    .await?;
    let mut delta = vec![0i64; days as usize];
    for (column, sign) in [(START, 1i64), ("ended_at", -1i64)] {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT {column} / {DAY_MS} AS day, CAST(SUM({MONTHLY}) AS BIGINT) FROM stripe_subscriptions \
             WHERE {DATED} AND currency = $1 AND {column} >= $2 AND {column} <= $3 GROUP BY {column} / {DAY_MS}"
        ))
        .bind(currency)
        .bind(from)
        .bind(now_ms)
        .fetch_all(db.pool())
        .await?;
        for (day, amount) in rows {
            if let Some(slot) = delta.get_mut((day - first) as usize) {
                *slot += sign * amount.unwrap_or(0);
            }
        }
    }
    let mut running = base.unwrap_or(0);
    Ok(delta
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            running += d;
            Point {
                at_ms: (first + i as i64) * DAY_MS,
                value: running,
            }
        })
        .collect())
}

/// Counts per bucket of `width` ms over the last `n` buckets, zero-filled, oldest first.
fn buckets(rows: Vec<(i64, i64)>, now_ms: i64, width: i64, n: i64) -> Vec<Point> {
    let last = now_ms.div_euclid(width);
    (last - n + 1..=last)
        .map(|b| Point {
            at_ms: b * width,
            value: rows.iter().find(|(k, _)| *k == b).map_or(0, |(_, v)| *v),
        })
        .collect()
}

async fn count(db: &Db, sql: &str, bind: Option<i64>) -> Result<i64, sqlx::Error> {
    let mut q = sqlx::query_scalar(sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    q.fetch_one(db.pool()).await
}

async fn attention(db: &Db) -> Result<Vec<AttentionGroup>, sqlx::Error> {
    let title = "COALESCE(NULLIF(c.name, ''), c.email, c.id)";
    let queries: [(AttentionKind, String, String); 4] = [
        (
            AttentionKind::Dunning,
            "SELECT COUNT(*) FROM customers WHERE account_state IN ('past_due', 'unpaid')".into(),
            format!(
                "SELECT c.id, {title} AS title, c.account_state AS detail, c.updated_at AS at FROM customers c \
                 WHERE c.account_state IN ('past_due', 'unpaid') ORDER BY c.updated_at DESC, c.id LIMIT $1"
            ),
        ),
        (
            AttentionKind::IdentityConflict,
            "SELECT COUNT(*) FROM identity_conflicts WHERE status = 'open'".into(),
            format!(
                "SELECT c.id, {title} AS title, i.kind AS detail, i.updated_at AS at FROM identity_conflicts i \
                 JOIN customers c ON c.id = i.customer_id WHERE i.status = 'open' ORDER BY i.updated_at DESC, i.id LIMIT $1"
            ),
        ),
        (
            AttentionKind::Drift,
            "SELECT COUNT(DISTINCT customer_id) FROM crm_drift".into(),
            format!(
                "SELECT c.id, {title} AS title, MIN(d.field) AS detail, MAX(d.scanned_at) AS at FROM crm_drift d \
                 JOIN customers c ON c.id = d.customer_id GROUP BY c.id, c.name, c.email ORDER BY MAX(d.scanned_at) DESC, c.id LIMIT $1"
            ),
        ),
        (
            AttentionKind::DeadJob,
            "SELECT COUNT(*) FROM jobs WHERE status = 'dead' AND customer_id IS NOT NULL".into(),
            format!(
                "SELECT c.id, {title} AS title, j.kind AS detail, j.updated_at AS at FROM jobs j \
                 JOIN customers c ON c.id = j.customer_id WHERE j.status = 'dead' ORDER BY j.updated_at DESC, j.id LIMIT $1"
            ),
        ),
    ];
    let mut out = Vec::new();
    for (kind, total_sql, items_sql) in queries {
        let total = count(db, &total_sql, None).await?;
        let items = sqlx::query(&items_sql)
            .bind(ATTENTION_ITEMS)
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(AttentionItem {
                    kind,
                    customer_id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    detail: r
                        .try_get::<Option<String>, _>("detail")?
                        .unwrap_or_default(),
                    at_ms: r.try_get::<Option<i64>, _>("at")?.unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        out.push(AttentionGroup { kind, total, items });
    }
    Ok(out)
}

pub async fn overview(db: &Db, actor: &Actor, now_ms: i64) -> Result<OverviewData, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(overview_rows(db, now_ms).await?)
}

async fn overview_rows(db: &Db, now_ms: i64) -> Result<OverviewData, sqlx::Error> {
    let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
    let mrr = mrr_now(db).await?;
    let mrr_currency = mrr.first().map(|m| m.currency.clone());
    let mrr_daily = match &mrr_currency {
        Some(c) => mrr_daily(db, c, now_ms, 90).await?,
        None => Vec::new(),
    };
    let failed: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT stripe_created / {DAY_MS}, COUNT(*) FROM stripe_charges WHERE status = 'failed' AND stripe_created >= $1 \
         GROUP BY stripe_created / {DAY_MS}"
    ))
    .bind(today - 29 * DAY_MS)
    .fetch_all(db.pool())
    .await?;
    let hourly: Vec<(i64, Option<i64>, i64)> = sqlx::query_as(&format!(
        "SELECT received_at / {HOUR_MS}, CAST(SUM(CASE WHEN status = 'processed' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*) \
         FROM stripe_events WHERE received_at >= $1 AND status IN ('processed', 'failed') GROUP BY received_at / {HOUR_MS}"
    ))
    .bind((now_ms.div_euclid(HOUR_MS) - 23) * HOUR_MS)
    .fetch_all(db.pool())
    .await?;
    let refunds: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT currency, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM refund_requests \
         WHERE status = 'executed' AND updated_at >= $1 GROUP BY currency",
    )
    .bind(now_ms - 7 * DAY_MS)
    .fetch_all(db.pool())
    .await?;
    Ok(OverviewData {
        now_ms,
        mrr_30d_ago: mrr_at(db, now_ms - 30 * DAY_MS).await?,
        active_subscriptions: count(
            db,
            "SELECT COUNT(*) FROM stripe_subscriptions WHERE status = 'active'",
            None,
        )
        .await?,
        dunning_accounts: count(
            db,
            "SELECT COUNT(*) FROM customers WHERE account_state IN ('past_due', 'unpaid')",
            None,
        )
        .await?,
        failed_payments_today: failed
            .iter()
            .filter(|(d, _)| d * DAY_MS == today)
            .map(|(_, n)| n)
            .sum(),
        refunds_7d_count: refunds.iter().map(|r| r.2).sum(),
        refunds_7d: monies(refunds.into_iter().map(|(c, a, _)| (c, a)).collect()),
        urgent_tickets_open: count(
            db,
            &format!(
                "SELECT COUNT(*) FROM tickets WHERE queue = 'billing_urgent' AND status IN {}",
                crate::server::tickets::store::WAITING
            ),
            None,
        )
        .await?,
        webhooks_24h: webhooks::success_rate(db, now_ms - DAY_MS, now_ms).await?,
        jobs_waiting: count(
            db,
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'failed_retrying')",
            None,
        )
        .await?,
        jobs_dead: count(db, "SELECT COUNT(*) FROM jobs WHERE status = 'dead'", None).await?,
        mrr,
        mrr_currency,
        mrr_daily,
        failed_daily: buckets(failed, now_ms, DAY_MS, 30),
        webhooks_hourly: hourly
            .into_iter()
            .filter(|(_, _, n)| *n > 0)
            .map(|(h, ok, n)| Point {
                at_ms: h * HOUR_MS,
                value: ok.unwrap_or(0) * 1000 / n,
            })
            .collect(),
        attention: attention(db).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_zero_filled_oldest_first() {
        let now = 10 * DAY_MS + 5;
        let b = buckets(vec![(10, 2), (8, 1), (3, 9)], now, DAY_MS, 3);
        assert_eq!(
            b.iter()
                .map(|p| (p.at_ms / DAY_MS, p.value))
                .collect::<Vec<_>>(),
            [(8, 1), (9, 0), (10, 2)]
        );
    }
}
