//! The customer list and page: search that takes wildcards literally, cursor paging, the
//! billing mirror as staff see it (refundable amounts, lifetime paid), actions by role, and one
//! timeline merging billing, staff actions and jobs that gave up.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::stripe_mirror::{event, object};
use app::domain::{Outcome, Role};
use app::server::actor::Actor;
use app::server::jobs::{self, NewJob};
use app::server::services::audit;
use serde_json::{json, Value};

both_backends!(
    the_customer_page_shows_billing_and_what_the_viewer_may_do,
    the_customer_list_searches_filters_and_pages,
    the_timeline_merges_billing_staff_actions_and_dead_jobs,
    the_timeline_pages_by_cursor_and_filters_by_source,
    search_finds_a_customer_by_crm_contact_and_ticket_number,
);

const SECRET: &str = "whsec_customer_tests_00000000001";

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
    })
    .await
}

/// Ada: a customer with an active subscription, a paid invoice and a partly refunded payment.
async fn seed_ada(app: &TestApp) -> String {
    let events = [
        event(
            "evt_c1",
            "customer.created",
            1_700_000_000,
            object(
                "customer",
                json!({ "id": "cus_Ada", "email": "Ada@Example.com", "name": "Ada Lovelace", "livemode": false }),
            ),
        ),
        event(
            "evt_c2",
            "customer.subscription.created",
            1_700_000_001,
            object(
                "subscription",
                json!({ "id": "sub_Ada", "customer": "cus_Ada", "status": "active",
                        "current_period_start": 1_700_000_000, "current_period_end": 1_702_592_000 }),
            ),
        ),
        event(
            "evt_c3",
            "invoice.paid",
            1_700_000_100,
            object(
                "invoice",
                json!({ "id": "in_Ada", "customer": "cus_Ada", "status": "paid", "attempt_count": 1,
                        "amount_due": 2000, "amount_paid": 2000, "amount_remaining": 0, "currency": "usd",
                        "status_transitions": { "finalized_at": 1_700_000_050, "paid_at": 1_700_000_100, "voided_at": null, "marked_uncollectible_at": null } }),
            ),
        ),
        event(
            "evt_c4",
            "charge.succeeded",
            1_700_000_100,
            object(
                "charge",
                json!({ "id": "ch_Ada", "customer": "cus_Ada", "amount": 2000, "amount_refunded": 500,
                        "currency": "usd", "status": "succeeded", "paid": true, "refunded": false, "disputed": false }),
            ),
        ),
    ];
    for e in &events {
        assert_eq!(app.deliver_stripe(SECRET, e).await, 200);
    }
    for (kind, outcome) in app.run_due_jobs().await {
        assert_eq!(outcome, jobs::RunOutcome::Succeeded, "{kind}");
    }
    sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = 'cus_Ada'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn list(app: &TestApp, client: &reqwest::Client, form: &[(&str, &str)]) -> (u16, Value) {
    app.call_fn(client, "customer_list", form).await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn the_customer_page_shows_billing_and_what_the_viewer_may_do(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let ada = seed_ada(&app).await;
    let (support, _) = app.sign_in(Role::Support).await;
    let (status, v) = app
        .call_fn(&support, "customer_view", &[("id", &ada)])
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["customer"]["name"], "Ada Lovelace");
    assert_eq!(v["customer"]["state"], "active");
    assert_eq!(v["stripe"][0]["id"], "cus_Ada");
    assert_eq!(v["stripe"][0]["livemode"], false);
    assert_eq!(v["subscriptions"][0]["status"], "active");
    assert_eq!(v["invoices"][0]["status"], "paid");
    assert_eq!(
        v["invoices"][0]["total"]["currency"], "usd",
        "money carries its currency"
    );
    assert_eq!(v["charges"][0]["amount"]["amount"], 2000);
    assert_eq!(
        v["charges"][0]["refundable"], 1500,
        "2000 paid less 500 already refunded"
    );
    assert_eq!(
        v["lifetime_paid"],
        json!([{ "amount": 2000, "currency": "usd" }])
    );
    let sub = &v["subscriptions"][0];
    assert_eq!(
        (sub["interval"].as_str(), sub["quantity"].as_i64()),
        (Some("month"), Some(1))
    );
    assert!(sub["price"]["amount"].as_i64().unwrap() > 0);
    assert_eq!(
        v["mrr"],
        json!([sub["price"]]),
        "one monthly active subscription"
    );
    let kinds: Vec<&str> = v["timeline"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["customer.created", "invoice.paid", "account.state_changed"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert_eq!(
        (
            &v["actions"]["can_resync"],
            &v["actions"]["can_refund"],
            &v["actions"]["can_approve"]
        ),
        (&json!(false), &json!(false), &json!(false)),
        "support reads only"
    );

    let (billing, _) = app.sign_in(Role::Billing).await;
    let (_, v) = app
        .call_fn(&billing, "customer_view", &[("id", &ada)])
        .await;
    assert_eq!(
        (&v["actions"]["can_resync"], &v["actions"]["can_refund"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(v["actions"]["can_approve"], false, "billing cannot approve");
    assert_eq!(v["actions"]["refund_limit"], 50_000, "the default: 500.00");
    assert_eq!(
        v["actions"]["stripe_configured"], false,
        "no API key: the page says refunds are unavailable"
    );
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (_, v) = app.call_fn(&admin, "customer_view", &[("id", &ada)]).await;
    assert_eq!(
        v["actions"]["refund_limit"],
        Value::Null,
        "admins have no limit"
    );
    assert_eq!(v["actions"]["can_approve"], true);

    let (status, body) = app
        .call_fn(&support, "customer_view", &[("id", "cust_nobody")])
        .await;
    assert_eq!(status, 404, "{body}");
    let anonymous = reqwest::Client::new();
    let (status, _) = app
        .call_fn(&anonymous, "customer_view", &[("id", &ada)])
        .await;
    assert_eq!(status, 401, "signed-out callers see nothing");

    // The pages themselves render on the server for a signed-in viewer.
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let html = viewer
        .get(app.url(&format!("/customers/{ada}")))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    let text = html.text().await.unwrap();
    assert!(
        text.contains("Ada Lovelace"),
        "server-rendered customer page"
    );
    assert!(text.contains("15.00 USD") || text.contains("20.00 USD"));
}

async fn the_customer_list_searches_filters_and_pages(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let ada = seed_ada(&app).await;
    // 60 more customers, each changed a millisecond after the last.
    for n in 0..60 {
        sqlx::query(
            "INSERT INTO customers (id, name, email, email_normalized, account_state, created_at, updated_at) \
             VALUES ($1, $2, $3, $3, 'canceled', $4, $4)",
        )
        .bind(format!("cust_bulk{n:02}"))
        .bind(format!("Bulk {n}"))
        .bind(format!("bulk{n}@example.com"))
        .bind(1_000 + n as i64)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    }
    let (client, _) = app.sign_in(Role::Viewer).await;

    for q in ["ada@ex", "ADA", "Ada Love", "cus_Ada", ada.as_str()] {
        let (status, page) = list(&app, &client, &[("q", q)]).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(ids(&page), vec![ada.clone()], "search {q:?}");
    }
    // One typo in a prefix of four or more characters still finds her, marked as a close match.
    for q in ["ada@exmple", "Ada Lovlace", "adda@ex"] {
        let (_, page) = list(&app, &client, &[("q", q)]).await;
        assert_eq!(ids(&page), vec![ada.clone()], "typo {q:?}");
        assert_eq!(page["close_matches"], true);
    }
    let (_, page) = list(&app, &client, &[("q", "ada@ex")]).await;
    assert_eq!(
        page["close_matches"], false,
        "an exact prefix match is not a close match"
    );
    for q in ["%", "_da", "cus_Ad", "lovelace", "ada@xxmple"] {
        let (_, page) = list(&app, &client, &[("q", q)]).await;
        assert!(
            ids(&page).is_empty(),
            "{q:?} is not a prefix or exact id: wildcards are literal"
        );
    }
    let (_, page) = list(&app, &client, &[("state", "active")]).await;
    assert_eq!(ids(&page), vec![ada.clone()]);
    let (status, body) = list(&app, &client, &[("state", "sleeping")]).await;
    assert_eq!(status, 422, "{body}");
    let long = "x".repeat(201);
    let (status, _) = list(&app, &client, &[("q", &long)]).await;
    assert_eq!(status, 422);

    // Paging: 61 customers, 50 per page, newest change first, no overlap, nothing lost.
    let (_, first) = list(&app, &client, &[]).await;
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 50);
    assert_eq!(first_ids[0], ada, "Ada changed last");
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, second) = list(&app, &client, &[("cursor", &cursor)]).await;
    let second_ids = ids(&second);
    assert_eq!(second_ids.len(), 11);
    assert_eq!(second["next_cursor"], Value::Null);
    assert!(second_ids.iter().all(|id| !first_ids.contains(id)));
    assert_eq!(second_ids.last().unwrap(), "cust_bulk00", "oldest last");
}

async fn the_timeline_merges_billing_staff_actions_and_dead_jobs(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let ada = seed_ada(&app).await;
    let now = chrono::Utc::now().timestamp_millis();
    let staff = Actor::Staff {
        id: "stf_x".into(),
        email: "lin@example.com".into(),
        role: Role::Billing,
    };
    let meta = Default::default();
    let mut tx = app.state.db.begin().await.unwrap();
    audit::append(
        &mut tx,
        audit::NewEntry::new(&staff, &meta, "billing.resynced", Outcome::Ok).customer(&ada),
        now,
    )
    .await
    .unwrap();
    let mut job = NewJob::new("crm.sync", json!({ "customer": ada }), now);
    job.customer_id = Some(ada.clone());
    let job_id = jobs::enqueue(&mut tx, job, now).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    sqlx::query(
        "UPDATE jobs SET status = 'dead', last_error = 'HubSpot said 400', updated_at = $1 WHERE id = $2",
    )
    .bind(now + 1)
    .bind(&job_id)
    .execute(app.state.db.pool())
    .await
    .unwrap();

    let (client, _) = app.sign_in(Role::Viewer).await;
    let (_, v) = app.call_fn(&client, "customer_view", &[("id", &ada)]).await;
    assert_eq!(
        v["dead_jobs"][0]["id"],
        json!(job_id),
        "the page lists the failed job"
    );
    assert_eq!(
        v["actions"]["can_retry_jobs"], false,
        "viewers cannot retry"
    );
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (_, as_admin) = app.call_fn(&admin, "customer_view", &[("id", &ada)]).await;
    assert_eq!(as_admin["actions"]["can_retry_jobs"], true);
    let timeline = v["timeline"]["entries"].as_array().unwrap();
    assert_eq!(timeline[0]["source"], "job", "newest first: {timeline:?}");
    assert!(timeline[0]["summary"]
        .as_str()
        .unwrap()
        .contains("HubSpot said 400"));
    assert_eq!(timeline[1]["source"], "staff");
    assert_eq!(timeline[1]["summary"], "lin@example.com: billing.resynced");
    assert!(timeline[2..].iter().all(|e| e["source"] == "billing"));
    let times: Vec<i64> = timeline
        .iter()
        .map(|e| e["at_ms"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

async fn the_timeline_pages_by_cursor_and_filters_by_source(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let ada = seed_ada(&app).await;
    // 130 CRM entries, several sharing a timestamp (the cursor must still not skip or repeat),
    // and three staff actions.
    let base = 1_790_000_000_000i64;
    let mut tx = app.state.db.begin().await.unwrap();
    for i in 0..130i64 {
        sqlx::query(
            "INSERT INTO customer_events (id, customer_id, at, source, kind, summary, created_at) \
             VALUES ($1, $2, $3, 'crm', 'crm.updated', $4, $3)",
        )
        .bind(format!("tl_bulk_{i:03}"))
        .bind(&ada)
        .bind(base + (i / 3) * 1000)
        .bind(format!("entry {i}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let staff = Actor::Staff {
        id: "stf_y".into(),
        email: "sam@example.com".into(),
        role: Role::Billing,
    };
    let meta = app::server::actor::RequestMeta::default();
    for _ in 0..3 {
        let entry = audit::NewEntry::new(&staff, &meta, "crm.pushed", Outcome::Ok).customer(&ada);
        audit::append(&mut tx, entry, base).await.unwrap();
    }
    tx.commit().await.unwrap();

    let (client, _) = app.sign_in(Role::Viewer).await;
    let (status, v) = app
        .call_fn(&client, "customer_view", &[("id", &ada), ("source", "crm")])
        .await;
    assert_eq!(status, 200, "{v}");
    let mut seen: Vec<String> = Vec::new();
    let mut page = v["timeline"].clone();
    let mut pages = 0;
    loop {
        pages += 1;
        for e in page["entries"].as_array().unwrap() {
            assert_eq!(e["source"], "crm");
            seen.push(e["id"].as_str().unwrap().to_string());
        }
        let Some(cursor) = page["next_cursor"].as_str().map(str::to_string) else {
            break;
        };
        let (status, next) = app
            .call_fn(
                &client,
                "customer_timeline",
                &[("id", &ada), ("source", "crm"), ("cursor", &cursor)],
            )
            .await;
        assert_eq!(status, 200, "{next}");
        page = next;
    }
    assert_eq!(pages, 3, "50 + 50 + 30");
    let mut expected: Vec<String> = (0..130).map(|i| format!("tl_bulk_{i:03}")).collect();
    expected.reverse();
    assert_eq!(seen, expected, "every entry once, newest first, ties by id");

    let (_, staff_only) = app
        .call_fn(
            &client,
            "customer_timeline",
            &[("id", &ada), ("source", "staff")],
        )
        .await;
    let entries = staff_only["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries
        .iter()
        .all(|e| e["summary"] == "sam@example.com: crm.pushed"));
    let (status, _) = app
        .call_fn(
            &client,
            "customer_timeline",
            &[("id", &ada), ("source", "sales")],
        )
        .await;
    assert_eq!(status, 422);
    let html = app
        .html(&client, &format!("/customers/{ada}?tl=staff"))
        .await;
    assert!(html.contains("sam@example.com: crm.pushed"));
    assert!(
        !html.contains("entry 129"),
        "the filter applies to the first page"
    );
    assert!(
        html.contains("datetime=\"2026-"),
        "entries carry their exact time"
    );
}

async fn search_finds_a_customer_by_crm_contact_and_ticket_number(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let ada = seed_ada(&app).await;
    sqlx::query("UPDATE customers SET crm_contact_id = '9001' WHERE id = $1")
        .bind(&ada)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let key = crate::tickets_intake::new_key(&app, "Product").await;
    let body = json!({ "email": "ada@example.com", "subject": "Hi", "message": "Hello" });
    let ticket = crate::tickets_intake::post(&app, Some(&key), &body.to_string(), None).await;
    assert_eq!(ticket.body["customer_id"], json!(ada), "{}", ticket.body);
    let (client, _) = app.sign_in(Role::Viewer).await;
    for q in ["9001", "#1001", "1001", "ada@", "cus_Ada"] {
        let (status, page) = app.call_fn(&client, "customer_list", &[("q", q)]).await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [ada.as_str()], "{q}");
    }
    for q in ["#1002", "9002", "bob@"] {
        let (_, page) = app.call_fn(&client, "customer_list", &[("q", q)]).await;
        assert!(page["items"].as_array().unwrap().is_empty(), "{q}");
    }
}
