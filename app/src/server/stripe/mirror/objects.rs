//! Stripe objects → mirror rows, each with the version that decides whether it may replace
//! what is stored. Stripe neither orders nor deduplicates deliveries, so a snapshot is applied
//! only when its version is not older than the stored one. The rule per object type:
//!
//! - invoice: (status rank draft < open < paid|void|uncollectible, attempt_count, latest
//!   status transition time). Invoices only move forward.
//! - charge: (status rank pending < succeeded|failed, amount_refunded, disputed). Refunds and
//!   disputes only add.
//! - refund: (status rank pending|requires_action < succeeded|failed|canceled).
//! - dispute: (status rank needs_response|warning_needs_response < under_review|
//!   warning_under_review < won|lost|warning_closed).
//! - subscription: (ended: canceled|incomplete_expired, current_period_start, event created).
//!   An ended subscription never revives; a later period beats an earlier one; within one
//!   period the event's `created` breaks the tie (the object carries nothing finer).
//! - customer: (deleted, event created). Customers carry no version field, so within "not
//!   deleted" the event time decides; a deletion is final.
//!
//! Applying the current state fetched from Stripe goes through the same rule, so a fetch can
//! never be overtaken by an older snapshot arriving late.
//!
//! Stripe's `created` counts whole seconds, and one second often holds two snapshots of one
//! object (a renewal's period change and its failed payment, say). So that the mirror never
//! depends on which of those arrived last, a snapshot's version ends in a digest of the row's
//! content: two different snapshots never tie, and the same set of deliveries in any order
//! leaves the same rows (the kill -9 test checks this against an in-order run). An object
//! fetched from the API instead ends in a mark that beats every snapshot of its second. Subscriptions
//! first rank their status within the second, so the likelier later state wins: trialing or
//! incomplete < active < past_due < unpaid < paused.

use super::fields::{b, first_item, i, id_of, s, version};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    S(Option<String>),
    I(Option<i64>),
}

/// One mirror row ready to upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub table: &'static str,
    pub id: String,
    pub cols: Vec<(&'static str, Val)>,
    pub version: String,
}

impl Row {
    pub fn get_s(&self, col: &str) -> Option<&str> {
        self.cols
            .iter()
            .find(|(c, _)| *c == col)
            .and_then(|(_, v)| match v {
                Val::S(s) => s.as_deref(),
                Val::I(_) => None,
            })
    }
    pub fn get_i(&self, col: &str) -> Option<i64> {
        self.cols
            .iter()
            .find(|(c, _)| *c == col)
            .and_then(|(_, v)| match v {
                Val::I(i) => *i,
                Val::S(_) => None,
            })
    }
}

fn ms(secs: Option<i64>) -> Val {
    Val::I(secs.map(|t| t * 1000))
}

fn rank(status: Option<&str>, steps: &[&[&str]]) -> i64 {
    let status = status.unwrap_or("");
    steps
        .iter()
        .position(|group| group.contains(&status))
        .unwrap_or(0) as i64
}

/// Maps the object inside an event to its mirror row. `event_created` is the event's timestamp
/// (seconds), used only where the object has no version of its own.
/// `user_id_key` names the customer metadata entry holding the product's user id.
pub fn to_row(object: &Value, event_created: i64, user_id_key: &str) -> Option<Row> {
    let mut row = unsealed(object, event_created, user_id_key)?;
    row.version = format!("{}.{}.{}", row.version, version(&[0]), digest(&row.cols));
    Some(row)
}

/// Maps an object just fetched from the API, at `fetched_at` (seconds), to its mirror row.
/// It is the current state: it beats any snapshot of the same second, and a later fetch in the
/// same second replaces it (equal versions: the later write wins).
pub fn to_row_fetched(object: &Value, fetched_at: i64, user_id_key: &str) -> Option<Row> {
    let mut row = unsealed(object, fetched_at, user_id_key)?;
    row.version = format!("{}.{}", row.version, version(&[1]));
    Some(row)
}

