//! Against localstripe (a third-party stateful Stripe fake, started by scripts/test.sh): we
//! create a customer, a card and a subscription there; localstripe signs and delivers its own
//! webhooks to our endpoint, and the mirror must end with the customer active on that plan.
//! Skipped when LOCALSTRIPE_URL is unset, except under CI=true where the script requires it.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use std::time::{Duration, Instant};

both_backends!(localstripe_deliveries_fill_the_mirror);

const KEY: &str = "sk_test_localstripe_0000000001";

fn base() -> Option<String> {
    match std::env::var("LOCALSTRIPE_URL") {
        Ok(u) => Some(u),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true requires LOCALSTRIPE_URL (scripts/test.sh starts localstripe)")
        }
        Err(_) => None,
    }
}

async fn create(client: &reqwest::Client, url: String, form: &[(&str, &str)]) -> serde_json::Value {
    let res = client
        .post(url)
        .bearer_auth(KEY)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn state_of(app: &TestApp, customer: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT c.account_state FROM customers c JOIN stripe_customers s ON s.customer_id = c.id WHERE s.id = $1",
    )
    .bind(customer)
    .fetch_optional(app.state.db.pool())
    .await
    .unwrap()
}

async fn localstripe_deliveries_fill_the_mirror(backend: Backend) {
    let Some(ls) = base() else {
        return;
    };
    let secret = format!("whsec_ls_{}", uuid::Uuid::new_v4().simple());
    let s = secret.clone();
    let Some(app) = spawn_app_with(backend, move |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), s);
    })
    .await
    else {
        return;
    };
    let http = reqwest::Client::new();
    let hook = uuid::Uuid::new_v4().simple().to_string();
    let res = http
        .post(format!("{ls}/_config/webhooks/{hook}"))
        .form(&[
            ("url", app.url("/api/webhooks/stripe")),
            ("secret", secret.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());

    let plan = format!("pro-{}", backend.name());
    let _ = http
        .post(format!("{ls}/v1/plans"))
        .bearer_auth(KEY)
        .form(&[
            ("id", plan.as_str()),
            ("amount", "2900"),
            ("currency", "eur"),
            ("interval", "month"),
            ("product[name]", "Pro"),
        ])
        .send()
        .await
        .unwrap(); // may exist from an earlier run against the same localstripe
    let email = format!("ada-{}@example.com", uuid::Uuid::new_v4().simple());
    let customer = create(
        &http,
        format!("{ls}/v1/customers"),
        &[("email", email.as_str()), ("name", "Ada")],
    )
    .await;
    let cus = customer["id"].as_str().unwrap().to_string();
    let token = create(
        &http,
        format!("{ls}/v1/tokens"),
        &[
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ],
    )
    .await;
    create(
        &http,
        format!("{ls}/v1/customers/{cus}/sources"),
        &[("source", token["id"].as_str().unwrap())],
    )
    .await;
    let sub = create(
        &http,
        format!("{ls}/v1/subscriptions"),
        &[
            ("customer", cus.as_str()),
            ("items[0][plan]", plan.as_str()),
        ],
    )
    .await;
    assert_eq!(sub["status"], "active");

    // localstripe delivers about a second after each change.
    let deadline = Instant::now() + Duration::from_secs(20);
    while state_of(&app, &cus).await.as_deref() != Some("active") {
        assert!(
            Instant::now() < deadline,
            "no active account for {cus} in time"
        );
        app.run_due_jobs().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM stripe_events WHERE stripe_customer_id = $1 AND status = 'processed' ORDER BY event_type",
    )
    .bind(&cus)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    assert!(kinds.contains(&"customer.created".to_string()), "{kinds:?}");
    assert!(
        kinds.contains(&"customer.subscription.created".to_string()),
        "{kinds:?}"
    );
    let (status, price, amount, currency): (String, Option<String>, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT status, price_id, unit_amount, currency FROM stripe_subscriptions WHERE stripe_customer_id = $1",
    )
    .bind(&cus)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(status, "active");
    assert_eq!(
        price.as_deref(),
        Some(plan.as_str()),
        "old API: the plan is the price"
    );
    assert_eq!((amount, currency.as_deref()), (Some(2900), Some("eur")));
    let mirrored_email: Option<String> =
        sqlx::query_scalar("SELECT email FROM stripe_customers WHERE id = $1")
            .bind(&cus)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(mirrored_email.as_deref(), Some(email.as_str()));
}
