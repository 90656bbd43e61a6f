//! Backfill against the fixture-built Stripe fake, for what localstripe cannot show: prices on
//! subscription items, canceled subscriptions (listed only with `status=all`), small pages, and
//! a 429 in the middle that neither loses nor repeats a page; then the admin's backfill job
//! meeting a 429 hands itself back to the queue's back-off and finishes later.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::stripe_fake::{charge, object, FakeStripe};
use app::domain::Role;
use app::server::jobs::{self, RetryPolicy, RunOutcome};
use app::server::stripe::{api::StripeApi, backfill};
use serde_json::json;

both_backends!(
    backfill_pages_through_a_rate_limit_without_losing_or_repeating_a_page,
    the_backfill_job_backs_off_on_a_rate_limit_and_finishes_later,
);

const KEY: &str = "sk_test_backfill_000000000001";

/// One customer on a 20.00/month price, one canceled subscription, 5 invoices, 5 payments.
fn stock(fake: &FakeStripe) {
    let mut s = fake.state.lock().unwrap();
    s.lists.insert(
        "customers".into(),
        vec![object(
            "customer",
            json!({ "id": "cus_B", "email": "bea@example.com", "name": "Bea", "livemode": false }),
        )],
    );
    let mut price = object("price", json!({ "unit_amount": 2000, "currency": "usd" }));
    price["recurring"]["interval"] = json!("month");
    let mut active = object(
        "subscription",
        json!({ "id": "sub_B1", "customer": "cus_B", "status": "active", "created": 1_700_000_500, "canceled_at": null, "ended_at": null, "cancel_at": null }),
    );
    active["items"]["data"][0]["price"] = price.clone();
    let mut canceled = object(
        "subscription",
        json!({ "id": "sub_B0", "customer": "cus_B", "status": "canceled", "created": 1_690_000_000, "canceled_at": 1_695_000_000 }),
    );
    canceled["items"]["data"][0]["price"] = price;
    s.lists
        .insert("subscriptions".into(), vec![active, canceled]);
    s.lists.insert(
        "invoices".into(),
        (0..5)
            .map(|n| {
                object(
                    "invoice",
                    json!({ "id": format!("in_B{n}"), "customer": "cus_B", "status": "paid", "amount_paid": 2000,
                            "amount_due": 2000, "amount_remaining": 0, "currency": "usd", "created": 1_700_000_000 - n }),
                )
            })
            .collect(),
    );
    for n in 0..5 {
        s.charges.insert(
            format!("ch_B{n}"),
            charge(json!({ "id": format!("ch_B{n}"), "customer": "cus_B", "amount": 2000, "amount_refunded": 0,
                           "currency": "usd", "status": "succeeded", "paid": true, "refunded": false, "created": 1_700_000_000 - n })),
        );
    }
    s.lists.insert(
        "refunds".into(),
        vec![object(
            "refund",
            json!({ "id": "re_B0", "charge": "ch_B0", "amount": 500, "currency": "usd", "status": "succeeded" }),
        )],
    );
}

async fn app(backend: Backend, fake: &FakeStripe) -> Option<TestApp> {
    let base = fake.url.clone();
    spawn_app_with(backend, move |v| {
        v.insert("STRIPE_API_KEY".into(), KEY.into());
        v.insert("STRIPE_API_BASE".into(), base);
    })
    .await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn mirror_counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in [
        "stripe_customers",
        "stripe_subscriptions",
        "stripe_invoices",
        "stripe_charges",
        "stripe_refunds",
        "customer_events",
    ] {
        out.push(count(app, t).await);
    }
    out
}

