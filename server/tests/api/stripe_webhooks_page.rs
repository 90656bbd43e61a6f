//! The Webhooks page over HTTP: delivery health and rates, filters, a failed event replayed
//! by an admin (audited; others refused), and /api/ready degrading on trouble.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app_with, Backend, TestApp};
use app::domain::Role;

both_backends!(
    health_list_and_filters_show_deliveries,
    a_failed_event_is_replayed_by_an_admin_only,
    readiness_degrades_on_mode_mismatch,
    the_customer_filter_finds_events_before_and_after_processing,
);

const SECRET: &str = "whsec_page_tests_00000000000001";

async fn app(backend: Backend, extra: &[(&'static str, &'static str)]) -> Option<TestApp> {
    let extra = extra.to_vec();
    spawn_app_with(backend, move |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
        for (k, val) in extra {
            v.insert(k.into(), val.into());
        }
    })
    .await
}

fn event(id: &str, kind: &str, livemode: bool) -> String {
    event_for(id, kind, livemode, "cus_P")
}

fn event_for(id: &str, kind: &str, livemode: bool, customer: &str) -> String {
    serde_json::json!({
        "id": id, "object": "event", "created": 1_767_225_600, "livemode": livemode, "type": kind,
        "data": { "object": { "id": "in_P", "object": "invoice", "customer": customer, "status": "paid",
                  "attempt_count": 1, "amount_due": 900, "amount_paid": 900, "amount_remaining": 0, "currency": "gbp",
                  "metadata": { "api_token": "tok_should_not_show" } } }
    })
    .to_string()
}

/// Makes the stored event unreadable, as a processing bug would, so its job dies.
async fn break_event(app: &TestApp, id: &str) {
    sqlx::query("UPDATE stripe_events SET payload = '{\"broken\": true}' WHERE id = $1")
        .bind(id)
        .execute(app.state.db.pool())
        .await
        .unwrap();
}

async fn health_list_and_filters_show_deliveries(backend: Backend) {
    let Some(app) = app(backend, &[]).await else {
        return;
    };
    for i in 0..3 {
        assert_eq!(
            app.deliver_stripe(
                SECRET,
                &event(&format!("evt_ok_{i}"), "invoice.paid", false)
            )
            .await,
            200
        );
    }
    assert_eq!(
        app.deliver_stripe(SECRET, &event("evt_ok_0", "invoice.paid", false))
            .await,
        200
    ); // a redelivery
    assert_eq!(
        app.deliver_stripe(SECRET, &event("evt_bad", "invoice.paid", false))
            .await,
        200
    );
    assert_eq!(
        app.deliver_stripe(SECRET, &event("evt_plan", "plan.created", false))
            .await,
        200
    );
    break_event(&app, "evt_bad").await;
    app.run_due_jobs().await;
    // Count them as past the in-flight window.
    sqlx::query("UPDATE stripe_events SET received_at = received_at - 600000")
        .execute(app.state.db.pool())
        .await
        .unwrap();

    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, s) = app.call_fn(&viewer, "webhook_stats", &[]).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["last_24h"]["processed"], 3);
    assert_eq!(s["last_24h"]["considered"], 4, "ignored types do not count");
    assert_eq!(s["duplicates_dropped"], 1);

    let (_, page) = app
        .call_fn(&viewer, "webhook_list", &[("status", "failed")])
        .await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], "evt_bad");
    assert!(events[0]["job_error"]
        .as_str()
        .unwrap()
        .contains("cannot be read"));
    let (_, page) = app
        .call_fn(&viewer, "webhook_list", &[("event_type", "plan.")])
        .await;
    assert_eq!(page["events"][0]["id"], "evt_plan");
    assert_eq!(page["events"][0]["status"], "ignored");
    let (_, page) = app
        .call_fn(&viewer, "webhook_list", &[("customer", "cus_P")])
        .await;
    assert_eq!(page["events"].as_array().unwrap().len(), 5);

    let (_, d) = app
        .call_fn(&viewer, "webhook_detail", &[("id", "evt_ok_1")])
        .await;
    assert!(!d["payload"]
        .as_str()
        .unwrap()
        .contains("tok_should_not_show"));
    assert_eq!(d["can_replay"], false, "a viewer cannot replay");

    let html = viewer
        .get(app.url("/webhooks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("75.0 %"), "3 of 4 processed is shown");
    assert!(html.contains("evt_bad") || html.contains("/webhooks/evt_bad"));
}

async fn a_failed_event_is_replayed_by_an_admin_only(backend: Backend) {
    let Some(app) = app(backend, &[]).await else {
        return;
    };
    // An earlier event links cus_P to an internal customer.
    assert_eq!(
        app.deliver_stripe(SECRET, &event("evt_first", "invoice.paid", false))
            .await,
        200
    );
    app.run_due_jobs().await;
    let body = event("evt_replay", "invoice.paid", false);
    assert_eq!(app.deliver_stripe(SECRET, &body).await, 200);
    break_event(&app, "evt_replay").await;
    app.run_due_jobs().await;
    let status: String =
        sqlx::query_scalar("SELECT status FROM stripe_events WHERE id = 'evt_replay'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "failed");
    // The fix: the event is readable again.
    sqlx::query("UPDATE stripe_events SET payload = $1 WHERE id = 'evt_replay'")
        .bind(&body)
        .execute(app.state.db.pool())
        .await
        .unwrap();

    let (billing, _) = app.sign_in(Role::Billing).await;
    let (status, _) = app
        .call_fn(&billing, "webhook_replay", &[("id", "evt_replay")])
        .await;
    assert_eq!(status, 403);

    let (admin, _) = app.sign_in(Role::Admin).await;
    let (status, job) = app
        .call_fn(&admin, "webhook_replay", &[("id", "evt_replay")])
        .await;
    assert_eq!(status, 200, "{job}");
    let (status, body) = app
        .call_fn(&admin, "webhook_replay", &[("id", "evt_replay")])
        .await;
    assert_eq!(status, 409, "already queued: {body}");
    app.run_due_jobs().await;
    let (status, mirrored): (String, i64) = sqlx::query_as(
        "SELECT e.status, (SELECT COUNT(*) FROM stripe_invoices WHERE id = 'in_P') FROM stripe_events e WHERE e.id = 'evt_replay'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), mirrored), ("processed", 1));
    let entries = audit_entries(&app.state.db, "webhooks.replayed").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].target_id.as_deref(), Some("evt_replay"));
    assert!(
        entries[0].customer_id.is_some(),
        "linked to the internal customer"
    );

    assert_eq!(
        app.deliver_stripe(SECRET, &event("evt_ignored", "plan.created", false))
            .await,
        200
    );
    let (status, _) = app
        .call_fn(&admin, "webhook_replay", &[("id", "evt_ignored")])
        .await;
    assert_eq!(status, 409, "nothing to replay for an ignored type");
    let (status, _) = app
        .call_fn(&admin, "webhook_replay", &[("id", "evt_nope")])
        .await;
    assert_eq!(status, 404);
}

async fn readiness_degrades_on_mode_mismatch(backend: Backend) {
    let Some(app) = app(
        backend,
        &[("STRIPE_API_KEY", "sk_test_0123456789abcdefghij")],
    )
    .await
    else {
        return;
    };
    let ready: serde_json::Value = app.ready().await.json().await.unwrap();
    let check = |r: &serde_json::Value| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "stripe webhooks")
            .cloned()
            .unwrap()
    };
    assert_eq!(check(&ready)["status"], "ok");
    assert_eq!(
        app.deliver_stripe(SECRET, &event("evt_live", "invoice.paid", true))
            .await,
        200
    );
    let res = app.ready().await;
    assert_eq!(res.status(), 200, "degraded, still serving");
    let ready: serde_json::Value = res.json().await.unwrap();
    assert_eq!(check(&ready)["status"], "warn");
    assert!(check(&ready)["detail"]
        .as_str()
        .unwrap()
        .contains("other Stripe mode"));
}

