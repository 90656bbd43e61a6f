//! The drift panel: Ledgerline's mirror beside Stripe (read now, through the re-sync's own code,
//! rolled back) and the CRM contact (read now); differences marked, the read changing nothing,
//! and the fixes (re-sync, push) clearing them.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app_with, Backend, TestApp};
use crate::hubspot_fake::{FakeHubSpot, TOKEN};
use crate::stripe_fake::{object, FakeStripe};
use crate::stripe_mirror::event;
use app::domain::Role;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    the_panel_marks_what_stripe_and_the_crm_have_differently_and_the_fixes_clear_it,
    without_stripe_configured_the_panel_says_so,
);

const KEY: &str = "sk_test_compare_00000000000001";
const SECRET: &str = "whsec_compare_tests_0000000001";

async fn app(backend: Backend, stripe: &FakeStripe, hub: &FakeHubSpot) -> Option<TestApp> {
    let (s, h) = (stripe.url.clone(), hub.url.clone());
    spawn_app_with(backend, move |v| {
        v.insert("STRIPE_API_KEY".into(), KEY.into());
        v.insert("STRIPE_API_BASE".into(), s);
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
        v.insert("CRM_PROVIDER".into(), "hubspot".into());
        v.insert("HUBSPOT_TOKEN".into(), TOKEN.into());
        v.insert("HUBSPOT_API_BASE".into(), h);
    })
    .await
}

fn stock(stripe: &FakeStripe, email: &str) {
    let mut s = stripe.state.lock().unwrap();
    s.lists.insert(
        "customers".into(),
        vec![object(
            "customer",
            json!({ "id": "cus_A", "email": email, "name": "Ada Lovelace", "livemode": false }),
        )],
    );
    let mut price = object(
        "price",
        json!({ "unit_amount": 2000, "currency": "usd", "nickname": "Pro" }),
    );
    price["recurring"]["interval"] = json!("month");
    let mut sub = object(
        "subscription",
        json!({ "id": "sub_A", "customer": "cus_A", "status": "active", "created": 1_700_000_500,
                "canceled_at": null, "ended_at": null, "cancel_at": null, "trial_end": null, "trial_start": null }),
    );
    sub["items"]["data"][0]["price"] = price;
    sub["items"]["data"][0]["quantity"] = json!(1);
    s.lists.insert("subscriptions".into(), vec![sub]);
    s.lists.insert("invoices".into(), vec![]);
}

fn field<'a>(c: &'a Value, label: &str) -> &'a Value {
    c["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label)
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn the_panel_marks_what_stripe_and_the_crm_have_differently_and_the_fixes_clear_it(
    backend: Backend,
) {
    let stripe = FakeStripe::start().await;
    let hub = FakeHubSpot::start(Duration::from_millis(500)).await;
    let Some(app) = app(backend, &stripe, &hub).await else {
        return;
    };
    stock(&stripe, "ada@example.com");
    for (id, kind) in [
        ("evt_1", "customer.created"),
        ("evt_2", "customer.subscription.created"),
    ] {
        let obj = if kind == "customer.created" {
            json!({ "id": "cus_A", "object": "customer" })
        } else {
            json!({ "id": "sub_A", "object": "subscription", "customer": "cus_A" })
        };
        assert_eq!(
            app.deliver_stripe(SECRET, &event(id, kind, 1_700_000_600, obj))
                .await,
            200
        );
    }
    crate::crm_sync::drain(&app, 1).await;
    let customer: String =
        sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = 'cus_A'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    // Since then: the email changed in Stripe, and someone edited the plan in HubSpot.
    stock(&stripe, "ada@new.example.com");
    {
        let mut h = hub.state.lock().unwrap();
        let contact = h
            .contacts
            .values_mut()
            .next()
            .expect("the sync made a contact");
        contact.insert("ledgerline_plan".into(), "Old plan".into());
    }
    let (billing, _) = app.sign_in(Role::Billing).await;
    let (events, jobs, audits) = (
        count(&app, "SELECT COUNT(*) FROM customer_events").await,
        count(&app, "SELECT COUNT(*) FROM jobs").await,
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
    );

    let (status, c) = app
        .call_fn(&billing, "customer_compare", &[("id", &customer)])
        .await;
    assert_eq!(status, 200, "{c}");
    let email = field(&c, "Email");
    assert_eq!(
        (
            email["ours"].as_str(),
            email["stripe"].as_str(),
            email["crm"].as_str()
        ),
        (
            Some("ada@example.com"),
            Some("ada@new.example.com"),
            Some("ada@example.com")
        )
    );
    assert_eq!(
        (
            email["stripe_differs"].as_bool(),
            email["crm_differs"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let plan = field(&c, "Plan");
    assert_eq!(
        (
            plan["ours"].as_str(),
            plan["stripe"].as_str(),
            plan["crm"].as_str()
        ),
        (Some("Pro"), Some("Pro"), Some("Old plan"))
    );
    assert_eq!(
        (
            plan["stripe_differs"].as_bool(),
            plan["crm_differs"].as_bool()
        ),
        (Some(false), Some(true))
    );
    assert_eq!(field(&c, "MRR")["stripe"], "20.00");
    let differing: usize = c["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["stripe_differs"] == true || f["crm_differs"] == true)
        .count();
    assert_eq!(differing, 2, "{c}");
    assert_eq!(
        (c["can_resync"].as_bool(), c["can_push"].as_bool()),
        (Some(true), Some(true))
    );

    // Reading changed nothing: the mirror, the timeline, the queue and the audit log are as before.
    let mirrored: String =
        sqlx::query_scalar("SELECT email FROM stripe_customers WHERE id = 'cus_A'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(mirrored, "ada@example.com");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM customer_events").await,
        events
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM jobs").await, jobs);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, audits);

    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (_, seen) = app
        .call_fn(&viewer, "customer_compare", &[("id", &customer)])
        .await;
    assert_eq!(
        (seen["can_resync"].as_bool(), seen["can_push"].as_bool()),
        (Some(false), Some(false))
    );
    let (status, _) = app
        .call_fn(&viewer, "customer_compare", &[("id", "cust_nope")])
        .await;
    assert_eq!(status, 404);

    // The fixes: a push clears the CRM column; a re-sync takes Stripe's email.
    let (status, body) = app
        .call_fn(
            &billing,
            "crm_push",
            &[("customer_id", &customer), ("cause", "manual")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call_fn(&billing, "billing_resync", &[("customer_id", &customer)])
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = app
        .call_fn(&billing, "customer_compare", &[("id", &customer)])
        .await;
    assert_eq!(field(&after, "Email")["ours"], "ada@new.example.com");
    assert!(
        after["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["stripe_differs"] == false),
        "{after}"
    );
    assert_eq!(field(&after, "Plan")["crm_differs"], false);
    assert_eq!(
        audit_entries(&app.state.db, "billing.resynced").await.len(),
        1
    );
}

async fn without_stripe_configured_the_panel_says_so(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    crate::crm_sync::insert_customers(&app, &[("cust_1", Some("a@example.com"), "A B")]).await;
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, c) = app
        .call_fn(&viewer, "customer_compare", &[("id", "cust_1")])
        .await;
    assert_eq!(status, 200, "{c}");
    assert!(c["stripe_note"]
        .as_str()
        .unwrap()
        .contains("STRIPE_API_KEY"));
    assert!(c["crm_note"].as_str().unwrap().contains("No CRM contact"));
    assert!(c["fields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["stripe"].is_null() && f["crm"].is_null()));
    assert_eq!(field(&c, "Email")["ours"], "a@example.com");
}
