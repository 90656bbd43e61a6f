//! The support intake API: keys and scopes, bodies refused field by field with nothing stored,
//! Idempotency-Key (sequential and concurrent retries make one ticket), the per-key rate limit,
//! and each routing rule fed by a billing mirror built from signed Stripe webhooks.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app_with, Backend, TestApp};
use crate::stripe_mirror::{event, object};
use app::server::{actor::Actor, services::api_keys};
use serde_json::{json, Value};

both_backends!(
    each_routing_rule_sends_the_ticket_to_its_queue_with_the_account_snapshot,
    keys_scopes_and_bad_bodies_are_refused_and_nothing_is_stored,
    a_retried_or_concurrent_request_makes_one_ticket,
    each_key_is_rate_limited_on_its_own,
    ten_thousand_bad_calls_add_one_audit_entry,
);

const SECRET: &str = "whsec_ticket_tests_00000000001";

pub(crate) struct Answer {
    pub status: u16,
    pub replayed: bool,
    pub retry_after: Option<u64>,
    pub www_authenticate: Option<String>,
    pub body: Value,
}

pub(crate) async fn app_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    spawn_app_with(backend, move |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
        v.extend(extra);
    })
    .await
}

pub(crate) async fn new_key(app: &TestApp, name: &str) -> String {
    let now = chrono::Utc::now().timestamp_millis();
    api_keys::create(
        &app.state.db,
        &Actor::System,
        &Default::default(),
        name,
        &["tickets:write".into()],
        now,
    )
    .await
    .unwrap()
    .key
}

