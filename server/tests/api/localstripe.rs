//! Against localstripe (a third-party stateful Stripe fake, started by scripts/test.sh): we
//! create a customer, a card and a subscription there; localstripe signs and delivers its own
//! webhooks to our endpoint, and the mirror must end with the customer active on that plan.
//! Skipped when LOCALSTRIPE_URL is unset, except under CI=true where the script requires it.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use std::time::{Duration, Instant};

both_backends!(
    localstripe_deliveries_fill_the_mirror,
    with_an_api_key_processing_applies_the_current_state,
    backfill_pages_resumes_and_changes_nothing_the_second_time,
    resync_fetches_one_customer_and_audits_the_diff,
    an_admin_starts_the_backfill_job_and_staff_see_its_progress,
);

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

/// Creates a plan (unless it exists), then gives `customer` a card and an active subscription
/// to it at localstripe.
async fn subscribe(
    http: &reqwest::Client,
    ls: &str,
    customer: &str,
    plan: &str,
    amount: &str,
    currency: &str,
) {
    let _ = http
        .post(format!("{ls}/v1/plans"))
        .bearer_auth(KEY)
        .form(&[
            ("id", plan),
            ("amount", amount),
            ("currency", currency),
            ("interval", "month"),
            ("product[name]", plan),
        ])
        .send()
        .await
        .unwrap(); // a 409 when an earlier run against this localstripe made it
    let token = create(
        http,
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
        http,
        format!("{ls}/v1/customers/{customer}/sources"),
        &[("source", token["id"].as_str().unwrap())],
    )
    .await;
    let sub = create(
        http,
        format!("{ls}/v1/subscriptions"),
        &[("customer", customer), ("items[0][plan]", plan)],
    )
    .await;
    assert_eq!(sub["status"], "active");
}

/// A server whose Stripe API calls go to localstripe (None when localstripe is not running).
async fn app_with_api_key(backend: Backend) -> Option<(String, TestApp)> {
    let ls = base()?;
    let api_base = ls.clone();
    let app = spawn_app_with(backend, move |v| {
        v.insert("STRIPE_API_KEY".into(), KEY.into());
        v.insert("STRIPE_API_BASE".into(), api_base);
    })
    .await?;
    Some((ls, app))
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
    let email = format!("ada-{}@example.com", uuid::Uuid::new_v4().simple());
    let customer = create(
        &http,
        format!("{ls}/v1/customers"),
        &[("email", email.as_str()), ("name", "Ada")],
    )
    .await;
    let cus = customer["id"].as_str().unwrap().to_string();
    subscribe(&http, &ls, &cus, &plan, "2900", "eur").await;

    // localstripe delivers about a second after each change, in no promised order.
    wait_for_events(
        &app,
        &cus,
        &["customer.created", "customer.subscription.created"],
    )
    .await;
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

/// Waits until localstripe has delivered each of `types` for `customer` at least once.
async fn wait_for_events(app: &TestApp, customer: &str, types: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT event_type FROM stripe_events WHERE stripe_customer_id = $1",
        )
        .bind(customer)
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
        if types.iter().all(|t| got.iter().any(|g| g == t)) {
            return;
        }
        assert!(Instant::now() < deadline, "for {customer} only {got:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn with_an_api_key_processing_applies_the_current_state(backend: Backend) {
    let Some(ls) = base() else {
        return;
    };
    let secret = format!("whsec_ls_{}", uuid::Uuid::new_v4().simple());
    let (s, api) = (secret.clone(), ls.clone());
    let Some(app) = spawn_app_with(backend, move |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), s);
        v.insert("STRIPE_API_KEY".into(), KEY.into());
        v.insert("STRIPE_API_BASE".into(), api);
    })
    .await
    else {
        return;
    };
    let http = reqwest::Client::new();
    let hook = uuid::Uuid::new_v4().simple().to_string();
    http.post(format!("{ls}/_config/webhooks/{hook}"))
        .form(&[("url", app.url("/api/webhooks/stripe")), ("secret", secret)])
        .send()
        .await
        .unwrap();
    let first = format!("first-{}@example.com", uuid::Uuid::new_v4().simple());
    let customer = create(
        &http,
        format!("{ls}/v1/customers"),
        &[("email", first.as_str())],
    )
    .await;
    let cus = customer["id"].as_str().unwrap().to_string();
    let second = format!("second-{}@example.com", uuid::Uuid::new_v4().simple());
    create(
        &http,
        format!("{ls}/v1/customers/{cus}"),
        &[("email", second.as_str())],
    )
    .await;
    wait_for_events(&app, &cus, &["customer.created", "customer.updated"]).await;
    app.run_due_jobs().await;
    let email = |app: &TestApp| {
        let db = app.state.db.clone();
        let cus = cus.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT email FROM stripe_customers WHERE id = $1",
            )
            .bind(cus)
            .fetch_one(db.pool())
            .await
            .unwrap()
        }
    };
    assert_eq!(email(&app).await.as_deref(), Some(second.as_str()));

    // Change it at Stripe, then at once (localstripe delivers a second later) replay the old
    // customer.created: its snapshot says `first`; only a fetch can know `third`.
    let third = format!("third-{}@example.com", uuid::Uuid::new_v4().simple());
    create(
        &http,
        format!("{ls}/v1/customers/{cus}"),
        &[("email", third.as_str())],
    )
    .await;
    let created: String = sqlx::query_scalar(
        "SELECT id FROM stripe_events WHERE stripe_customer_id = $1 AND event_type = 'customer.created'",
    )
    .bind(&cus)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    app::server::stripe::webhooks::replay(
        &app.state.db,
        &app::server::actor::Actor::System,
        &Default::default(),
        &created,
        now,
    )
    .await
    .unwrap();
    let ran = app.run_due_jobs().await;
    assert!(ran
        .iter()
        .all(|(_, o)| *o == app::server::jobs::RunOutcome::Succeeded));
    assert_eq!(
        email(&app).await.as_deref(),
        Some(third.as_str()),
        "fetched, not the stale snapshot"
    );
}

