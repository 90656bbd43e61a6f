//! Refunds end to end against the fixture-built Stripe fake: the remaining amount, the billing
//! limit with four-eyes approval, a 429 that only delays, and a replayed execution that Stripe's
//! Idempotency-Key turns into the same refund.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app_with, Backend, TestApp};
use crate::stripe_fake::{charge, FakeStripe};
use app::domain::Role;
use app::server::jobs::{self, RetryPolicy, RunOutcome};
use app::server::stripe::refunds;
use serde_json::json;

both_backends!(refunds_respect_the_remainder_the_limit_and_four_eyes);

const SECRET: &str = "whsec_refund_tests_0000000001";

async fn request(
    app: &TestApp,
    client: &reqwest::Client,
    charge: &str,
    amount: &str,
) -> (u16, serde_json::Value) {
    app.call_fn(
        client,
        "refund_request",
        &[
            ("charge_id", charge),
            ("amount", amount),
            ("reason", "requested_by_customer"),
            ("note", "Customer asked on chat"),
        ],
    )
    .await
}

/// Runs due jobs with a clock `ahead_ms` in the future (past any back-off).
async fn run_jobs(app: &TestApp, ahead_ms: i64) -> Vec<RunOutcome> {
    let registry = app::server::wiring::registry(&app.state.config, &app.state.connectors);
    let now = chrono::Utc::now().timestamp_millis() + ahead_ms;
    let mut out = Vec::new();
    while let Some((_, o)) = jobs::run_one(
        &app.state.db,
        &registry,
        "t",
        &RetryPolicy::default(),
        &|| now,
        0.5,
    )
    .await
    .unwrap()
    {
        out.push(o);
    }
    out
}

async fn refunds_respect_the_remainder_the_limit_and_four_eyes(backend: Backend) {
    let fake = FakeStripe::start().await;
    fake.state.lock().unwrap().charges.insert(
        "ch_F".into(),
        charge(json!({ "id": "ch_F", "customer": "cus_F", "amount": 2500, "amount_refunded": 0, "currency": "usd", "status": "succeeded", "paid": true, "refunded": false })),
    );
    let base = fake.url.clone();
    let Some(app) = spawn_app_with(backend, move |v| {
        v.insert(
            "STRIPE_API_KEY".into(),
            "sk_test_refunds_0000000000001".into(),
        );
        v.insert("STRIPE_API_BASE".into(), base);
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
        v.insert("REFUND_LIMIT_BILLING".into(), "1000".into());
    })
    .await
    else {
        return;
    };
    // The payment arrives by webhook; processing fetches it from the fake.
    let event = json!({ "id": "evt_ch_F", "object": "event", "type": "charge.succeeded", "created": 1_767_225_600,
        "livemode": false, "data": { "object": { "id": "ch_F", "object": "charge", "customer": "cus_F" } } });
    assert_eq!(app.deliver_stripe(SECRET, &event.to_string()).await, 200);
    assert_eq!(run_jobs(&app, 1).await, vec![RunOutcome::Succeeded]);

    let (support, _) = app.sign_in(Role::Support).await;
    assert_eq!(
        request(&app, &support, "ch_F", "1.00").await.0,
        403,
        "support has no refund action"
    );
    let (billing, billing_staff) = app.sign_in(Role::Billing).await;
    let (status, body) = request(&app, &billing, "ch_F", "30.00").await;
    assert_eq!(status, 422, "more than the payment: {body}");
    let (status, body) = request(&app, &billing, "ch_F", "0").await;
    assert_eq!(status, 422, "{body}");
    let (status, small) = request(&app, &billing, "ch_F", "6").await;
    assert_eq!(status, 200, "{small}");
    assert_eq!(small["status"], "approved", "within the billing limit");
    assert_eq!(small["amount"], 600, "typed in dollars, kept in cents");
    let (status, body) = request(&app, &billing, "ch_F", "1.005").await;
    assert_eq!(status, 422, "USD has cents, not mills: {body}");
    let (_, big) = request(&app, &billing, "ch_F", "15.00").await;
    assert_eq!(big["status"], "pending_approval", "over the limit waits");
    let big_id = big["id"].as_str().unwrap().to_string();
    let (status, body) = request(&app, &billing, "ch_F", "5.00").await;
    assert_eq!(status, 422, "600 + 1500 waiting leave 400: {body}");

    // Four eyes: the requester can never decide, whatever their role; billing cannot at all.
    let requester = app::server::actor::Actor::Staff {
        id: billing_staff.id.clone(),
        email: billing_staff.email.clone(),
        role: Role::Admin,
    };
    let own = refunds::decide(
        &app.state.db,
        &requester,
        &Default::default(),
        &big_id,
        true,
        0,
    )
    .await;
    assert!(matches!(own, Err(refunds::RefundError::OwnRequest)));
    let (status, _) = app
        .call_fn(
            &billing,
            "refund_decide",
            &[("id", &big_id), ("approve", "true")],
        )
        .await;
    assert_eq!(status, 403);
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (status, approved) = app
        .call_fn(
            &admin,
            "refund_decide",
            &[("id", &big_id), ("approve", "true")],
        )
        .await;
    assert_eq!(status, 200, "{approved}");

    // Stripe rate-limits the first call: the job retries later, nothing is lost.
    fake.state.lock().unwrap().fail_next.push(429);
    let first = run_jobs(&app, 1).await;
    assert!(
        first.iter().any(|o| matches!(o, RunOutcome::Retry { .. })),
        "{first:?}"
    );
    let later = run_jobs(&app, 2 * 3_600_000).await;
    assert!(
        later.iter().all(|o| *o == RunOutcome::Succeeded),
        "{later:?}"
    );

    let (_, list) = app
        .call_fn(&admin, "refund_list", &[("customer_id", "")])
        .await;
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|r| r["status"] == "executed"), "{list:?}");
    assert_eq!(fake.state.lock().unwrap().refunds_created, 2);
    let mirrored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM stripe_refunds WHERE charge_id = 'ch_F'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(mirrored, 2, "the mirror has Stripe's refunds");

    // A crash after Stripe answered but before we recorded it: the job runs again with the
    // same Idempotency-Key and Stripe answers with the same refund, not a second one.
    sqlx::query(
        "UPDATE refund_requests SET status = 'approved', stripe_refund_id = NULL WHERE id = $1",
    )
    .bind(&big_id)
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let mut job = jobs::NewJob::new(
        refunds::REFUND_JOB,
        json!({ "refund_request_id": big_id }),
        0,
    );
    job.dedupe_key = Some("replay".into());
    jobs::enqueue(&mut tx, job, 0).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(run_jobs(&app, 1).await, vec![RunOutcome::Succeeded]);
    assert_eq!(
        fake.state.lock().unwrap().refunds_created,
        2,
        "never refunded twice"
    );
    let (_, list) = app.call_fn(&admin, "refund_list", &[]).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "executed"));

    let (status, body) = request(&app, &billing, "ch_F", "5.00").await;
    assert_eq!(status, 422, "only 400 is left: {body}");
    assert!(
        body.to_string().contains("At most 4.00 USD"),
        "the remainder in the charge's currency: {body}"
    );
    let actions: Vec<String> = audit_entries(&app.state.db, "billing.refund")
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "billing.refund.requested",
        "billing.refund.approved",
        "billing.refund.executed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let denied = audit_entries(&app.state.db, "permission.denied").await;
    assert!(
        denied
            .iter()
            .any(|e| e.target_id.as_deref() == Some("/api/fn/refund_request")),
        "the forged request is audited"
    );
}
