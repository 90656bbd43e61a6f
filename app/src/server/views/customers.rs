//! Reading customers: the list staff search, and one customer's billing mirror, refund requests
//! and timeline in one view. Each entry point checks customer.read itself.

use crate::domain::{
    AccountState, ChargeView, CustomerActions, CustomerFilter, CustomerPage, CustomerSummary,
    CustomerView, InvoiceView, Money, Permission, StripeIdentity, SubscriptionView,
};
use crate::server::actor::{Actor, ReadError};
use crate::server::db::keyset::{next_cursor, Bind, ListQuery};
use crate::server::db::Db;
use crate::server::services::timeline;
use crate::server::stripe::refunds;
use sqlx::{any::AnyRow, Row};

pub const PAGE_SIZE: i64 = 50;
const RECENT_LIMIT: i64 = 25;

const SUMMARY: &str = "c.id, c.name, c.email, c.product_user_id, c.account_state, c.updated_at";

fn summary(r: &AnyRow) -> Result<CustomerSummary, sqlx::Error> {
    let state: String = r.try_get("account_state")?;
    Ok(CustomerSummary {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        product_user_id: r.try_get("product_user_id")?,
        state: AccountState::parse(&state).unwrap_or(AccountState::None),
        updated_at_ms: r.try_get("updated_at")?,
    })
}

/// LIKE pattern for "starts with", with the wildcards in the input taken literally.
fn prefix_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

/// Most recently changed first; the cursor is the last row's "updated_at:id".
pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: &CustomerFilter,
) -> Result<CustomerPage, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(list_rows(db, filter).await?)
}

async fn list_rows(db: &Db, filter: &CustomerFilter) -> Result<CustomerPage, sqlx::Error> {
    let mut q = ListQuery::new(format!("SELECT {SUMMARY} FROM customers c WHERE 1 = 1"));
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // One indexed lookup per kind of match, unioned: an exact id of any system, a ticket
        // number ("#1001"), or the start of an email or name (two characters or more, narrowed
        // by the index on the first two — see migration 0012).
        let lower = text.to_lowercase();
        let head: String = lower.chars().take(2).collect();
        let ticket = text.trim_start_matches('#').parse::<i64>().unwrap_or(-1);
        let mut arms = String::from(
            "SELECT id FROM customers WHERE id = ? \
             UNION SELECT id FROM customers WHERE product_user_id = ? \
             UNION SELECT id FROM customers WHERE crm_contact_id = ? \
             UNION SELECT customer_id FROM stripe_customers WHERE id = ? \
             UNION SELECT customer_id FROM tickets WHERE number = ?",
        );
        let mut binds: Vec<Bind> = vec![
            text.into(),
            text.into(),
            text.into(),
            text.into(),
            ticket.into(),
        ];
        if head.chars().count() == 2 {
            let pattern = prefix_pattern(&lower);
            arms.push_str(
                " UNION SELECT id FROM customers WHERE substr(email_normalized, 1, 2) = ? \
                   AND email_normalized LIKE ? ESCAPE '\\' \
                 UNION SELECT id FROM customers WHERE substr(lower(name), 1, 2) = ? \
                   AND lower(name) LIKE ? ESCAPE '\\'",
            );
            binds.extend([
                head.clone().into(),
                pattern.clone().into(),
                head.into(),
                pattern.into(),
            ]);
        }
        q.and(&format!(" AND c.id IN ({arms})"), binds);
    }
    if let Some(state) = filter.state {
        q.and(" AND c.account_state = ?", [state.as_str().into()]);
    }
    let rows = q
        .fetch_page(
            db,
            "c.updated_at",
            "c.id",
            filter.cursor.as_deref(),
            PAGE_SIZE,
        )
        .await?;
    let mut items = rows.iter().map(summary).collect::<Result<Vec<_>, _>>()?;
    let next_cursor = next_cursor(&mut items, PAGE_SIZE, |c| (c.updated_at_ms, &c.id));
    let typed = filter
        .q
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_lowercase();
    if items.is_empty() && filter.cursor.is_none() && typed.chars().count() >= 4 {
        let close = close_matches(db, &typed, filter.state).await?;
        return Ok(CustomerPage {
            close_matches: !close.is_empty(),
            items: close,
            next_cursor: None,
        });
    }
    Ok(CustomerPage {
        items,
        next_cursor,
        close_matches: false,
    })
}

