//! The home page's figures from a mirror built by signed webhooks: MRR now and 30 days ago,
//! the daily MRR series, dunning, failed payments today, urgent tickets, jobs and the
//! attention list.

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::stripe_mirror::{event, object};
use crate::tickets_intake::{app_with, new_key, post};
use app::domain::Role;
use serde_json::{json, Value};

both_backends!(the_overview_adds_up_the_mirror);

const SECRET: &str = "whsec_ticket_tests_00000000001";
const DAY: i64 = 86_400;

fn subscription(
    id: &str,
    customer: &str,
    status: &str,
    amount: i64,
    interval: &str,
    created: i64,
    ended: Option<i64>,
) -> Value {
    object(
        "subscription",
        json!({
            "id": id, "customer": customer, "status": status, "created": created,
            "current_period_start": created, "current_period_end": created + 30 * DAY,
            "trial_start": null, "trial_end": null, "canceled_at": ended, "ended_at": ended, "plan": null,
            "items": { "object": "list", "data": [{ "quantity": 1, "price": {
                "id": format!("price_{id}"), "unit_amount": amount, "currency": "usd", "nickname": "Plan",
                "recurring": { "interval": interval } } }] }
        }),
    )
}

/// Now, in Unix seconds, at least a minute into the UTC day and two minutes before its end.
/// "Failed payments today" counts from 00:00 UTC, so a run that straddles midnight counted
/// cus_4's failure (made a minute back) as yesterday's; a CI run at midnight met that.
async fn clear_of_midnight() -> i64 {
    const DAY: i64 = 86_400;
    let into_day = chrono::Utc::now().timestamp().rem_euclid(DAY);
    let wait = if into_day < 60 {
        61 - into_day
    } else if into_day > DAY - 120 {
        DAY - into_day + 61
    } else {
        0
    };
    tokio::time::sleep(std::time::Duration::from_secs(wait as u64)).await;
    chrono::Utc::now().timestamp()
}

async fn deliver(app: &TestApp, id: &str, kind: &str, created: i64, object: Value) {
    assert_eq!(
        app.deliver_stripe(SECRET, &event(id, kind, created, object))
            .await,
        200
    );
}

async fn the_overview_adds_up_the_mirror(backend: Backend) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    let now = clear_of_midnight().await;
    for (n, cus) in ["cus_1", "cus_2", "cus_3", "cus_4"].iter().enumerate() {
        let c = object(
            "customer",
            json!({ "id": cus, "email": format!("{cus}@example.com"), "name": format!("Customer {n}"), "metadata": {} }),
        );
        deliver(
            &app,
            &format!("evt_c{n}"),
            "customer.created",
            now - 70 * DAY,
            c,
        )
        .await;
    }
    let subs = [
        (
            "sub_1",
            "cus_1",
            "active",
            2000,
            "month",
            now - 40 * DAY,
            None,
        ),
        (
            "sub_2",
            "cus_2",
            "active",
            12_000,
            "year",
            now - 10 * DAY,
            None,
        ),
        (
            "sub_3",
            "cus_3",
            "canceled",
            500,
            "month",
            now - 60 * DAY,
            Some(now - 10 * DAY),
        ),
        (
            "sub_4",
            "cus_4",
            "active",
            300,
            "month",
            now - 5 * DAY,
            None,
        ),
    ];
    for (id, cus, status, amount, interval, created, ended) in subs {
        let kind = if status == "canceled" {
            "customer.subscription.deleted"
        } else {
            "customer.subscription.created"
        };
        deliver(
            &app,
            &format!("evt_{id}"),
            kind,
            created.max(now - DAY),
            subscription(id, cus, status, amount, interval, created, ended),
        )
        .await;
    }
    // cus_4's card fails today: dunning and a failed payment.
    let invoice = object(
        "invoice",
        json!({ "id": "in_4", "customer": "cus_4", "status": "open", "attempt_count": 1, "amount_due": 300,
                "amount_paid": 0, "amount_remaining": 300, "currency": "usd", "created": now - 60 }),
    );
    deliver(&app, "evt_in4", "invoice.payment_failed", now - 60, invoice).await;
    let charge = object(
        "charge",
        json!({ "id": "ch_4", "customer": "cus_4", "amount": 300, "amount_refunded": 0, "currency": "usd",
                "status": "failed", "paid": false, "refunded": false, "disputed": false, "created": now - 60 }),
    );
    deliver(&app, "evt_ch4", "charge.failed", now - 60, charge).await;
    for (kind, outcome) in app.run_due_jobs().await {
        assert_eq!(outcome, app::server::jobs::RunOutcome::Succeeded, "{kind}");
    }
    let key = new_key(&app, "Product").await;
    let t = post(
        &app,
        Some(&key),
        &json!({ "email": "cus_4@example.com", "subject": "My card", "message": "Declined?" })
            .to_string(),
        None,
    )
    .await;
    assert_eq!(t.body["queue"], "billing_urgent", "{}", t.body);

    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, o) = app.call_fn(&viewer, "overview", &[]).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        o["mrr"],
        json!([{ "amount": 2000 + 1000 + 300, "currency": "usd" }]),
        "monthly + yearly/12 + dunning"
    );
    assert_eq!(
        o["mrr_30d_ago"],
        json!([{ "amount": 2000 + 500, "currency": "usd" }]),
        "sub_1 and the since-canceled sub_3"
    );
    assert_eq!(o["active_subscriptions"], 3);
    assert_eq!(o["dunning_accounts"], 1);
    assert_eq!(o["failed_payments_today"], 1);
    assert_eq!(o["urgent_tickets_open"], 1);
    // The customer pages' MRR (computed in Rust) adds up to the overview's (computed in SQL).
    let mut pages = 0;
    for cus in ["cus_1", "cus_2", "cus_3", "cus_4"] {
        let id: String =
            sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = $1")
                .bind(cus)
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
        let (_, v) = app.call_fn(&viewer, "customer_view", &[("id", &id)]).await;
        pages += v["mrr"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["amount"].as_i64().unwrap())
            .sum::<i64>();
    }
    assert_eq!(pages, 3300);
    let daily = o["mrr_daily"].as_array().unwrap();
    assert_eq!(daily.len(), 90);
    let value_days_ago = |d: usize| daily[89 - d]["value"].as_i64().unwrap();
    assert_eq!(value_days_ago(0), 3300);
    assert_eq!(value_days_ago(35), 2500);
    assert_eq!(value_days_ago(50), 500, "only sub_3 then");
    assert_eq!(value_days_ago(89), 0);
    let failed = o["failed_daily"].as_array().unwrap();
    assert_eq!((failed.len(), failed[29]["value"].as_i64()), (30, Some(1)));
    let attention: Vec<(String, i64)> = o["attention"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap().to_string(),
                g["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attention[0], ("dunning".to_string(), 1));
    assert_eq!(o["attention"][0]["items"][0]["title"], "Customer 3");

    let html = app.html(&viewer, "/").await;
    assert!(
        html.contains("33.00 USD") && html.contains("+8.00 USD vs 30 days ago"),
        "KPIs render server-side"
    );
    assert!(
        html.contains("<svg") && html.contains("MRR per day, last 90 days"),
        "charts are inline SVG"
    );
    assert!(
        html.contains("href=\"/tickets?queue=billing_urgent\""),
        "KPIs link to their lists"
    );
}
