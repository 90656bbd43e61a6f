//! The bad-input table (SECURITY.md), row by row: each class of bad input gets its documented
//! status, and afterwards nothing but the audit log has changed.

use crate::both_backends;
use crate::helpers::{spawn_app_with, status_of_head, Backend, TestApp};
use crate::tickets_intake::new_key;
use app::domain::Role;

both_backends!(every_bad_input_gets_a_clear_4xx_and_changes_nothing);

const SECRET: &str = "whsec_bad_input_tests_000001";

/// Row counts of every table a request could change, apart from the audit log and sessions.
async fn fingerprint(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "customers",
        "stripe_events",
        "stripe_charges",
        "refund_requests",
        "tickets",
        "ticket_messages",
        "jobs",
        "crm_contacts",
        "api_keys",
        "staff",
        "identity_conflicts",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        out.push((table, n));
    }
    out
}

fn signed(body: &str, t: i64, secret: &str) -> String {
    let v1 = hex::encode(app::server::stripe::sign(secret, t, body.as_bytes()));
    format!("t={t},v1={v1}")
}

async fn every_bad_input_gets_a_clear_4xx_and_changes_nothing(backend: Backend) {
    // Demo mode gives refunds a (simulated) Stripe to refuse nothing to.
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
        v.insert("DEMO_MODE".into(), "true".into());
    })
    .await
    else {
        return;
    };
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (billing, _) = app.sign_in(Role::Billing).await;
    let (admin, _) = app.sign_in(Role::Admin).await;
    let key = new_key(&app, "bad input").await;
    let charge = r#"{"id":"evt_badch","object":"event","type":"charge.succeeded","created":1,"livemode":false,"data":{"object":{"id":"ch_real","object":"charge","customer":"cus_real","amount":4200,"amount_refunded":0,"currency":"usd","status":"succeeded","paid":true,"refunded":false,"disputed":false,"created":1}}}"#;
    assert_eq!(app.deliver_stripe(SECRET, charge).await, 200);
    app.run_due_jobs().await;
    let before = fingerprint(&app).await;
    let now = chrono::Utc::now().timestamp();
    let event = r#"{"id":"evt_bad1","object":"event","type":"customer.created","created":1,"livemode":false,"data":{"object":{"id":"cus_bad1","object":"customer"}}}"#;
    let webhook = |sig: Option<String>, body: Vec<u8>| {
        let mut req = app.client.post(app.url("/api/webhooks/stripe")).body(body);
        if let Some(s) = sig {
            req = req.header("stripe-signature", s);
        }
        req
    };
    let intake = |body: &str| {
        app.client
            .post(app.url("/api/v1/support/tickets"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let server_fn = |client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]| {
        client
            .post(app.url(&format!("/api/fn/{endpoint}")))
            .header("origin", app.origin())
            .form(form)
    };
    let refund = |amount: &'static str, charge: &'static str| {
        [
            ("charge_id", charge),
            ("amount", amount),
            ("reason", "duplicate"),
            ("note", "bad input test"),
        ]
    };

    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "webhook without Stripe-Signature",
            webhook(None, event.into()),
            400,
        ),
        (
            "webhook signed with another secret",
            webhook(
                Some(signed(event, now, "whsec_someone_else_0001")),
                event.into(),
            ),
            400,
        ),
        (
            "webhook signed 10 minutes ago (replay)",
            webhook(Some(signed(event, now - 600, SECRET)), event.into()),
            400,
        ),
        (
            "webhook with a malformed header",
            webhook(Some("t=abc,v1=zz".into()), event.into()),
            400,
        ),
        (
            "webhook signed but not JSON",
            webhook(Some(signed("not json", now, SECRET)), b"not json".to_vec()),
            400,
        ),
        (
            "webhook signed with an id that is not evt_",
            webhook(
                Some(signed(&event.replace("evt_bad1", "x1"), now, SECRET)),
                event.replace("evt_bad1", "x1").into(),
            ),
            400,
        ),
        ("intake body that is not JSON", intake("{"), 422),
        (
            "intake with an unknown field",
            intake(r#"{"user_id":"u1","subject":"s","message":"m","admin":true}"#),
            422,
        ),
        (
            "intake subject of 201 characters",
            intake(&format!(
                r#"{{"user_id":"u1","subject":"{}","message":"m"}}"#,
                "s".repeat(201)
            )),
            422,
        ),
        (
            "intake without a key",
            app.client
                .post(app.url("/api/v1/support/tickets"))
                .body("{}"),
            401,
        ),
        (
            "refund amount that is not a number",
            server_fn(&billing, "refund_request", &refund("abc", "ch_real")),
            422,
        ),
        (
            "refund of zero",
            server_fn(&billing, "refund_request", &refund("0", "ch_real")),
            422,
        ),
        (
            "refund of more than was paid",
            server_fn(&billing, "refund_request", &refund("42.01", "ch_real")),
            422,
        ),
        (
            "refund with too many decimals",
            server_fn(&billing, "refund_request", &refund("1.005", "ch_real")),
            422,
        ),
        (
            "refund of an unknown payment",
            server_fn(&billing, "refund_request", &refund("1.00", "ch_none")),
            404,
        ),
        (
            "refund asked by a viewer",
            server_fn(&viewer, "refund_request", &refund("1.00", "ch_none")),
            403,
        ),
        (
            "refund posted from another site",
            billing
                .post(app.url("/api/fn/refund_request"))
                .header("origin", "https://evil.example")
                .form(&refund("1.00", "ch_none")),
            403,
        ),
        (
            "refund while signed out",
            app.client
                .post(app.url("/api/fn/refund_request"))
                .header("origin", app.origin())
                .form(&refund("1.00", "ch_none")),
            401,
        ),
        (
            "audit export with an unknown outcome",
            viewer.get(app.url("/api/audit/export.csv?outcome=maybe")),
            403,
        ),
        (
            "unknown API path",
            app.client.get(app.url("/api/nope")),
            404,
        ),
        (
            "server function without its arguments",
            server_fn(&billing, "refund_request", &[]),
            400,
        ),
        (
            "server function argument of the wrong type",
            server_fn(
                &admin,
                "staff_active",
                &[("id", "x"), ("active", "perhaps")],
            ),
            400,
        ),
    ];
    let mut wrong = Vec::new();
    for (what, req, expected) in cases {
        let status = req.send().await.unwrap().status().as_u16();
        if status != expected {
            wrong.push(format!("{what}: {status}, expected {expected}"));
        }
    }
    // Over 1 MiB: refused on its Content-Length before the body is read. A client still
    // writing the body may see the connection close first, so this one is sent by hand.
    let status = status_of_head(
        app.addr,
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n",
    )
    .await;
    if status != 413 {
        wrong.push(format!("webhook body over 1 MiB: {status}, expected 413"));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let body = server_fn(&billing, "refund_request", &[])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !body.contains("missing field"),
        "serde's words stay in the log: {body}"
    );
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}