/// How many customers sharing the first two characters a typo search looks through.
const TYPO_CANDIDATES: i64 = 5_000;

/// `a` and `b` are at most one edit apart (a wrong, missing or extra character). Linear, no
/// allocation: it runs over thousands of candidates per keystroke.
fn one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let same = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if same == short.len() {
        return true;
    }
    if short.len() == long.len() {
        short[same + 1..] == long[same + 1..]
    } else {
        short[same..] == long[same + 1..]
    }
}

/// `candidate` starts with something one edit away from `typed`.
fn near_prefix(candidate: &str, typed: &[char]) -> bool {
    let c: Vec<char> = candidate.chars().take(typed.len() + 1).collect();
    let n = typed.len();
    [n.saturating_sub(1), n, n + 1]
        .into_iter()
        .filter(|len| *len <= c.len())
        .any(|len| one_edit(&c[..len], typed))
}

/// Typo tolerance where it is cheap: when nothing matched, customers whose email or name starts
/// one edit away from what was typed, among those sharing its first two characters. Candidates
/// come straight from the two first-characters indexes; only the matches are read in full.
async fn close_matches(
    db: &Db,
    typed: &str,
    state: Option<crate::domain::AccountState>,
) -> Result<Vec<CustomerSummary>, sqlx::Error> {
    let head: String = typed.chars().take(2).collect();
    let typed: Vec<char> = typed.chars().collect();
    // One covering-index range scan each (migration 0013): no table lookups.
    let mut ids: Vec<String> = Vec::new();
    for sql in [
        "SELECT id, email_normalized FROM customers WHERE substr(email_normalized, 1, 2) = $1 LIMIT $2",
        "SELECT id, lower(name) FROM customers WHERE substr(lower(name), 1, 2) = $1 LIMIT $2",
    ] {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(sql)
            .bind(&head)
            .bind(TYPO_CANDIDATES)
            .fetch_all(db.pool())
            .await?;
        ids.extend(
            rows.into_iter()
                .filter(|(_, v)| v.as_deref().is_some_and(|v| near_prefix(v, &typed)))
                .map(|(id, _)| id),
        );
    }
    ids.sort();
    ids.dedup();
    ids.truncate(5 * PAGE_SIZE as usize);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 1)).collect();
    let state_clause = match state {
        Some(_) => format!(" AND c.account_state = ${}", ids.len() + 1),
        None => String::new(),
    };
    let sql = format!(
        "SELECT {SUMMARY} FROM customers c WHERE c.id IN ({}){state_clause} \
         ORDER BY c.updated_at DESC, c.id DESC LIMIT {PAGE_SIZE}",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(id);
    }
    if let Some(s) = state {
        q = q.bind(s.as_str());
    }
    q.fetch_all(db.pool()).await?.iter().map(summary).collect()
}

fn money(amount: Option<i64>, currency: &Option<String>) -> Option<Money> {
    Some(Money::new(amount?, currency.clone()?))
}

