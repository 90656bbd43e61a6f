//! CRM sync against the HubSpot-shaped fake: a thousand customers through 30 % injected faults
//! end as exactly a thousand contacts; the identity rules link by email only when it is safe and
//! never by name; a validation error is permanent with HubSpot's message kept; a billing change
//! from Stripe enqueues one coalesced sync that writes the mapped properties.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::hubspot_fake::{FakeHubSpot, TOKEN};
use crate::stripe_mirror::{event, object};
use app::server::crm::sync_queue;
use app::server::jobs::{self, RetryPolicy};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    a_thousand_customers_through_injected_faults_make_exactly_a_thousand_contacts,
    a_crm_outage_mid_run_delays_syncs_and_loses_or_duplicates_none,
    email_links_only_when_safe_and_names_never_match,
    a_validation_error_is_permanent_and_keeps_hubspots_message,
    a_billing_change_enqueues_one_coalesced_sync_with_the_mapped_properties,
);

pub(crate) const SECRET: &str = "whsec_crm_tests_0000000000001";
/// The client gives up after this; the fake's slow answers come later.
const CLIENT_TIMEOUT_MS: &str = "150";

pub(crate) async fn app(backend: Backend, fake: &FakeHubSpot) -> Option<TestApp> {
    let base = fake.url.clone();
    spawn_app_with(backend, move |v| {
        v.insert("CRM_PROVIDER".into(), "hubspot".into());
        v.insert("HUBSPOT_TOKEN".into(), TOKEN.into());
        v.insert("HUBSPOT_API_BASE".into(), base);
        v.insert("HUBSPOT_TIMEOUT_MS".into(), CLIENT_TIMEOUT_MS.into());
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
    })
    .await
}

