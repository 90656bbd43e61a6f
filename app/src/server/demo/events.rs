//! Stripe-shaped objects for the demo, in the shape of Stripe's API (the fields the mirror reads).

use serde_json::{json, Value};

pub struct Plan {
    pub id: &'static str,
    pub name: &'static str,
    /// Minor units per interval.
    pub amount: i64,
    pub interval: &'static str,
}

pub const PLANS: [Plan; 4] = [
    Plan {
        id: "price_demo_starter",
        name: "Starter",
        amount: 1_900,
        interval: "month",
    },
    Plan {
        id: "price_demo_pro",
        name: "Pro",
        amount: 4_900,
        interval: "month",
    },
    Plan {
        id: "price_demo_business",
        name: "Business",
        amount: 19_900,
        interval: "month",
    },
    Plan {
        id: "price_demo_pro_annual",
        name: "Pro (annual)",
        amount: 49_000,
        interval: "year",
    },
];

pub fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": created,
        "livemode": false, "type": kind, "data": { "object": object }
    })
    .to_string()
}

pub fn customer(id: &str, name: &str, email: &str, user_id: &str, created: i64) -> Value {
    json!({
        "id": id, "object": "customer", "name": name, "email": email, "created": created,
        "currency": "usd", "delinquent": false, "livemode": false,
        "metadata": { "user_id": user_id }
    })
}

#[allow(clippy::too_many_arguments)]
pub fn subscription(
    id: &str,
    customer: &str,
    plan: &Plan,
    status: &str,
    created: i64,
    period_start: i64,
    trial_end: Option<i64>,
    ended: Option<i64>,
) -> Value {
    let period = if plan.interval == "year" {
        365 * 86_400
    } else {
        30 * 86_400
    };
    json!({
        "id": id, "object": "subscription", "customer": customer, "status": status, "created": created,
        "current_period_start": period_start, "current_period_end": period_start + period,
        "trial_start": trial_end.map(|_| created), "trial_end": trial_end,
        "cancel_at_period_end": false, "canceled_at": ended, "ended_at": ended, "livemode": false,
        "items": { "object": "list", "data": [{
            "id": format!("si_{id}"), "object": "subscription_item", "quantity": 1,
            "price": { "id": plan.id, "object": "price", "nickname": plan.name, "unit_amount": plan.amount,
                       "currency": "usd", "recurring": { "interval": plan.interval, "interval_count": 1 } }
        }] }
    })
}

/// "in_demo1_00023_010" → "DEMO-00023-010": customer and month, as people read them.
fn number(id: &str) -> String {
    let mut parts = id.rsplit('_');
    let (month, customer) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    format!("DEMO-{customer}-{month}")
}

pub fn invoice(
    id: &str,
    customer: &str,
    sub: &str,
    amount: i64,
    status: &str,
    attempts: i64,
    created: i64,
) -> Value {
    let paid = status == "paid";
    json!({
        "id": id, "object": "invoice", "customer": customer, "subscription": sub, "status": status,
        "number": number(id), "currency": "usd",
        "amount_due": amount, "amount_paid": if paid { amount } else { 0 },
        "amount_remaining": if paid { 0 } else { amount }, "total": amount, "attempt_count": attempts,
        "next_payment_attempt": if paid { Value::Null } else { json!(created + 3 * 86_400) },
        "created": created, "livemode": false,
        "status_transitions": { "finalized_at": created, "paid_at": if paid { json!(created + 60) } else { Value::Null },
                                "voided_at": null, "marked_uncollectible_at": null }
    })
}

pub fn charge(
    id: &str,
    customer: &str,
    invoice: &str,
    amount: i64,
    status: &str,
    refunded: i64,
    created: i64,
) -> Value {
    json!({
        "id": id, "object": "charge", "customer": customer, "invoice": invoice, "amount": amount,
        "amount_captured": if status == "succeeded" { amount } else { 0 }, "amount_refunded": refunded,
        "currency": "usd", "status": status, "paid": status == "succeeded", "refunded": refunded >= amount && refunded > 0,
        "disputed": false, "created": created, "livemode": false,
        "failure_code": if status == "failed" { json!("card_declined") } else { Value::Null },
        "failure_message": if status == "failed" { json!("Your card was declined.") } else { Value::Null }
    })
}

pub fn dispute(id: &str, charge: &str, amount: i64, created: i64) -> Value {
    json!({
        "id": id, "object": "dispute", "charge": charge, "amount": amount, "currency": "usd",
        "status": "needs_response", "reason": "product_not_received", "created": created, "livemode": false
    })
}