/// Everything the customer page shows; `actions` is left for the caller, who knows the viewer.
pub async fn view(
    db: &Db,
    actor: &Actor,
    config: &crate::server::Config,
    id: &str,
    timeline_source: Option<&'static str>,
    now_ms: i64,
) -> Result<Option<CustomerView>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    let Some(row) = sqlx::query(&format!(
        "SELECT {SUMMARY} FROM customers c WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let customer = summary(&row)?;
    let of_customer = "SELECT id FROM stripe_customers WHERE customer_id = $1";

    let stripe = sqlx::query(
        "SELECT id, livemode, deleted FROM stripe_customers WHERE customer_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(StripeIdentity {
            id: r.try_get("id")?,
            livemode: r.try_get::<i64, _>("livemode")? != 0,
            deleted: r.try_get::<i64, _>("deleted")? != 0,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let subscriptions = sqlx::query(&format!(
        "SELECT id, status, plan_name, unit_amount, currency, billing_interval, quantity, current_period_end, \
                trial_end, cancel_at_period_end, canceled_at FROM stripe_subscriptions \
         WHERE stripe_customer_id IN ({of_customer}) ORDER BY COALESCE(stripe_created, 0) DESC, id DESC"
    ))
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let currency: Option<String> = r.try_get("currency")?;
        Ok(SubscriptionView {
            id: r.try_get("id")?,
            status: r
                .try_get::<Option<String>, _>("status")?
                .unwrap_or_default(),
            plan_name: r.try_get("plan_name")?,
            price: money(r.try_get("unit_amount")?, &currency),
            interval: r.try_get("billing_interval")?,
            quantity: r.try_get("quantity")?,
            current_period_end_ms: r.try_get("current_period_end")?,
            trial_end_ms: r.try_get("trial_end")?,
            cancel_at_period_end: r.try_get::<i64, _>("cancel_at_period_end")? != 0,
            canceled_at_ms: r.try_get("canceled_at")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let invoices = sqlx::query(&format!(
        "SELECT id, number, status, currency, total, amount_remaining, attempt_count, next_payment_attempt, \
                hosted_invoice_url, stripe_created FROM stripe_invoices \
         WHERE stripe_customer_id IN ({of_customer}) ORDER BY COALESCE(stripe_created, 0) DESC, id DESC LIMIT $2"
    ))
    .bind(id)
    .bind(RECENT_LIMIT)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let currency: Option<String> = r.try_get("currency")?;
        Ok(InvoiceView {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            status: r.try_get("status")?,
            total: money(r.try_get("total")?, &currency),
            amount_remaining: money(r.try_get("amount_remaining")?, &currency),
            attempt_count: r.try_get::<Option<i64>, _>("attempt_count")?.unwrap_or(0),
            next_payment_attempt_ms: r.try_get("next_payment_attempt")?,
            hosted_url: r.try_get("hosted_invoice_url")?,
            created_ms: r.try_get("stripe_created")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let rows = sqlx::query(&format!(
        "SELECT c.id, c.amount, c.amount_refunded, c.currency, c.status, c.disputed, c.failure_message, \
                c.stripe_created, r.held, r.executed \
         FROM stripe_charges c LEFT JOIN ( \
             SELECT charge_id, {held_and_executed} FROM refund_requests GROUP BY charge_id \
         ) r ON r.charge_id = c.id \
         WHERE c.stripe_customer_id IN ({of_customer}) \
         ORDER BY COALESCE(c.stripe_created, 0) DESC, c.id DESC LIMIT $2",
        held_and_executed = refunds::HELD_AND_EXECUTED
    ))
    .bind(id)
    .bind(RECENT_LIMIT)
    .fetch_all(db.pool())
    .await?;
    let mut charges = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        let (Some(amount), Some(currency)) = (
            r.try_get::<Option<i64>, _>("amount")?,
            r.try_get::<Option<String>, _>("currency")?,
        ) else {
            continue;
        };
        let refunded = r.try_get::<Option<i64>, _>("amount_refunded")?.unwrap_or(0);
        let status: Option<String> = r.try_get("status")?;
        let refundable = if status.as_deref() == Some("succeeded") {
            refunds::left(amount, refunded, r.try_get("held")?, r.try_get("executed")?).max(0)
        } else {
            0
        };
        charges.push(ChargeView {
            id,
            amount: Money::new(amount, currency),
            refunded,
            refundable,
            status,
            disputed: r.try_get::<i64, _>("disputed")? != 0,
            failure_message: r.try_get("failure_message")?,
            created_ms: r.try_get("stripe_created")?,
        });
    }

    let lifetime_paid = sqlx::query(&format!(
        "SELECT currency, CAST(SUM(amount_paid) AS BIGINT) AS paid FROM stripe_invoices \
         WHERE stripe_customer_id IN ({of_customer}) AND status = 'paid' AND currency IS NOT NULL \
         GROUP BY currency ORDER BY currency"
    ))
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(Money::new(
            r.try_get::<Option<i64>, _>("paid")?.unwrap_or(0),
            r.try_get::<String, _>("currency")?,
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    // MRR per currency from the subscriptions being paid for (or owed).
    let mut mrr: Vec<Money> = Vec::new();
    for sub in subscriptions
        .iter()
        .filter(|s| crate::domain::billing::MRR_STATUSES.contains(&s.status.as_str()))
    {
        let (Some(price), Some(interval)) = (&sub.price, &sub.interval) else {
            continue;
        };
        let monthly = crate::domain::billing::monthly_minor(
            price.amount,
            sub.quantity.unwrap_or(1),
            interval,
            1,
        );
        match mrr.iter_mut().find(|m| m.currency == price.currency) {
            Some(m) => m.amount += monthly,
            None => mrr.push(Money::new(monthly, price.currency.clone())),
        }
    }

    Ok(Some(CustomerView {
        mrr,
        customer,
        stripe,
        subscriptions,
        invoices,
        charges,
        refunds: refunds::list(db, actor, None, Some(id)).await?,
        timeline: timeline::page(
            db,
            actor,
            id,
            timeline_source,
            None,
            timeline::PAGE_SIZE,
            now_ms,
        )
        .await?,
        lifetime_paid,
        actions: CustomerActions::default(),
        crm: crate::server::crm::panel::panel(db, config, id).await?,
        tickets: match actor.require(Permission::TicketRead) {
            Ok(()) => crate::server::tickets::inbox::for_customer(db, id, 10).await?,
            Err(_) => Vec::new(),
        },
        dead_jobs: crate::server::jobs::list(
            db,
            actor,
            &crate::domain::JobFilter {
                status: Some(crate::domain::JobStatus::Dead),
                customer_id: Some(id.to_string()),
                ..Default::default()
            },
            None,
            10,
        )
        .await?
        .jobs,
    }))
}

#[cfg(test)]
mod typo_tests {
    use super::{near_prefix as near, one_edit};

    fn near_prefix(candidate: &str, typed: &str) -> bool {
        near(candidate, &typed.chars().collect::<Vec<_>>())
    }

    #[test]
    fn one_edit_apart() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(one_edit(&c("grace"), &c("grace")));
        assert!(one_edit(&c("grace"), &c("grice")));
        assert!(one_edit(&c("grace"), &c("grce")));
        assert!(one_edit(&c("grce"), &c("grace")));
        assert!(one_edit(&c("grace"), &c("graces")));
        assert!(!one_edit(&c("grace"), &c("gricx")));
        assert!(!one_edit(&c("grace"), &c("gr")));
        assert!(!one_edit(&c("abc"), &c("bca")));
    }

    #[test]
    fn one_wrong_missing_or_extra_character_is_forgiven() {
        assert!(
            near_prefix("ada.lovelace@example.com", "ada.lovl"),
            "missing"
        );
        assert!(
            near_prefix("ada.lovelace@example.com", "ada.lovelacee"),
            "extra"
        );
        assert!(
            near_prefix("ada.lovelace@example.com", "ada.lpvel"),
            "wrong"
        );
        assert!(
            !near_prefix("ada.lovelace@example.com", "ada.lpvl"),
            "two edits"
        );
        assert!(
            !near_prefix("ada", "ada.lovelace"),
            "longer than the candidate"
        );
    }
}