/// The customer filter's index only holds events that have left `received` (the migration
/// keeps it off the acknowledgement path); events still waiting must be found all the same, in
/// one newest-first order across pages. Called at the service, where a page can be 2 long.
async fn the_customer_filter_finds_events_before_and_after_processing(backend: Backend) {
    use app::domain::WebhookFilter;
    use app::server::stripe;
    let Some(app) = app(backend, &[]).await else {
        return;
    };
    let db = &app.state.db;
    // (id, type, customer, status after "processing"); received_at rises in this order.
    let events = [
        ("evt_a1", "invoice.paid", "cus_A", Some("processed")),
        ("evt_b1", "invoice.paid", "cus_B", Some("processed")),
        ("evt_a2", "invoice.paid", "cus_A", Some("failed")),
        ("evt_a3", "invoice.upcoming", "cus_A", None),
        ("evt_a4", "invoice.paid", "cus_A", None),
        ("evt_b2", "invoice.paid", "cus_B", None),
        ("evt_a5", "invoice.paid", "cus_A", Some("processed")),
    ];
    for (n, (id, kind, customer, done)) in events.iter().enumerate() {
        let raw = event_for(id, kind, false, customer);
        let event = stripe::EventEnvelope::parse(raw.as_bytes()).unwrap();
        stripe::receive(db, &event, &raw, None, 1_767_225_600_000 + n as i64)
            .await
            .unwrap();
        if let Some(status) = done {
            sqlx::query("UPDATE stripe_events SET status = $1 WHERE id = $2")
                .bind(status)
                .bind(id)
                .execute(db.pool())
                .await
                .unwrap();
        }
    }
    let filter = WebhookFilter {
        stripe_customer: Some("cus_A".into()),
        ..Default::default()
    };
    let (mut seen, mut before) = (Vec::new(), None::<String>);
    for _ in 0..5 {
        let page = stripe::webhooks::list(
            db,
            &app::server::actor::Actor::System,
            &filter,
            before.as_deref(),
            2,
        )
        .await
        .unwrap();
        assert!(page.events.len() <= 2);
        seen.extend(page.events.into_iter().map(|e| (e.id, e.status.as_str())));
        before = page.next_before;
        if before.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        vec![
            ("evt_a5".to_string(), "processed"),
            ("evt_a4".to_string(), "received"),
            ("evt_a3".to_string(), "ignored"),
            ("evt_a2".to_string(), "failed"),
            ("evt_a1".to_string(), "processed"),
        ],
        "every cus_A event, waiting or done, newest first across pages"
    );
}