/// The mirrored customers among `ids`, as (id, email, account state), sorted.
async fn mirrored(app: &TestApp, ids: &[String]) -> Vec<(String, Option<String>, String)> {
    let mut out = Vec::new();
    for id in ids {
        let row: Option<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT s.id, s.email, c.account_state FROM stripe_customers s JOIN customers c ON c.id = s.customer_id WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(app.state.db.pool())
        .await
        .unwrap();
        out.extend(row);
    }
    out.sort();
    out
}

async fn backfill_pages_resumes_and_changes_nothing_the_second_time(backend: Backend) {
    use app::server::stripe::{api::StripeApi, backfill};
    let Some(ls) = base() else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let http = reqwest::Client::new();
    let plan = format!("basic-{}", backend.name());
    let mut ids = Vec::new();
    for i in 0..3 {
        let email = format!("bf{i}-{}@example.com", uuid::Uuid::new_v4().simple());
        let c = create(
            &http,
            format!("{ls}/v1/customers"),
            &[("email", email.as_str())],
        )
        .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    subscribe(&http, &ls, &ids[0], &plan, "900", "usd").await;

    let api = StripeApi::new(&app::server::secret::Secret::new(KEY), &ls).unwrap();
    let db = &app.state.db;
    // Interrupted after two pages of two: the cursor is kept.
    let mut seen = 0;
    let partial = backfill::run(db, &api, &Default::default(), 2, Some(2), |_| seen += 1)
        .await
        .unwrap();
    assert_eq!(seen, 2);
    assert!(!partial.last().unwrap().done);
    let cursor: Option<String> =
        sqlx::query_scalar("SELECT cursor FROM stripe_backfill WHERE resource = 'customer'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(cursor.is_some(), "resume point saved");
    // Resumed to the end.
    let all = backfill::run(db, &api, &Default::default(), 2, None, |_| {})
        .await
        .unwrap();
    assert!(all.iter().all(|p| p.done), "{all:?}");
    let first = mirrored(&app, &ids).await;
    assert_eq!(first.len(), 3, "every customer mirrored: {first:?}");
    assert!(
        first
            .iter()
            .any(|(id, _, state)| *id == ids[0] && state == "active"),
        "{first:?}"
    );
    // Nothing left to do; a full restart lands on the same mirror.
    let again = backfill::run(db, &api, &Default::default(), 2, None, |_| {})
        .await
        .unwrap();
    assert!(again.iter().all(|p| p.pages == 0));
    backfill::reset(db).await.unwrap();
    backfill::run(db, &api, &Default::default(), 100, None, |_| {})
        .await
        .unwrap();
    assert_eq!(mirrored(&app, &ids).await, first);
}

#[test]
fn the_backfill_command_reports_each_resource_and_needs_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerline"));
        cmd.env_clear()
            .current_dir(dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/bf.db", dir.path().display()),
            )
            .args(["stripe-backfill", "--page-size", "50"]);
        if let (Some(k), Some(ls)) = (key, base()) {
            cmd.env("STRIPE_API_KEY", k).env("STRIPE_API_BASE", ls);
        }
        cmd.output().unwrap()
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("STRIPE_API_KEY is not set"));
    if base().is_none() {
        return;
    }
    let out = run(Some(KEY));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for resource in ["customer", "subscription", "invoice", "charge", "refund"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(resource) && l.ends_with("objects")),
            "{stdout}"
        );
    }
    assert!(
        !stdout.contains(KEY) && !String::from_utf8_lossy(&out.stderr).contains(KEY),
        "the key never shows"
    );
}