pub(crate) async fn post(
    app: &TestApp,
    key: Option<&str>,
    body: &str,
    idem: Option<&str>,
) -> Answer {
    let mut req = app
        .client
        .post(app.url("/api/v1/support/tickets"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(i) = idem {
        req = req.header("idempotency-key", i);
    }
    let res = req.send().await.unwrap();
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (replayed, retry_after, www) = (
        header("idempotent-replayed").as_deref() == Some("true"),
        header("retry-after").and_then(|v| v.parse().ok()),
        header("www-authenticate"),
    );
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    Answer {
        status,
        replayed,
        retry_after,
        www_authenticate: www,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn deliver(app: &TestApp, id: &str, kind: &str, created: i64, object: Value) {
    assert_eq!(
        app.deliver_stripe(SECRET, &event(id, kind, created, object))
            .await,
        200
    );
}

async fn internal_id(app: &TestApp, stripe_customer: &str) -> String {
    sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = $1")
        .bind(stripe_customer)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn snapshot(app: &TestApp, ticket_id: &str) -> Value {
    let s: String = sqlx::query_scalar("SELECT snapshot FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

/// Three Stripe customers: Ada in dunning after a failed invoice, Bob with a disputed charge,
/// Cy with a failed card charge two days ago but nothing overdue.
async fn billing_mirror(app: &TestApp) {
    let now = chrono::Utc::now().timestamp();
    let day = 86_400;
    for (cus, user, email) in [
        ("cus_A", "u_ada", "ada@example.com"),
        ("cus_B", "u_bob", "bob@example.com"),
        ("cus_C", "u_cy", "cy@example.com"),
    ] {
        let customer = object(
            "customer",
            json!({ "id": cus, "email": email, "name": null, "metadata": { "user_id": user } }),
        );
        deliver(
            app,
            &format!("evt_{cus}"),
            "customer.created",
            now - 3 * day,
            customer,
        )
        .await;
    }
    let sub = object(
        "subscription",
        json!({ "id": "sub_A", "customer": "cus_A", "status": "active",
                "current_period_start": now - 10 * day, "current_period_end": now + 20 * day }),
    );
    deliver(
        app,
        "evt_sub",
        "customer.subscription.created",
        now - 3 * day,
        sub,
    )
    .await;
    let invoice = object(
        "invoice",
        json!({ "id": "in_A", "customer": "cus_A", "status": "open", "attempt_count": 1,
                "amount_due": 2000, "amount_paid": 0, "amount_remaining": 2000, "currency": "eur",
                "created": now - day }),
    );
    deliver(app, "evt_inv", "invoice.payment_failed", now - day, invoice).await;
    let charge_b = object(
        "charge",
        json!({ "id": "ch_B", "customer": "cus_B", "amount": 5000, "amount_refunded": 0, "currency": "usd",
                "status": "succeeded", "paid": true, "refunded": false, "disputed": true, "created": now - 5 * day }),
    );
    deliver(app, "evt_chb", "charge.succeeded", now - 5 * day, charge_b).await;
    let dispute = object(
        "dispute",
        json!({ "id": "dp_B", "charge": "ch_B", "amount": 5000, "currency": "usd",
                "status": "needs_response", "created": now - 2 * day }),
    );
    deliver(
        app,
        "evt_dp",
        "charge.dispute.created",
        now - 2 * day,
        dispute,
    )
    .await;
    let charge_c = object(
        "charge",
        json!({ "id": "ch_C", "customer": "cus_C", "amount": 2000, "amount_refunded": 0, "currency": "usd",
                "status": "failed", "paid": false, "refunded": false, "disputed": false,
                "failure_code": "card_declined", "created": now - 2 * day }),
    );
    deliver(app, "evt_chc", "charge.failed", now - 2 * day, charge_c).await;
    for (kind, outcome) in app.run_due_jobs().await {
        assert_eq!(outcome, app::server::jobs::RunOutcome::Succeeded, "{kind}");
    }
}

async fn each_routing_rule_sends_the_ticket_to_its_queue_with_the_account_snapshot(
    backend: Backend,
) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    billing_mirror(&app).await;
    let key = new_key(&app, "Product").await;
    let ask = |user: &str, subject: &str, extra: Value| {
        let mut body = json!({ "user_id": user, "subject": subject, "message": "Hello, I need help with exports." });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };

    // Dunning: urgent, with the snapshot and app context kept.
    let context = json!({ "context": { "page": "/reports", "app_version": "3.2.1",
        "errors": [{ "message": "TypeError: x is undefined", "code": "E42", "at": "2026-11-27T10:00:00Z" }] } });
    let a = post(
        &app,
        Some(&key),
        &ask("u_ada", "Export question", context),
        None,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["status"], "received");
    assert_eq!(
        (a.body["queue"].as_str(), a.body["priority"].as_str()),
        (Some("billing_urgent"), Some("urgent"))
    );
    assert_eq!(a.body["number"], 1001);
    let ada = internal_id(&app, "cus_A").await;
    assert_eq!(a.body["customer_id"], json!(ada));
    let s = snapshot(&app, a.body["id"].as_str().unwrap()).await;
    assert_eq!(s["dunning"], true);
    assert_eq!(s["failed_payment_recent"], true);
    assert_eq!(s["account_state"], "past_due");
    assert_eq!(s["user_id"], "u_ada");
    assert_eq!(s["identity"], "Matched by the product's user id.");
    assert_eq!(s["app_context"]["errors"][0]["code"], "E42");
    assert_eq!(s["app_context"]["page"], "/reports");
    let kinds: Vec<&str> = s["recent_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.len() <= 5 && kinds.contains(&"invoice.payment_failed"),
        "{kinds:?}"
    );
    let due = chrono::DateTime::parse_from_rfc3339(a.body["sla_due_at"].as_str().unwrap()).unwrap();
    let in_mins = (due.timestamp() - chrono::Utc::now().timestamp()) / 60;
    assert!(
        (118..=120).contains(&in_mins),
        "urgent is due in 2 h: {in_mins} min"
    );

    // An open dispute: urgent.
    let b = post(
        &app,
        Some(&key),
        &ask("u_bob", "Export question", json!({})),
        None,
    )
    .await;
    assert_eq!(
        (b.body["queue"].as_str(), b.body["priority"].as_str()),
        (Some("billing_urgent"), Some("urgent")),
        "{}",
        b.body
    );
    let s = snapshot(&app, b.body["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            s["open_dispute"].as_bool(),
            s["open_disputes"].as_i64(),
            s["dunning"].as_bool()
        ),
        (Some(true), Some(1), Some(false))
    );

    // A failed payment two days ago, account not in dunning: high.
    let c = post(
        &app,
        Some(&key),
        &ask("u_cy", "Export question", json!({})),
        None,
    )
    .await;
    assert_eq!(
        (c.body["queue"].as_str(), c.body["priority"].as_str()),
        (Some("billing_urgent"), Some("high")),
        "{}",
        c.body
    );

    // Someone new: general, and they become a customer.
    let n = post(
        &app,
        Some(&key),
        &ask(
            "u_new",
            "Export question",
            json!({ "email": "New@Example.com", "name": "Nia" }),
        ),
        None,
    )
    .await;
    assert_eq!(
        (n.body["queue"].as_str(), n.body["priority"].as_str()),
        (Some("general"), Some("normal")),
        "{}",
        n.body
    );
    let new_customer = n.body["customer_id"].as_str().unwrap().to_string();
    let (user, email): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT product_user_id, email_normalized FROM customers WHERE id = $1")
            .bind(&new_customer)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (user.as_deref(), email.as_deref()),
        (Some("u_new"), Some("new@example.com"))
    );

    // Billing words and the billing category: high. The same user finds the same customer.
    let k = post(
        &app,
        Some(&key),
        &ask("u_new", "I was charged twice", json!({})),
        None,
    )
    .await;
    assert_eq!(
        (k.body["queue"].as_str(), k.body["priority"].as_str()),
        (Some("billing_urgent"), Some("high"))
    );
    assert_eq!(k.body["customer_id"], json!(new_customer));
    let cat = post(
        &app,
        Some(&key),
        &ask("u_new", "A question", json!({ "category": "billing" })),
        None,
    )
    .await;
    assert_eq!(cat.body["priority"], "high");
    let reasons: String = sqlx::query_scalar("SELECT route_reasons FROM tickets WHERE id = $1")
        .bind(k.body["id"].as_str().unwrap())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert!(reasons.contains("“charge”"), "{reasons}");

    // Email only: links when exactly one customer has it (any case), never when it is shared.
    let e = post(
        &app,
        Some(&key),
        &json!({ "email": " ADA@example.com", "subject": "Hi", "message": "Hello" }).to_string(),
        None,
    )
    .await;
    assert_eq!(e.body["customer_id"], json!(ada));
    crate::crm_sync::insert_customers(
        &app,
        &[
            ("cust_t1", Some("twin@example.com"), "T1"),
            ("cust_t2", Some("twin@example.com"), "T2"),
        ],
    )
    .await;
    let t = post(
        &app,
        Some(&key),
        &json!({ "email": "twin@example.com", "subject": "Hi", "message": "Hello" }).to_string(),
        None,
    )
    .await;
    assert_eq!(t.status, 201);
    assert_eq!(
        t.body["customer_id"],
        Value::Null,
        "a shared email links no one"
    );
    assert!(
        snapshot(&app, t.body["id"].as_str().unwrap()).await["identity"]
            .as_str()
            .unwrap()
            .contains("Several customers")
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM customers WHERE email_normalized = 'twin@example.com'"
        )
        .await,
        2,
        "and makes no third"
    );

    // On the timeline and in the audit log, by the key.
    let on_timeline: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM customer_events WHERE customer_id = $1 AND kind = 'ticket.received'",
    )
    .bind(&ada)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(on_timeline, 2, "two tickets from Ada");
    let audited = audit_entries(&app.state.db, "ticket.received").await;
    assert_eq!(audited.len(), 8);
    assert!(audited
        .iter()
        .all(|e| e.actor_label == "api-key:Product" && e.actor_kind == "api_key"));
}

async fn keys_scopes_and_bad_bodies_are_refused_and_nothing_is_stored(backend: Backend) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    let good = json!({ "user_id": "u_1", "subject": "Help", "message": "Please" }).to_string();
    let none = post(&app, None, &good, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.www_authenticate.as_deref(), Some("Bearer"));
    assert_eq!(post(&app, Some("llk_0000"), &good, None).await.status, 401);

    let key = new_key(&app, "Old").await;
    let id: String = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    api_keys::revoke(&app.state.db, &Actor::System, &Default::default(), &id, now)
        .await
        .unwrap();
    let revoked = post(&app, Some(&key), &good, None).await;
    assert_eq!(revoked.status, 401);
    assert!(revoked.body["error"].as_str().unwrap().contains("revoked"));

    // A key whose scopes do not include tickets:write (keys of future scopes look like this).
    let scoped = "llk_scope_test_0000000000000000";
    sqlx::query("INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_at) VALUES ('key_s', 'Reports', 'llk_sc…', $1, 'reports:read', 0)")
        .bind(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(scoped.as_bytes())))
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let scope = post(&app, Some(scoped), &good, None).await;
    assert_eq!(scope.status, 403, "{}", scope.body);
    assert!(scope.body["error"]
        .as_str()
        .unwrap()
        .contains("tickets:write"));

    let key = new_key(&app, "Live").await;
    let bad = post(&app, Some(&key), "{not json", None).await;
    assert_eq!(
        (bad.status, bad.body["fields"]["body"].as_str()),
        (422, Some("must be a JSON object"))
    );
    let bad = post(
        &app,
        Some(&key),
        &json!({ "email": "nope", "subject": "", "message": "m", "category": "sales", "priority": "high" }).to_string(),
        None,
    )
    .await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&String> = bad.body["fields"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["category", "email", "priority", "subject"],
        "{}",
        bad.body
    );
    let long = json!({ "user_id": "u", "subject": "s", "message": "m".repeat(10_001) }).to_string();
    assert_eq!(
        post(&app, Some(&key), &long, None).await.body["fields"]["message"],
        "must be at most 10000 characters"
    );
    let huge = json!({ "user_id": "u", "subject": "s", "message": "m".repeat(70_000) }).to_string();
    assert_eq!(post(&app, Some(&key), &huge, None).await.status, 413);
    assert_eq!(
        post(&app, Some(&key), &good, Some("has space"))
            .await
            .status,
        400
    );

    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM tickets").await,
        0,
        "nothing refused was stored"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM customers").await, 0);
    let refused = flushed_refusals(&app).await;
    assert_eq!(
        refused.len(),
        2,
        "counted per source: the address for bad keys, the key for bad bodies"
    );
    let counted: i64 = refused.iter().map(count_of).sum();
    assert_eq!(counted, 9, "every refused call is counted");
    assert!(
        refused
            .iter()
            .all(|e| !e.details.contains(&key) && !e.details.contains(scoped)),
        "keys never in the log"
    );
    let ok = post(&app, Some(&key), &good, None).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

async fn a_retried_or_concurrent_request_makes_one_ticket(backend: Backend) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    let key = new_key(&app, "Product").await;
    let body = json!({ "user_id": "u_1", "subject": "Help", "message": "Please" }).to_string();
    let first = post(&app, Some(&key), &body, Some("req-1")).await;
    let again = post(&app, Some(&key), &body, Some("req-1")).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.body["id"], again.body["id"]);
    let other =
        json!({ "user_id": "u_1", "subject": "Help", "message": "Something else" }).to_string();
    let reused = post(&app, Some(&key), &other, Some("req-1")).await;
    assert_eq!(reused.status, 422, "{}", reused.body);
    // Another key's Idempotency-Key space is its own.
    let key2 = new_key(&app, "Other").await;
    assert!(!post(&app, Some(&key2), &body, Some("req-1")).await.replayed);

    // Eight identical requests at once, with a key and without one (a double click).
    for idem in [Some("req-2"), None] {
        let body =
            json!({ "user_id": "u_2", "subject": format!("Burst {idem:?}"), "message": "Please" })
                .to_string();
        let calls = (0..8).map(|_| {
            let (app, key, body) = (&app, key.clone(), body.clone());
            async move { post(app, Some(&key), &body, idem).await }
        });
        let answers = futures::future::join_all(calls).await;
        assert!(
            answers.iter().all(|a| a.status == 201),
            "{:?}",
            answers.iter().map(|a| a.status).collect::<Vec<_>>()
        );
        let mut numbers: Vec<i64> = answers
            .iter()
            .map(|a| a.body["number"].as_i64().unwrap())
            .collect();
        numbers.dedup();
        assert_eq!(numbers.len(), 1, "one ticket: {numbers:?}");
        assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, 4);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM customers WHERE product_user_id = 'u_2'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT value FROM counters WHERE name = 'ticket'").await,
        1004,
        "numbers have no gaps"
    );
    assert_eq!(
        audit_entries(&app.state.db, "ticket.replayed").await.len(),
        1 + 7 + 7
    );
}