/// Customers straight into the table, with no sync queued (as if they predate the CRM).
pub(crate) async fn insert_customers(app: &TestApp, rows: &[(&str, Option<&str>, &str)]) {
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = app.state.db.begin().await.unwrap();
    for (id, email, name) in rows {
        sqlx::query(
            "INSERT INTO customers (id, name, email, email_normalized, account_state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'active', $5, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(email)
        .bind(email.map(|e| e.trim().to_lowercase()))
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Customers with a sync queued for each.
async fn add_customers(app: &TestApp, rows: &[(&str, Option<&str>, &str)]) {
    insert_customers(app, rows).await;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = app.state.db.begin().await.unwrap();
    for (id, ..) in rows {
        sync_queue::enqueue(&mut tx, id, "test", now).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Runs every job, `runners` at a time, moving the clock past every back-off, until none is
/// waiting. Returns how many runs there were.
pub(crate) async fn drain(app: &TestApp, runners: usize) -> usize {
    let registry = Arc::new(app::server::wiring::registry(
        &app.state.config,
        &app.state.connectors,
    ));
    let mut now = chrono::Utc::now().timestamp_millis();
    let mut runs = 0;
    for _round in 0..60 {
        let mut tasks = Vec::new();
        for r in 0..runners {
            let (db, registry) = (app.state.db.clone(), registry.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                while jobs::run_one(
                    &db,
                    &registry,
                    &format!("t{r}"),
                    &RetryPolicy::default(),
                    &|| now,
                    0.5,
                )
                .await
                .unwrap()
                .is_some()
                {
                    n += 1;
                }
                n
            }));
        }
        for t in tasks {
            runs += t.await.unwrap();
        }
        let waiting = waiting(app).await;
        if waiting == 0 {
            return runs;
        }
        now += 2 * 3_600_000;
    }
    panic!("jobs still waiting after 60 rounds");
}

/// A HubSpot fake failing 30 % of calls (seeded, so repeatable), an app syncing to it, and
/// `n` customers `cust_{prefix}NNNN` with a sync queued for each; returns their ids.
async fn faulty_hubspot(
    backend: Backend,
    seed: u64,
    prefix: &str,
    n: usize,
) -> Option<(Arc<FakeHubSpot>, TestApp, Vec<String>)> {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    {
        let mut s = fake.state.lock().unwrap();
        s.fault_rate = 0.3;
        s.seed = seed;
    }
    let app = app(backend, &fake).await?;
    let ids: Vec<String> = (0..n).map(|i| format!("cust_{prefix}{i:04}")).collect();
    let emails: Vec<String> = (0..n).map(|i| format!("{prefix}{i}@example.com")).collect();
    let rows: Vec<(&str, Option<&str>, &str)> = ids
        .iter()
        .zip(&emails)
        .map(|(id, e)| (id.as_str(), Some(e.as_str()), "Load Tester"))
        .collect();
    add_customers(&app, &rows).await;
    Some((fake, app, ids))
}

/// Jobs that will still run.
async fn waiting(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'failed_retrying', 'running')",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

async fn job_statuses(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT status, COUNT(*) FROM jobs WHERE kind = 'crm.sync' GROUP BY status ORDER BY status",
    )
    .fetch_all(app.state.db.pool())
    .await
    .unwrap()
}

async fn a_thousand_customers_through_injected_faults_make_exactly_a_thousand_contacts(
    backend: Backend,
) {
    let Some((fake, app, ids)) = faulty_hubspot(backend, 0x5eed_1234_abcd, "load", 1000).await
    else {
        return;
    };
    let runs = drain(&app, 4).await;

    assert_eq!(
        job_statuses(&app).await,
        vec![("succeeded".to_string(), 1000)],
        "every sync succeeded in the end"
    );
    let (faults, requests) = {
        let s = fake.state.lock().unwrap();
        assert_eq!(s.contacts.len(), 1000, "exactly one contact per customer");
        for id in &ids {
            assert_eq!(
                s.contacts
                    .values()
                    .filter(|p| p.get("ledgerline_id") == Some(id))
                    .count(),
                1,
                "{id}"
            );
        }
        (s.faults_injected, s.requests.len())
    };
    assert!(
        faults * 100 >= requests * 25,
        "about 30 % of {requests} requests failed: {faults}"
    );
    assert!(runs > 1000, "failed attempts were retried: {runs} runs");
    // Timeouts where HubSpot had already written: the retry upserted the same contact.
    let lost_answers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_attempts WHERE error LIKE '%did not answer within%'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert!(lost_answers > 50, "{lost_answers} answers came too late");
    let rate_limited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM job_attempts WHERE error LIKE 'HubSpot 429%'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert!(rate_limited > 50, "{rate_limited} 429s were retried");
    let created: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM crm_syncs WHERE result IN ('created', 'linked')")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(created, 1000);
    eprintln!(
        "{}: 1000 customers, {requests} HubSpot requests, {faults} faults injected \
         ({rate_limited} 429s and {lost_answers} late answers retried), {runs} job runs",
        backend.name()
    );
}

/// 30 % of calls fail as before, and the CRM is down for ten minutes (connections refused
/// and cut) while syncs are going out. The clock is the test's: every 15 s of it, up to ten
/// due jobs run, so the run spans the outage as a steady stream would.
async fn a_crm_outage_mid_run_delays_syncs_and_loses_or_duplicates_none(backend: Backend) {
    const CUSTOMERS: usize = 400;
    let Some((fake, app, ids)) = faulty_hubspot(backend, 0x07a6_e5ee_d001, "out", CUSTOMERS).await
    else {
        return;
    };

    let registry = app::server::wiring::registry(&app.state.config, &app.state.connectors);
    let start = chrono::Utc::now().timestamp_millis();
    let outage = (start + 3 * 60_000)..(start + 13 * 60_000);
    let (mut now, mut succeeded_before_outage, mut failed_during_outage) = (start, 0, 0);
    loop {
        fake.set_down(outage.contains(&now));
        for _ in 0..10 {
            let Some((_, outcome)) = jobs::run_one(
                &app.state.db,
                &registry,
                "outage",
                &RetryPolicy::default(),
                &|| now,
                0.5,
            )
            .await
            .unwrap() else {
                break;
            };
            if now < outage.start && outcome == jobs::RunOutcome::Succeeded {
                succeeded_before_outage += 1;
            }
            if outage.contains(&now) && outcome != jobs::RunOutcome::Succeeded {
                failed_during_outage += 1;
            }
        }
        let waiting = waiting(&app).await;
        if waiting == 0 {
            break;
        }
        now += 15_000;
        assert!(
            now < start + 6 * 3_600_000,
            "{waiting} syncs still waiting after 6 hours"
        );
    }

    assert!(
        succeeded_before_outage > 0 && (succeeded_before_outage as usize) < CUSTOMERS,
        "the outage began mid-run ({succeeded_before_outage} synced before it)"
    );
    assert!(
        failed_during_outage > 10,
        "{failed_during_outage} attempts met the outage"
    );
    assert_eq!(
        job_statuses(&app).await,
        vec![("succeeded".to_string(), CUSTOMERS as i64)],
        "every sync completed after the CRM came back"
    );
    let unreachable: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_attempts WHERE error IN ('HubSpot could not be reached', 'HubSpot''s answer was cut off')",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert!(
        unreachable > 0,
        "the outage was seen as the CRM being unreachable"
    );
    let s = fake.state.lock().unwrap();
    assert_eq!(s.contacts.len(), CUSTOMERS, "no duplicate contacts");
    for id in &ids {
        let n = s
            .contacts
            .values()
            .filter(|p| p.get("ledgerline_id") == Some(id))
            .count();
        assert_eq!(n, 1, "{id}");
    }
    eprintln!(
        "{}: {CUSTOMERS} customers, {} requests, {} faults injected, {failed_during_outage} attempts failed in the outage \
         ({unreachable} unreachable), all synced by minute {}",
        backend.name(),
        s.requests.len(),
        s.faults_injected,
        (now - start) / 60_000
    );
}

async fn email_links_only_when_safe_and_names_never_match(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    let (ada, cy_other) = {
        let mut s = fake.state.lock().unwrap();
        let ada = s.add_contact(&[("email", "ada@example.com"), ("firstname", "Ada")]);
        s.add_contact(&[("email", "bob@example.com")]);
        s.add_contact(&[("email", "bob@example.com")]);
        let cy = s.add_contact(&[
            ("email", "cy@example.com"),
            ("ledgerline_id", "cust_someone_else"),
        ]);
        s.add_contact(&[("firstname", "Dee"), ("lastname", "Lee")]);
        s.add_contact(&[("email", "twin@example.com")]);
        (ada, cy)
    };
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    add_customers(
        &app,
        &[
            ("cust_ada", Some(" ADA@Example.com "), "Ada Lovelace"),
            ("cust_bob", Some("bob@example.com"), "Bob"),
            ("cust_cy", Some("cy@example.com"), "Cy"),
            ("cust_dee", Some("dee@example.com"), "Dee Lee"),
            ("cust_twin1", Some("twin@example.com"), "Twin One"),
            ("cust_twin2", Some("twin@example.com"), "Twin Two"),
        ],
    )
    .await;
    drain(&app, 1).await;
    assert_eq!(
        job_statuses(&app).await,
        vec![("succeeded".to_string(), 6)],
        "conflicts are explained, not failures"
    );

    let linked: Option<String> =
        sqlx::query_scalar("SELECT crm_contact_id FROM customers WHERE id = 'cust_ada'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        linked.as_deref(),
        Some(ada.as_str()),
        "the unclaimed contact with the same email"
    );
    assert_eq!(
        fake.count_with("email", "ada@example.com"),
        1,
        "no second contact"
    );
    assert_eq!(fake.count_with("ledgerline_id", "cust_ada"), 1);

    let conflicts: Vec<(String, String)> = sqlx::query_as(
        "SELECT customer_id, kind FROM identity_conflicts WHERE status = 'open' ORDER BY customer_id",
    )
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        conflicts,
        vec![
            ("cust_bob".into(), "email_ambiguous".into()),
            ("cust_cy".into(), "email_taken".into()),
            ("cust_twin1".into(), "email_ambiguous".into()),
            ("cust_twin2".into(), "email_ambiguous".into()),
        ]
    );
    for (customer, email) in [
        ("cust_bob", "bob@example.com"),
        ("cust_cy", "cy@example.com"),
    ] {
        let contact: Option<String> =
            sqlx::query_scalar("SELECT crm_contact_id FROM customers WHERE id = $1")
                .bind(customer)
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
        assert_eq!(contact, None, "{customer} is not linked by a guess");
        assert_eq!(
            fake.count_with("ledgerline_id", customer),
            0,
            "and nothing was created for {email}"
        );
    }
    assert_eq!(
        fake.count_with("ledgerline_id", "cust_someone_else"),
        1,
        "the other customer's contact ({cy_other}) is untouched"
    );
    // Names never match: Dee Lee gets her own contact beside the nameless one.
    assert_eq!(fake.count_with("lastname", "Lee"), 2);
    assert_eq!(fake.count_with("ledgerline_id", "cust_dee"), 1);

    // A second run of every sync changes nothing: no calls for the linked, no new conflicts.
    let before = fake.state.lock().unwrap().requests.len();
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = app.state.db.begin().await.unwrap();
    for c in ["cust_ada", "cust_dee", "cust_bob"] {
        sync_queue::enqueue(&mut tx, c, "test", now).await.unwrap();
    }
    tx.commit().await.unwrap();
    drain(&app, 1).await;
    let calls: Vec<(String, String)> = fake.state.lock().unwrap().requests[before..].to_vec();
    assert!(
        calls.iter().all(|(_, p)| p.ends_with("/search")),
        "only bob's email is looked up again: {calls:?}"
    );
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM identity_conflicts WHERE status = 'open'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(open, 4);
}

