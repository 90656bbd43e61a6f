//! Applying one Stripe event to the mirror: the object's row (if not older than what is
//! stored), the customer link, a timeline entry for what staff care about, and the derived
//! account state — all in the caller's transaction.

use super::objects::{to_row, to_row_fetched, Row};
use super::{customers, upsert};
use crate::domain::AccountState;
use crate::server::db::Tx;
use crate::server::services::timeline;
use crate::server::stripe::EventEnvelope;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// The object's row was written (false: an older snapshot, skipped).
    pub written: bool,
    pub customer_id: Option<String>,
    pub state_change: Option<(AccountState, AccountState)>,
}

/// What the timeline says for an event type; None: mirrored only.
fn headline(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "customer.created" => "Became a Stripe customer",
        "customer.deleted" => "Stripe customer deleted",
        "customer.subscription.created" => "Subscription started",
        "customer.subscription.updated" => "Subscription changed",
        "customer.subscription.deleted" => "Subscription canceled",
        "customer.subscription.paused" => "Subscription paused",
        "customer.subscription.resumed" => "Subscription resumed",
        "customer.subscription.trial_will_end" => "Trial ends soon",
        "invoice.paid" => "Invoice paid",
        "invoice.payment_failed" => "Invoice payment failed",
        "invoice.payment_action_required" => "Payment needs customer action",
        "invoice.voided" => "Invoice voided",
        "invoice.marked_uncollectible" => "Invoice marked uncollectible",
        "charge.succeeded" => "Payment succeeded",
        "charge.failed" => "Payment failed",
        "charge.refunded" => "Payment refunded",
        "charge.dispute.created" => "Dispute opened",
        "charge.dispute.closed" => "Dispute closed",
        "refund.created" => "Refund created",
        "checkout.session.completed" => "Checkout completed",
        _ => return None,
    })
}

/// Applies `event`. `current` is the object as just fetched from Stripe (when an API key is
/// configured); it replaces the event's snapshot and counts as newer than any snapshot.
pub async fn apply(
    tx: &mut Tx,
    event: &EventEnvelope,
    current: Option<&serde_json::Value>,
    options: &super::Options,
    now_ms: i64,
) -> Result<Applied, sqlx::Error> {
    let key = options.user_id_key.as_str();
    let row = match current {
        Some(object) => to_row_fetched(object, now_ms / 1000, key),
        None => to_row(&event.object, event.created, key),
    };
    let (written, customer_id) =
        store(tx, row.as_ref(), event.stripe_customer.as_deref(), now_ms).await?;
    let Some(customer_id) = customer_id else {
        return Ok(Applied {
            written,
            ..Default::default()
        });
    };
    let at_ms = event.created * 1000;
    if let Some(text) = headline(&event.kind) {
        let amount = row.as_ref().and_then(|r| match r.table {
            "stripe_invoices" => r
                .get_i("amount_paid")
                .filter(|a| *a > 0)
                .or(r.get_i("amount_due")),
            "stripe_charges" if event.kind == "charge.refunded" => r.get_i("amount_refunded"),
            _ => r.get_i("amount").or(r.get_i("unit_amount")),
        });
        let status = row
            .as_ref()
            .and_then(|r| r.get_s("status"))
            .map(str::to_string);
        let summary = match (&status, event.kind.starts_with("customer.subscription.")) {
            (Some(s), true) => format!("{text} ({s})"),
            _ => text.to_string(),
        };
        timeline::record(
            tx,
            &timeline::Entry {
                id: format!("tl_{}", event.id.as_str()),
                customer_id: &customer_id,
                at_ms,
                source: "billing",
                kind: &event.kind,
                summary,
                ref_type: event.object_type.as_deref(),
                ref_id: event.object_id.as_deref(),
                amount,
                currency: row.as_ref().and_then(|r| r.get_s("currency")),
            },
            now_ms,
        )
        .await?;
    }
    let state_change = refresh_state(
        tx,
        &customer_id,
        at_ms,
        &format!("tl_state_{}", event.id.as_str()),
        now_ms,
    )
    .await?;
    Ok(Applied {
        written,
        customer_id: Some(customer_id),
        state_change,
    })
}

/// Writes `row` (if not older than what is stored) and links the Stripe customer it belongs to
/// (`stripe_customer`, or for refunds and disputes the customer of their mirrored charge).
/// Returns whether the row was written and the internal customer id.
pub async fn store(
    tx: &mut Tx,
    row: Option<&Row>,
    stripe_customer: Option<&str>,
    now_ms: i64,
) -> Result<(bool, Option<String>), sqlx::Error> {
    let written = match row {
        Some(row) => upsert(tx, row, now_ms).await?,
        None => false,
    };
    let stripe_customer = match (stripe_customer, row) {
        (Some(c), _) => Some(c.to_string()),
        (None, Some(r)) if matches!(r.table, "stripe_refunds" | "stripe_disputes") => {
            match r.get_s("charge_id") {
                Some(charge) => sqlx::query_scalar::<_, Option<String>>(
                    "SELECT stripe_customer_id FROM stripe_charges WHERE id = $1",
                )
                .bind(charge)
                .fetch_optional(&mut **tx)
                .await?
                .flatten(),
                None => None,
            }
        }
        _ => None,
    };
    let Some(stripe_customer) = stripe_customer else {
        return Ok((written, None));
    };
    let customer_id = customers::link(tx, &stripe_customer, now_ms).await?;
    if let Some(r) = row.filter(|r| r.table == "stripe_customers" && written) {
        let contact = customers::Contact {
            name: r.get_s("name"),
            email: r.get_s("email"),
            product_user_id: r.get_s("metadata_user_id"),
        };
        customers::fill_contact(tx, &customer_id, &contact, now_ms).await?;
    }
    Ok((written, Some(customer_id)))
}

/// Re-derives the account state; a change becomes a timeline entry with id `entry_id`.
pub async fn refresh_state(
    tx: &mut Tx,
    customer_id: &str,
    at_ms: i64,
    entry_id: &str,
    now_ms: i64,
) -> Result<Option<(AccountState, AccountState)>, sqlx::Error> {
    let change = customers::refresh_state(tx, customer_id, now_ms).await?;
    if let Some((before, after)) = change {
        timeline::record(
            tx,
            &timeline::Entry {
                id: entry_id.to_string(),
                customer_id,
                at_ms,
                source: "billing",
                kind: "account.state_changed",
                summary: format!("Account {} → {}", before.label(), after.label()),
                ref_type: Some("customer"),
                ref_id: Some(customer_id),
                amount: None,
                currency: None,
            },
            now_ms,
        )
        .await?;
    }
    Ok(change)
}