async fn each_key_is_rate_limited_on_its_own(backend: Backend) {
    let Some(app) = app_with(backend, &[("INTAKE_RATE_LIMIT_PER_MIN", "3")]).await else {
        return;
    };
    let (busy, calm) = (new_key(&app, "Busy").await, new_key(&app, "Calm").await);
    for i in 0..3 {
        let body =
            json!({ "user_id": "u", "subject": format!("n{i}"), "message": "m" }).to_string();
        assert_eq!(post(&app, Some(&busy), &body, None).await.status, 201);
    }
    let body = json!({ "user_id": "u", "subject": "n4", "message": "m" }).to_string();
    let limited = post(&app, Some(&busy), &body, None).await;
    assert_eq!(limited.status, 429);
    let wait = limited.retry_after.expect("Retry-After");
    assert!((1..=20).contains(&wait), "one token per 20 s: {wait}");
    assert_eq!(
        post(&app, Some(&calm), &body, None).await.status,
        201,
        "another key is not slowed"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, 4);
    let busy_id: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE name = 'Busy'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let refused = flushed_refusals(&app).await;
    assert_eq!(refused.len(), 1);
    assert!(refused[0].details.contains("rate_limited"));
    assert_eq!(
        refused[0].target_id.as_deref(),
        Some(format!("api_key:{busy_id}").as_str())
    );
}