async fn resync_fetches_one_customer_and_audits_the_diff(backend: Backend) {
    use app::domain::Role;
    let Some((ls, app)) = app_with_api_key(backend).await else {
        return;
    };
    let http = reqwest::Client::new();
    let plan = format!("team-{}", backend.name());
    let email = format!("rs-{}@example.com", uuid::Uuid::new_v4().simple());
    let c = create(
        &http,
        format!("{ls}/v1/customers"),
        &[("email", email.as_str())],
    )
    .await;
    let cus = c["id"].as_str().unwrap().to_string();
    subscribe(&http, &ls, &cus, &plan, "4900", "usd").await;
    // Known to us only by id (no webhook reached this app): the mirror is empty for it.
    let mut tx = app.state.db.begin().await.unwrap();
    let internal = app::server::stripe::mirror::customers::link(&mut tx, &cus, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, _) = app
        .call_fn(&viewer, "billing_resync", &[("customer_id", &internal)])
        .await;
    assert_eq!(status, 403);
    let (billing, staff) = app.sign_in(Role::Billing).await;
    let (status, body) = app
        .call_fn(&billing, "billing_resync", &[("customer_id", &internal)])
        .await;
    assert_eq!(status, 200, "{body}");
    let changes: serde_json::Value = serde_json::from_str(body.as_str().unwrap()).unwrap();
    assert_eq!(changes["account_state"]["before"], "none");
    assert_eq!(changes["account_state"]["after"], "active");
    assert_eq!(
        changes[format!("stripe_customers:{cus}")]["after"][0],
        email.as_str()
    );
    assert!(changes
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("stripe_subscriptions:")));

    let entries = crate::helpers::audit_entries(&app.state.db, "billing.resynced").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_id.as_deref(), Some(staff.id.as_str()));
    assert_eq!(entries[0].customer_id.as_deref(), Some(internal.as_str()));
    assert!(
        entries[0].details.contains("\"after\":\"active\""),
        "{}",
        entries[0].details
    );

    // Again: nothing changed, and that is what the diff says.
    let (_, body) = app
        .call_fn(&billing, "billing_resync", &[("customer_id", &internal)])
        .await;
    assert_eq!(body.as_str().unwrap(), "{}");
    let (status, _) = app
        .call_fn(
            &billing,
            "billing_resync",
            &[("customer_id", "cust_missing")],
        )
        .await;
    assert_eq!(status, 404);
}

async fn an_admin_starts_the_backfill_job_and_staff_see_its_progress(backend: Backend) {
    use app::domain::Role;
    let Some((ls, app)) = app_with_api_key(backend).await else {
        return;
    };
    // localstripe is shared by the tests: have one customer of our own, whatever ran before.
    let client = reqwest::Client::new();
    create(
        &client,
        format!("{ls}/v1/customers"),
        &[("email", "backfill-job@example.com")],
    )
    .await;
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (status, view) = app.call_fn(&viewer, "billing_backfill_status", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(view["can_start"], false);
    assert_eq!(view["progress"].as_array().unwrap().len(), 0);
    let (status, _) = app.call_fn(&viewer, "billing_backfill_start", &[]).await;
    assert_eq!(status, 403);

    let (admin, _) = app.sign_in(Role::Admin).await;
    let (_, view) = app.call_fn(&admin, "billing_backfill_status", &[]).await;
    assert_eq!(view["can_start"], true);
    let (status, job) = app.call_fn(&admin, "billing_backfill_start", &[]).await;
    assert_eq!(status, 200, "{job}");
    let (status, _) = app.call_fn(&admin, "billing_backfill_start", &[]).await;
    assert_eq!(status, 409, "one at a time");
    let (_, view) = app.call_fn(&admin, "billing_backfill_status", &[]).await;
    assert_eq!(view["running"], true);

    let ran = app.run_due_jobs().await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].1, app::server::jobs::RunOutcome::Succeeded);
    let (_, view) = app.call_fn(&viewer, "billing_backfill_status", &[]).await;
    assert_eq!(view["running"], false);
    let progress = view["progress"].as_array().unwrap();
    assert_eq!(progress.len(), 5);
    assert!(progress.iter().all(|p| p["done"] == true), "{view}");
    assert!(
        progress[0]["objects"].as_i64().unwrap() > 0,
        "localstripe has customers"
    );
    let entries = crate::helpers::audit_entries(&app.state.db, "billing.backfill_started").await;
    assert_eq!(entries.len(), 1);
}