fn unsealed(object: &Value, at: i64, user_id_key: &str) -> Option<Row> {
    let id = s(object, "id")?;
    let kind = s(object, "object")?;
    Some(match kind.as_str() {
        "customer" => customer(object, id, at, user_id_key),
        "subscription" => subscription(object, id, at),
        "invoice" => invoice(object, id),
        "charge" => charge(object, id),
        "refund" => refund(object, id),
        "dispute" => dispute(object, id),
        _ => return None,
    })
}

/// A digest of the row's content, the last tie-break between snapshots (module comment).
fn digest(cols: &[(&'static str, Val)]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, value) in cols {
        h.update(name.as_bytes());
        match value {
            Val::S(Some(s)) => h.update(format!("=s{}:{s};", s.len())),
            Val::I(Some(i)) => h.update(format!("=i{i};")),
            Val::S(None) | Val::I(None) => h.update(b"=null;"),
        }
    }
    hex::encode(&h.finalize()[..8])
}

fn customer(o: &Value, id: String, event_created: i64, user_id_key: &str) -> Row {
    let deleted = b(o, "deleted");
    let user_id = o
        .get("metadata")
        .and_then(|m| m.get(user_id_key))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    Row {
        table: "stripe_customers",
        version: version(&[deleted as i64, event_created]),
        cols: vec![
            ("email", Val::S(s(o, "email"))),
            ("name", Val::S(s(o, "name"))),
            ("currency", Val::S(s(o, "currency"))),
            ("delinquent", Val::I(Some(b(o, "delinquent") as i64))),
            ("deleted", Val::I(Some(deleted as i64))),
            ("livemode", Val::I(Some(b(o, "livemode") as i64))),
            ("metadata_user_id", Val::S(user_id)),
            ("stripe_created", ms(i(o, "created"))),
        ],
        id,
    }
}

fn subscription(o: &Value, id: String, event_created: i64) -> Row {
    let item = first_item(o, "items").unwrap_or(Value::Null);
    // Newer API versions keep the period and price on the item; older ones on the subscription.
    let period_start = i(o, "current_period_start").or_else(|| i(&item, "current_period_start"));
    let period_end = i(o, "current_period_end").or_else(|| i(&item, "current_period_end"));
    let price = item
        .get("price")
        .filter(|p| p.is_object())
        .or_else(|| item.get("plan"))
        .or_else(|| o.get("plan"))
        .cloned()
        .unwrap_or(Value::Null);
    let unit_amount = i(&price, "unit_amount").or_else(|| i(&price, "amount"));
    let interval = price
        .get("recurring")
        .and_then(|r| s(r, "interval"))
        .or_else(|| s(&price, "interval"));
    let status = s(o, "status");
    let ended = matches!(status.as_deref(), Some("canceled" | "incomplete_expired"));
    let quantity = i(&item, "quantity").or_else(|| i(o, "quantity"));
    Row {
        table: "stripe_subscriptions",
        version: version(&[
            ended as i64,
            period_start.unwrap_or(0),
            event_created,
            rank(
                status.as_deref(),
                &[
                    &["trialing", "incomplete"],
                    &["active"],
                    &["past_due"],
                    &["unpaid"],
                    &["paused"],
                ],
            ),
        ]),
        cols: vec![
            ("stripe_customer_id", Val::S(id_of(o, "customer"))),
            ("status", Val::S(status)),
            ("price_id", Val::S(s(&price, "id"))),
            ("product_id", Val::S(id_of(&price, "product"))),
            ("plan_name", Val::S(s(&price, "nickname"))),
            ("unit_amount", Val::I(unit_amount)),
            (
                "currency",
                Val::S(s(&price, "currency").or_else(|| s(o, "currency"))),
            ),
            ("billing_interval", Val::S(interval)),
            ("quantity", Val::I(quantity)),
            ("current_period_start", ms(period_start)),
            ("current_period_end", ms(period_end)),
            ("trial_start", ms(i(o, "trial_start"))),
            ("trial_end", ms(i(o, "trial_end"))),
            (
                "cancel_at_period_end",
                Val::I(Some(b(o, "cancel_at_period_end") as i64)),
            ),
            ("canceled_at", ms(i(o, "canceled_at"))),
            ("ended_at", ms(i(o, "ended_at"))),
            ("stripe_created", ms(i(o, "created"))),
        ],
        id,
    }
}

fn invoice(o: &Value, id: String) -> Row {
    let status = s(o, "status");
    let transitions = o.get("status_transitions").cloned().unwrap_or(Value::Null);
    let latest = [
        "finalized_at",
        "paid_at",
        "voided_at",
        "marked_uncollectible_at",
    ]
    .iter()
    .filter_map(|k| i(&transitions, k))
    .max()
    .unwrap_or(0);
    let r = rank(
        status.as_deref(),
        &[&["draft"], &["open"], &["paid", "void", "uncollectible"]],
    );
    // The subscription moved under `parent` in newer API versions.
    let subscription = id_of(o, "subscription").or_else(|| {
        o.get("parent")
            .and_then(|p| p.get("subscription_details"))
            .and_then(|d| id_of(d, "subscription"))
    });
    Row {
        table: "stripe_invoices",
        version: version(&[r, i(o, "attempt_count").unwrap_or(0), latest]),
        cols: vec![
            ("stripe_customer_id", Val::S(id_of(o, "customer"))),
            ("subscription_id", Val::S(subscription)),
            ("number", Val::S(s(o, "number"))),
            ("status", Val::S(status)),
            ("currency", Val::S(s(o, "currency"))),
            ("amount_due", Val::I(i(o, "amount_due"))),
            ("amount_paid", Val::I(i(o, "amount_paid"))),
            ("amount_remaining", Val::I(i(o, "amount_remaining"))),
            ("total", Val::I(i(o, "total"))),
            ("attempt_count", Val::I(i(o, "attempt_count"))),
            ("next_payment_attempt", ms(i(o, "next_payment_attempt"))),
            ("hosted_invoice_url", Val::S(s(o, "hosted_invoice_url"))),
            ("paid_at", ms(i(&transitions, "paid_at"))),
            ("stripe_created", ms(i(o, "created"))),
        ],
        id,
    }
}

fn charge(o: &Value, id: String) -> Row {
    let status = s(o, "status");
    let r = rank(status.as_deref(), &[&["pending"], &["succeeded", "failed"]]);
    Row {
        table: "stripe_charges",
        version: version(&[
            r,
            i(o, "amount_refunded").unwrap_or(0),
            b(o, "disputed") as i64,
        ]),
        cols: vec![
            ("stripe_customer_id", Val::S(id_of(o, "customer"))),
            ("payment_intent_id", Val::S(id_of(o, "payment_intent"))),
            ("invoice_id", Val::S(id_of(o, "invoice"))),
            ("amount", Val::I(i(o, "amount"))),
            ("amount_captured", Val::I(i(o, "amount_captured"))),
            ("amount_refunded", Val::I(i(o, "amount_refunded"))),
            ("currency", Val::S(s(o, "currency"))),
            ("status", Val::S(status)),
            ("paid", Val::I(Some(b(o, "paid") as i64))),
            ("refunded", Val::I(Some(b(o, "refunded") as i64))),
            ("disputed", Val::I(Some(b(o, "disputed") as i64))),
            ("failure_code", Val::S(s(o, "failure_code"))),
            ("failure_message", Val::S(s(o, "failure_message"))),
            ("stripe_created", ms(i(o, "created"))),
        ],
        id,
    }
}

/// What refunds and disputes share: a claim of some amount against a charge, with a reason.
fn charge_claim(o: &Value, status: Option<String>) -> Vec<(&'static str, Val)> {
    vec![
        ("charge_id", Val::S(id_of(o, "charge"))),
        ("amount", Val::I(i(o, "amount"))),
        ("currency", Val::S(s(o, "currency"))),
        ("status", Val::S(status)),
        ("reason", Val::S(s(o, "reason"))),
        ("stripe_created", ms(i(o, "created"))),
    ]
}

fn refund(o: &Value, id: String) -> Row {
    let status = s(o, "status");
    let r = rank(
        status.as_deref(),
        &[
            &["pending", "requires_action"],
            &["succeeded", "failed", "canceled"],
        ],
    );
    Row {
        table: "stripe_refunds",
        version: version(&[r]),
        cols: [
            vec![("payment_intent_id", Val::S(id_of(o, "payment_intent")))],
            charge_claim(o, status),
        ]
        .concat(),
        id,
    }
}

fn dispute(o: &Value, id: String) -> Row {
    let status = s(o, "status");
    let r = rank(
        status.as_deref(),
        &[
            &["needs_response", "warning_needs_response"],
            &["under_review", "warning_under_review"],
            &["won", "lost", "warning_closed"],
        ],
    );
    Row {
        table: "stripe_disputes",
        version: version(&[r]),
        cols: charge_claim(o, status),
        id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(kind: &str) -> Value {
        let all: Value = serde_json::from_str(include_str!(
            "../../../../../server/tests/fixtures/stripe/fixtures3.json"
        ))
        .unwrap();
        all["resources"][kind].clone()
    }

    #[test]
    fn stripes_published_objects_map_to_rows() {
        for kind in [
            "customer",
            "subscription",
            "invoice",
            "charge",
            "refund",
            "dispute",
        ] {
            let row = to_row(&fixture(kind), 1, "user_id").unwrap_or_else(|| panic!("{kind}"));
            assert!(row.id.len() > 3, "{kind}");
        }
        let sub = to_row(&fixture("subscription"), 1, "user_id").unwrap();
        assert_eq!(
            sub.get_s("price_id"),
            Some("price_1PgafmB7WZ01zgkW6dKueIc5")
        );
        assert_eq!(sub.get_i("unit_amount"), Some(2000));
        assert_eq!(sub.get_s("billing_interval"), Some("month"));
        assert!(
            to_row(&fixture("price"), 1, "user_id").is_none(),
            "not mirrored"
        );
    }

    #[test]
    fn versions_only_move_forward_with_the_objects_state() {
        let inv = |status: &str, attempts: i64| {
            to_row(&serde_json::json!({ "id": "in_1", "object": "invoice", "status": status, "attempt_count": attempts }), 0, "user_id")
                .unwrap()
                .version
        };
        assert!(inv("draft", 0) < inv("open", 0));
        assert!(inv("open", 1) < inv("open", 2));
        assert!(inv("open", 3) < inv("paid", 1));
        let sub = |status: &str, period: i64, created: i64| {
            to_row(&serde_json::json!({ "id": "sub_1", "object": "subscription", "status": status, "current_period_start": period }), created, "user_id")
                .unwrap()
                .version
        };
        assert!(sub("active", 100, 5) < sub("past_due", 100, 6));
        assert!(
            sub("past_due", 100, 9) < sub("active", 200, 1),
            "a later period wins"
        );
        assert!(
            sub("active", 300, 9) < sub("canceled", 100, 1),
            "ended is final"
        );
        assert!(
            sub("active", 100, 5) < sub("past_due", 100, 5),
            "within one second, the later lifecycle state wins"
        );
        let named_at = |name: &str, at: i64| {
            to_row(
                &serde_json::json!({ "id": "cus_1", "object": "customer", "name": name }),
                at,
                "user_id",
            )
            .unwrap()
            .version
        };
        let named = |name: &str| named_at(name, 7);
        assert_ne!(
            named("Ada"),
            named("Grace"),
            "different snapshots in one second never tie"
        );
        assert_eq!(
            named("Ada"),
            named("Ada"),
            "the same snapshot has the same version"
        );
        let fetched = |name: &str| {
            to_row_fetched(
                &serde_json::json!({ "id": "cus_1", "object": "customer", "name": name }),
                7,
                "user_id",
            )
            .unwrap()
            .version
        };
        assert!(
            named("Zed") < fetched("Ada"),
            "a fetch beats every snapshot of its second"
        );
        assert_eq!(
            fetched("Ada"),
            fetched("Grace"),
            "the later of two fetches wins (<=)"
        );
        assert!(
            fetched("Ada") < named_at("Ada", 8),
            "a later event beats an earlier fetch"
        );
    }
}