async fn a_validation_error_is_permanent_and_keeps_hubspots_message(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    fake.state.lock().unwrap().missing = vec!["ledgerline_mrr".into()];
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    add_customers(&app, &[("cust_val", Some("val@example.com"), "Val")]).await;
    drain(&app, 1).await;
    let (status, attempts, error): (String, i64, Option<String>) =
        sqlx::query_as("SELECT status, attempts, last_error FROM jobs WHERE kind = 'crm.sync'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), attempts),
        ("dead", 1),
        "no retries for a 400"
    );
    let error = error.unwrap();
    assert!(error.starts_with("HubSpot 400:"), "{error}");
    assert!(
        error.contains("PROPERTY_DOESNT_EXIST") && error.contains("ledgerline_mrr"),
        "{error}"
    );
    let (result, recorded): (String, Option<String>) =
        sqlx::query_as("SELECT result, error FROM crm_syncs WHERE customer_id = 'cust_val'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(result, "failed");
    assert_eq!(recorded.as_deref(), Some(error.as_str()));
    assert!(
        !fake.state.lock().unwrap().rejected.is_empty()
            || fake.count_with("ledgerline_id", "cust_val") == 0,
        "nothing was written"
    );
}

async fn a_billing_change_enqueues_one_coalesced_sync_with_the_mapped_properties(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    let mut sub = object(
        "subscription",
        json!({ "id": "sub_H", "customer": "cus_H", "status": "active", "canceled_at": null, "ended_at": null, "cancel_at": null }),
    );
    sub["items"]["data"][0]["price"]["unit_amount"] = json!(120_000);
    sub["items"]["data"][0]["price"]["currency"] = json!("usd");
    sub["items"]["data"][0]["price"]["recurring"]["interval"] = json!("year");
    sub["items"]["data"][0]["quantity"] = json!(1);
    for body in [
        event(
            "evt_h1",
            "customer.created",
            1_700_000_000,
            object(
                "customer",
                json!({ "id": "cus_H", "email": "hal@example.com", "name": "Hal Finney" }),
            ),
        ),
        event(
            "evt_h2",
            "customer.subscription.created",
            1_700_000_001,
            sub,
        ),
    ] {
        assert_eq!(app.deliver_stripe(SECRET, &body).await, 200);
    }
    // Apply both events first (the syncs they ask for wait meanwhile).
    let registry = app::server::wiring::registry(&app.state.config, &app.state.connectors);
    let now = chrono::Utc::now().timestamp_millis();
    for _ in 0..2 {
        jobs::run_one(
            &app.state.db,
            &registry,
            "t",
            &RetryPolicy::default(),
            &|| now,
            0.5,
        )
        .await
        .unwrap()
        .unwrap();
    }
    let pending: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM jobs WHERE status = 'queued' ORDER BY kind")
            .fetch_all(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(pending, vec!["crm.sync"], "two changes, one waiting sync");
    drain(&app, 1).await;

    let customer: String =
        sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = 'cus_H'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    let contact = fake
        .state
        .lock()
        .unwrap()
        .contacts
        .values()
        .find(|p| p.get("ledgerline_id") == Some(&customer))
        .expect("one contact")
        .clone();
    assert_eq!(contact["email"], "hal@example.com");
    assert_eq!(contact["firstname"], "Hal");
    assert_eq!(contact["lastname"], "Finney");
    assert_eq!(contact["lifecyclestage"], "customer");
    assert_eq!(contact["ledgerline_billing_status"], "active");
    assert_eq!(contact["ledgerline_dunning"], "false");
    assert_eq!(
        contact["ledgerline_mrr"], "100.00",
        "1,200.00 a year is 100.00 a month"
    );
    assert!(contact["ledgerline_url"].ends_with(&format!("/customers/{customer}")));
    let timeline: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM customer_events WHERE customer_id = $1 AND source = 'crm'",
    )
    .bind(&customer)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(timeline, vec!["crm.created"]);
}