/// Refusals as the tally wrote them to the audit log (it writes once a minute; tests flush).
async fn flushed_refusals(app: &TestApp) -> Vec<app::domain::AuditEntry> {
    app.state.refusals.tally.flush(&app.state.db).await.unwrap();
    audit_entries(&app.state.db, "ticket.intake_refused").await
}

fn count_of(e: &app::domain::AuditEntry) -> i64 {
    serde_json::from_str::<Value>(&e.details).unwrap()["count"]
        .as_i64()
        .unwrap()
}

/// An address sending bad keys is answered 429 after 30 refusals a minute, before its key is
/// even looked up, and the whole flood is one audit entry with its count.
async fn ten_thousand_bad_calls_add_one_audit_entry(backend: Backend) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    let before = count(&app, "SELECT COUNT(*) FROM audit_log").await;
    let body = json!({ "user_id": "u", "subject": "s", "message": "m" }).to_string();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..200 {
        let calls = (0..50).map(|i| {
            let (app, body) = (&app, body.clone());
            let key = format!("llk_guess_{round}_{i}_000000000000");
            async move { post(app, Some(&key), &body, None).await.status }
        });
        for s in futures::future::join_all(calls).await {
            *statuses.entry(s).or_default() += 1;
        }
    }
    let limit = app::server::services::refusals::INTAKE_REFUSALS_PER_MINUTE as usize;
    assert_eq!(statuses.values().sum::<usize>(), 10_000);
    assert!(
        statuses
            .get(&401)
            .is_some_and(|n| (limit..limit + 50).contains(n)),
        "about {limit} refused by key, the rest by address: {statuses:?}"
    );
    assert_eq!(
        statuses.get(&401).unwrap() + statuses.get(&429).unwrap(),
        10_000
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
        before,
        "nothing written yet"
    );
    let refused = flushed_refusals(&app).await;
    assert_eq!(refused.len(), 1, "one entry for one source");
    assert_eq!(count_of(&refused[0]), 10_000);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
        before + 1
    );
}
