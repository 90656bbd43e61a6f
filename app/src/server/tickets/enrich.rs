//! Who a ticket is from (the identity rules) and what their account looked like at that moment.
//! The snapshot is read again for the ticket page's "now" column, from the same function.

use super::request::TicketRequest;
use crate::domain::tickets::{BillingEventFact, PaymentFact, Snapshot};
use crate::domain::{AccountState, Money};
use crate::server::db::Tx;
use sqlx::{AnyConnection, Row};

/// Failed payments and disputes this recent make a ticket billing-urgent.
pub const LOOKBACK_MS: i64 = 30 * 24 * 3600 * 1000;
const OPEN_DISPUTE: &str =
    "('warning_needs_response', 'warning_under_review', 'needs_response', 'under_review')";
const FAILED_EVENTS: &str =
    "('invoice.payment_failed', 'charge.failed', 'payment_intent.payment_failed')";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub customer_id: Option<String>,
    /// A customer made for this ticket: the product told us of a user we had not met.
    pub created: bool,
    pub how: String,
}

/// The identity rules: the product's user id links first; an email links only when exactly one
/// customer has it and that customer is not someone else's user; otherwise the ticket stays
/// unlinked and says why. A requester nobody knows becomes a new customer.
pub async fn identify(
    tx: &mut Tx,
    req: &TicketRequest,
    now_ms: i64,
) -> Result<Identified, sqlx::Error> {
    if let Some(user) = &req.user_id {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE product_user_id = $1 ORDER BY created_at, id LIMIT 1",
        )
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = found {
            return Ok(Identified {
                customer_id: Some(id),
                created: false,
                how: "Matched by the product's user id.".into(),
            });
        }
    }
    if let Some(email) = &req.email {
        let owners: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, product_user_id FROM customers WHERE email_normalized = $1 ORDER BY created_at, id LIMIT 3",
        )
        .bind(email.as_str())
        .fetch_all(&mut **tx)
        .await?;
        match owners.as_slice() {
            [] => {}
            [(id, owner)] => {
                if owner.is_some() && req.user_id.is_some() && owner != &req.user_id {
                    return Ok(unlinked(
                        "The email belongs to a customer with a different user id; not linked.",
                    ));
                }
                if let Some(user) = &req.user_id {
                    sqlx::query(
                        "UPDATE customers SET product_user_id = $1, updated_at = $2 WHERE id = $3 AND product_user_id IS NULL",
                    )
                    .bind(user)
                    .bind(now_ms)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                }
                return Ok(Identified {
                    customer_id: Some(id.clone()),
                    created: false,
                    how: "Matched by email (one customer has it).".into(),
                });
            }
            _ => return Ok(unlinked(
                "Several customers share this email; not linked. Link it from the customer page.",
            )),
        }
    }
    let id = format!("cust_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO customers (id, name, email, email_normalized, product_user_id, account_state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'none', $6, $6)",
    )
    .bind(&id)
    .bind(&req.name)
    .bind(req.email.as_ref().map(|e| e.as_str()))
    .bind(req.email.as_ref().map(|e| e.as_str()))
    .bind(&req.user_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(Identified {
        customer_id: Some(id),
        created: true,
        how: "New customer: first heard of through this ticket.".into(),
    })
}

fn unlinked(how: &str) -> Identified {
    Identified {
        customer_id: None,
        created: false,
        how: how.into(),
    }
}

