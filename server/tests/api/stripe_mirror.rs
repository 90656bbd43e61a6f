//! The billing mirror fed by signed webhooks and the `stripe.process_event` job: objects built
//! from Stripe's published fixtures, account state through dunning and back, refunds linked
//! through their charge, and reordered duplicate deliveries ending where in-order ones do.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use app::server::jobs;
use serde_json::{json, Value};

both_backends!(
    a_failed_payment_enters_dunning_and_a_paid_invoice_clears_it,
    refunds_and_disputes_reach_the_customer_through_their_charge,
    reordered_duplicate_deliveries_end_like_one_in_order_delivery,
);

const SECRET: &str = "whsec_mirror_tests_000000000001";

pub(crate) fn fixture(kind: &str) -> Value {
    let all: Value =
        serde_json::from_str(include_str!("../fixtures/stripe/fixtures3.json")).unwrap();
    all["resources"][kind].clone()
}

/// Stripe's published example object of `kind` with `changes` laid over it.
pub(crate) fn object(kind: &str, changes: Value) -> Value {
    let mut o = fixture(kind);
    for (k, v) in changes.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

pub(crate) fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": created,
        "livemode": false, "type": kind, "data": { "object": object }
    })
    .to_string()
}

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
    })
    .await
}

async fn deliver(app: &TestApp, body: &str) {
    assert_eq!(app.deliver_stripe(SECRET, body).await, 200);
}

/// Runs every due job; each must succeed.
async fn process(app: &TestApp) {
    for (kind, outcome) in app.run_due_jobs().await {
        assert_eq!(outcome, jobs::RunOutcome::Succeeded, "{kind}");
    }
}

async fn state_of(app: &TestApp, stripe_customer: &str) -> String {
    sqlx::query_scalar(
        "SELECT c.account_state FROM customers c JOIN stripe_customers s ON s.customer_id = c.id WHERE s.id = $1",
    )
    .bind(stripe_customer)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

async fn timeline(app: &TestApp, stripe_customer: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT e.kind FROM customer_events e JOIN stripe_customers s ON s.customer_id = e.customer_id \
         WHERE s.id = $1 ORDER BY e.at, e.id",
    )
    .bind(stripe_customer)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap()
}

fn subscription(status: &str, period_start: i64) -> Value {
    object(
        "subscription",
        json!({ "id": "sub_A", "customer": "cus_A", "status": status, "current_period_start": period_start, "current_period_end": period_start + 2_592_000 }),
    )
}

fn invoice(status: &str, attempts: i64, paid: bool) -> Value {
    object(
        "invoice",
        json!({
            "id": "in_A", "customer": "cus_A", "status": status, "attempt_count": attempts,
            "amount_due": 2000, "amount_paid": if paid { 2000 } else { 0 },
            "amount_remaining": if paid { 0 } else { 2000 }, "currency": "eur",
            "status_transitions": { "finalized_at": 1_700_000_100, "paid_at": if paid { json!(1_700_000_900) } else { Value::Null }, "voided_at": null, "marked_uncollectible_at": null }
        }),
    )
}

async fn a_failed_payment_enters_dunning_and_a_paid_invoice_clears_it(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let customer = object(
        "customer",
        json!({ "id": "cus_A", "email": "Ada@Example.com", "name": "Ada" }),
    );
    deliver(
        &app,
        &event("evt_1", "customer.created", 1_700_000_000, customer),
    )
    .await;
    deliver(
        &app,
        &event(
            "evt_2",
            "customer.subscription.created",
            1_700_000_001,
            subscription("active", 1_700_000_000),
        ),
    )
    .await;
    process(&app).await;
    assert_eq!(state_of(&app, "cus_A").await, "active");
    let (name, email): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT c.name, c.email_normalized FROM customers c JOIN stripe_customers s ON s.customer_id = c.id WHERE s.id = 'cus_A'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (name.as_deref(), email.as_deref()),
        (Some("Ada"), Some("ada@example.com"))
    );

    deliver(
        &app,
        &event(
            "evt_3",
            "invoice.payment_failed",
            1_700_000_200,
            invoice("open", 1, false),
        ),
    )
    .await;
    process(&app).await;
    assert_eq!(
        state_of(&app, "cus_A").await,
        "past_due",
        "a failed payment means dunning"
    );

    deliver(
        &app,
        &event(
            "evt_4",
            "invoice.paid",
            1_700_000_900,
            invoice("paid", 2, true),
        ),
    )
    .await;
    process(&app).await;
    assert_eq!(
        state_of(&app, "cus_A").await,
        "active",
        "a paid invoice clears it"
    );
    assert_eq!(
        timeline(&app, "cus_A").await,
        vec![
            "customer.created",
            "customer.subscription.created",
            "account.state_changed",
            "invoice.payment_failed",
            "account.state_changed",
            "invoice.paid",
            "account.state_changed",
        ]
    );
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT id, status FROM stripe_events ORDER BY id")
            .fetch_all(app.state.db.pool())
            .await
            .unwrap();
    assert!(
        statuses.iter().all(|(_, s)| s == "processed"),
        "{statuses:?}"
    );
}