async fn backfill_pages_through_a_rate_limit_without_losing_or_repeating_a_page(backend: Backend) {
    let fake = FakeStripe::start().await;
    stock(&fake);
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    let api = StripeApi::new(&app::server::secret::Secret::new(KEY), &fake.url).unwrap();
    // Pages of 2: customers 1, subscriptions 1, invoices 3 (the second one is rate-limited).
    let mut requests = 0;
    let rate_limited_at = 4;
    let result = backfill::run(&app.state.db, &api, &Default::default(), 2, None, |_| {
        requests += 1;
        if requests == rate_limited_at - 1 {
            fake.state.lock().unwrap().fail_next.push(429);
        }
    })
    .await;
    assert!(
        matches!(&result, Err(backfill::BackfillError::Api(e)) if e.is_transient()),
        "a 429 stops the run as a transient error: {result:?}"
    );
    let stored: Vec<(String, Option<String>, i64)> =
        sqlx::query_as("SELECT resource, cursor, objects FROM stripe_backfill ORDER BY resource")
            .fetch_all(app.state.db.pool())
            .await
            .unwrap();
    assert!(
        stored.contains(&("invoice".into(), Some("in_B1".into()), 2)),
        "the cursor stays after the last applied page: {stored:?}"
    );

    let done = backfill::run(&app.state.db, &api, &Default::default(), 2, None, |_| {})
        .await
        .unwrap();
    assert!(done.iter().all(|p| p.done), "{done:?}");
    let invoice_cursors: Vec<Option<String>> = fake
        .state
        .lock()
        .unwrap()
        .list_requests
        .iter()
        .filter(|(l, _)| l == "invoices")
        .map(|(_, a)| a.clone())
        .collect();
    assert_eq!(
        invoice_cursors,
        vec![
            None,
            Some("in_B1".into()),
            Some("in_B1".into()),
            Some("in_B3".into())
        ],
        "resumed at the refused page: nothing skipped, nothing fetched twice"
    );
    assert_eq!(mirror_counts(&app).await[..5], [1, 2, 5, 5, 1]);

    let (price, currency, interval, canceled_at): (Option<i64>, Option<String>, Option<String>, Option<i64>) =
        sqlx::query_as(
            "SELECT unit_amount, currency, billing_interval, canceled_at FROM stripe_subscriptions WHERE id = 'sub_B1'",
        )
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(
        (price, currency.as_deref(), interval.as_deref(), canceled_at),
        (Some(2000), Some("usd"), Some("month"), None),
        "the price comes from the subscription item"
    );
    let state: String = sqlx::query_scalar(
        "SELECT c.account_state FROM customers c JOIN stripe_customers s ON s.customer_id = c.id WHERE s.id = 'cus_B'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        state, "active",
        "the canceled one does not hide the active one"
    );
    let refunded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM stripe_refunds WHERE charge_id = 'ch_B0'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(refunded, 1);

    // Twice changes nothing: same rows, no new timeline entries.
    let before = mirror_counts(&app).await;
    backfill::reset(&app.state.db).await.unwrap();
    backfill::run(&app.state.db, &api, &Default::default(), 2, None, |_| {})
        .await
        .unwrap();
    assert_eq!(mirror_counts(&app).await, before);
}

async fn the_backfill_job_backs_off_on_a_rate_limit_and_finishes_later(backend: Backend) {
    let fake = FakeStripe::start().await;
    stock(&fake);
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (status, body) = app.call_fn(&admin, "billing_backfill_start", &[]).await;
    assert_eq!(status, 200, "{body}");
    // Stripe refuses the first page: too many requests.
    fake.state.lock().unwrap().fail_next.push(429);
    let registry = app::server::wiring::registry(&app.state.config, &app.state.connectors);
    let policy = RetryPolicy::default();
    let now = chrono::Utc::now().timestamp_millis();
    let first = jobs::run_one(&app.state.db, &registry, "t", &policy, &|| now, 0.5)
        .await
        .unwrap();
    let (_, outcome) = first.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Retry { .. }),
        "a 429 is retried later, not fatal: {outcome:?}"
    );
    let (_, view) = app.call_fn(&admin, "billing_backfill_status", &[]).await;
    assert_eq!(view["running"], true, "the page still shows it as running");

    let later = now + 2 * 3_600_000;
    let second = jobs::run_one(&app.state.db, &registry, "t", &policy, &|| later, 0.5)
        .await
        .unwrap();
    assert_eq!(second.unwrap().1, RunOutcome::Succeeded);
    assert_eq!(mirror_counts(&app).await[..5], [1, 2, 5, 5, 1]);
    let (_, view) = app.call_fn(&admin, "billing_backfill_status", &[]).await;
    assert_eq!(view["running"], false);
    assert!(view["progress"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["done"] == true));
}