/// The customer's billing facts at `now_ms`, from the mirror.
pub async fn snapshot(
    conn: &mut AnyConnection,
    customer_id: &str,
    now_ms: i64,
) -> Result<Snapshot, sqlx::Error> {
    let since = now_ms - LOOKBACK_MS;
    let mut s = Snapshot {
        customer_id: Some(customer_id.to_string()),
        ..Default::default()
    };
    let of_customer = "SELECT id FROM stripe_customers WHERE customer_id = $1";
    if let Some(r) = sqlx::query(
        "SELECT product_user_id, account_state, \
           (SELECT COUNT(*) FROM stripe_customers WHERE customer_id = $1 AND delinquent = 1) AS delinquent \
         FROM customers WHERE id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?
    {
        let state: String = r.try_get("account_state")?;
        s.user_id = r.try_get("product_user_id")?;
        s.dunning =
            AccountState::parse(&state).is_some_and(AccountState::is_dunning)
                || r.try_get::<i64, _>("delinquent")? > 0;
        s.account_state = Some(state);
    }
    if let Some(r) = sqlx::query(&format!(
        "SELECT status, plan_name, unit_amount, currency FROM stripe_subscriptions \
         WHERE stripe_customer_id IN ({of_customer}) \
         ORDER BY CASE WHEN status IN ('active', 'trialing', 'past_due', 'unpaid') THEN 0 ELSE 1 END, \
                  COALESCE(stripe_created, 0) DESC, id DESC LIMIT 1"
    ))
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?
    {
        s.subscription_status = r.try_get("status")?;
        s.plan = r.try_get("plan_name")?;
        let amount: Option<i64> = r.try_get("unit_amount")?;
        let currency: Option<String> = r.try_get("currency")?;
        s.price = amount.zip(currency).map(|(a, c)| Money::new(a, c));
    }
    if let Some(r) = sqlx::query(&format!(
        "SELECT status, amount, currency, stripe_created FROM stripe_charges \
         WHERE stripe_customer_id IN ({of_customer}) AND amount IS NOT NULL AND currency IS NOT NULL \
         ORDER BY COALESCE(stripe_created, 0) DESC, id DESC LIMIT 1"
    ))
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?
    {
        s.last_payment = Some(PaymentFact {
            status: r
                .try_get::<Option<String>, _>("status")?
                .unwrap_or_else(|| "unknown".into()),
            amount: Money::new(r.try_get("amount")?, r.try_get::<String, _>("currency")?),
            at_ms: r.try_get("stripe_created")?,
        });
    }
    let r = sqlx::query(&format!(
        "SELECT \
           (SELECT COUNT(*) FROM stripe_charges WHERE stripe_customer_id IN ({of_customer}) \
              AND status = 'failed' AND stripe_created >= $2) \
         + (SELECT COUNT(*) FROM customer_events WHERE customer_id = $1 AND kind IN {FAILED_EVENTS} AND at >= $2) \
             AS failed, \
           (SELECT COUNT(*) FROM stripe_disputes d JOIN stripe_charges ch ON d.charge_id = ch.id \
              WHERE ch.stripe_customer_id IN ({of_customer}) AND d.status IN {OPEN_DISPUTE}) AS open_disputes, \
           (SELECT COUNT(*) FROM stripe_disputes d JOIN stripe_charges ch ON d.charge_id = ch.id \
              WHERE ch.stripe_customer_id IN ({of_customer}) AND d.stripe_created >= $2) AS recent_disputes, \
           (SELECT COUNT(*) FROM refund_requests WHERE customer_id = $1 AND status IN ('pending_approval', 'approved')) \
         + (SELECT COUNT(*) FROM stripe_refunds rf JOIN stripe_charges ch ON rf.charge_id = ch.id \
              WHERE ch.stripe_customer_id IN ({of_customer}) AND rf.status = 'pending') AS open_refunds"
    ))
    .bind(customer_id)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    s.failed_payment_recent = r.try_get::<i64, _>("failed")? > 0;
    s.open_disputes = r.try_get("open_disputes")?;
    s.open_dispute = s.open_disputes > 0 || r.try_get::<i64, _>("recent_disputes")? > 0;
    s.open_refunds = r.try_get("open_refunds")?;
    s.recent_events = sqlx::query(
        "SELECT at, kind, summary FROM customer_events WHERE customer_id = $1 AND source = 'billing' \
         ORDER BY at DESC, id DESC LIMIT 5",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(BillingEventFact {
            at_ms: r.try_get("at")?,
            kind: r.try_get("kind")?,
            summary: r.try_get("summary")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    Ok(s)
}