async fn refunds_and_disputes_reach_the_customer_through_their_charge(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let charge = object(
        "charge",
        json!({ "id": "ch_A", "customer": "cus_A", "amount": 5000, "amount_refunded": 0, "currency": "usd", "status": "succeeded", "paid": true, "refunded": false, "disputed": false }),
    );
    deliver(
        &app,
        &event("evt_c1", "charge.succeeded", 1_700_000_000, charge),
    )
    .await;
    process(&app).await;
    let refund = object(
        "refund",
        json!({ "id": "re_A", "charge": "ch_A", "amount": 1500, "currency": "usd", "status": "succeeded", "reason": "requested_by_customer" }),
    );
    deliver(
        &app,
        &event("evt_r1", "refund.created", 1_700_000_100, refund),
    )
    .await;
    let dispute = object(
        "dispute",
        json!({ "id": "dp_A", "charge": "ch_A", "amount": 3500, "currency": "usd", "status": "needs_response", "reason": "fraudulent" }),
    );
    deliver(
        &app,
        &event("evt_d1", "charge.dispute.created", 1_700_000_200, dispute),
    )
    .await;
    process(&app).await;
    assert_eq!(
        timeline(&app, "cus_A").await,
        vec![
            "charge.succeeded",
            "refund.created",
            "charge.dispute.created"
        ]
    );
    let (amount, currency): (i64, String) = sqlx::query_as(
        "SELECT amount, currency FROM customer_events WHERE kind = 'refund.created'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (amount, currency.as_str()),
        (1500, "usd"),
        "money in minor units with currency"
    );
}

/// The mirror's content, without bookkeeping columns.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id, status, COALESCE(current_period_start, -1) FROM stripe_subscriptions",
        "SELECT id, status, attempt_count FROM stripe_invoices",
        "SELECT s.id, c.account_state FROM stripe_customers s JOIN customers c ON c.id = s.customer_id",
    ] {
        let rows: Vec<(String, Option<String>, i64)> = if sql.contains("account_state") {
            sqlx::query_as::<_, (String, String)>(sql)
                .fetch_all(app.state.db.pool())
                .await
                .unwrap()
                .into_iter()
                .map(|(a, b)| (a, Some(b), 0))
                .collect()
        } else {
            sqlx::query_as(sql).fetch_all(app.state.db.pool()).await.unwrap()
        };
        out.extend(rows.into_iter().map(|r| format!("{r:?}")));
    }
    out.sort();
    out
}

async fn reordered_duplicate_deliveries_end_like_one_in_order_delivery(backend: Backend) {
    let events = vec![
        event(
            "evt_o1",
            "customer.subscription.created",
            1_700_000_001,
            subscription("active", 1_700_000_000),
        ),
        event(
            "evt_o2",
            "invoice.payment_failed",
            1_702_592_100,
            invoice("open", 1, false),
        ),
        event(
            "evt_o3",
            "customer.subscription.updated",
            1_702_592_200,
            subscription("past_due", 1_702_592_000),
        ),
        event(
            "evt_o4",
            "invoice.paid",
            1_702_600_000,
            invoice("paid", 2, true),
        ),
        event(
            "evt_o5",
            "customer.subscription.updated",
            1_702_600_001,
            subscription("active", 1_702_592_000),
        ),
    ];
    let Some(in_order) = app(backend).await else {
        return;
    };
    for e in &events {
        assert_eq!(in_order.deliver_stripe(SECRET, e).await, 200);
        process(&in_order).await;
    }
    let Some(shuffled) = app(backend).await else {
        return;
    };
    // Newest first, each twice, processed after every delivery: the worst order.
    for e in events.iter().rev().chain(events.iter()) {
        assert_eq!(shuffled.deliver_stripe(SECRET, e).await, 200);
        process(&shuffled).await;
    }
    let want = snapshot(&in_order).await;
    assert!(want.iter().any(|r| r.contains("\"active\"")), "{want:?}");
    assert_eq!(snapshot(&shuffled).await, want);
    let dupes: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(duplicate_count) AS BIGINT) FROM stripe_events")
            .fetch_one(shuffled.state.db.pool())
            .await
            .unwrap();
    assert_eq!(dupes, 5);
}
