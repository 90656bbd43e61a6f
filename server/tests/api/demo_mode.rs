//! DEMO_MODE: the simulated Stripe and CRM behave like the real services for every action staff
//! can take — a refund (with a replayed Idempotency-Key and the webhooks Stripe would send), a
//! re-sync that finds a change whose webhook never came, CRM pushes, merges and refusals — and
//! the seed plants the identity conflicts, duplicates, drift and dead jobs staff should find.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app_with, Backend, TestApp};
use app::domain::Role;
use std::collections::BTreeMap;

both_backends!(
    the_demo_acts_end_to_end_on_simulated_stripe_and_crm,
    a_hand_edit_counts_as_drift_only_when_it_changes_a_value
);

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn scalar(app: &TestApp, sql: &str, bind: &str) -> Option<String> {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_optional(app.state.db.pool())
        .await
        .unwrap()
}

async fn the_demo_acts_end_to_end_on_simulated_stripe_and_crm(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("DEMO_MODE".into(), "true".into());
        v.insert("REFUND_LIMIT_BILLING".into(), "2000".into());
    })
    .await
    else {
        return;
    };
    let (db, config) = (&app.state.db, &app.state.config);
    let report = app.seed_demo(120, 4).await.unwrap();

    // The CRM: every linked customer has exactly one live contact holding its id; the planted
    // people entered twice are conflicts, not guesses; duplicates and drift were found by the
    // import; customers with an email the CRM refuses are dead syncs that say why.
    assert!(
        report.crm_leads > 0 && report.crm_ambiguous > 0,
        "{report:?}"
    );
    let linked = count(
        &app,
        "SELECT COUNT(*) FROM customers WHERE crm_contact_id IS NOT NULL",
    )
    .await;
    assert!(linked >= 100, "{linked} linked");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM demo_crm_contacts WHERE ledgerline_id IS NOT NULL AND merged_into IS NULL").await,
        linked,
        "one contact per linked customer"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(DISTINCT customer_id) FROM identity_conflicts WHERE status = 'open'"
        )
        .await,
        report.crm_ambiguous as i64
    );
    let p = &report.planted;
    assert!(p.drifted > 0 && p.duplicated > 0, "{p:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT customer_id) FROM crm_drift").await,
        p.drifted as i64,
        "the import measured each hand edit as drift"
    );
    assert_eq!(p.refused_emails, 3);
    let dead: Vec<String> = sqlx::query_scalar(
        "SELECT last_error FROM jobs WHERE status = 'dead' AND kind = 'crm.sync' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert!(dead.iter().all(|e| e.contains("INVALID_EMAIL")), "{dead:?}");
    assert_eq!(report.dead_jobs, 3);

    // A duplicate merged from the CRM page leaves one contact in the simulated CRM.
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (status, groups) = app.call_fn(&admin, "crm_duplicates", &[]).await;
    assert_eq!(status, 200, "{groups}");
    let group = groups
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["survivor"]["ledgerline_id"].is_string())
        .expect("a planted duplicate of a linked contact");
    let survivor = group["survivor"]["id"].as_str().unwrap().to_string();
    let key = group["key"].as_str().unwrap();
    let (status, merged) = app.call_fn(&admin, "crm_merge", &[("key", key)]).await;
    assert_eq!(status, 200, "{merged}");
    let merged = merged[0].as_str().expect("one merged").to_string();
    assert_eq!(
        scalar(
            &app,
            "SELECT merged_into FROM demo_crm_contacts WHERE id = $1",
            &merged
        )
        .await,
        Some(survivor)
    );

    // A drifted customer pushed by hand: the CRM gets our values back and the drift clears.
    let drifted: String =
        sqlx::query_scalar("SELECT customer_id FROM crm_drift ORDER BY customer_id LIMIT 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let (status, body) = app
        .call_fn(
            &admin,
            "crm_push",
            &[("customer_id", &drifted), ("cause", "drift")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let contact = scalar(
        &app,
        "SELECT properties FROM demo_crm_contacts WHERE ledgerline_id = $1",
        &drifted,
    )
    .await
    .unwrap();
    // The stage is ours again: the one the mapping gives this customer's state (a trialing
    // customer's is "opportunity", the value hand edits also plant, so compare, do not exclude).
    let state = scalar(
        &app,
        "SELECT account_state FROM customers WHERE id = $1",
        &drifted,
    )
    .await
    .unwrap();
    let state = app::domain::AccountState::parse(&state).unwrap();
    let ours = app
        .state
        .config
        .crm
        .lifecycle
        .iter()
        .find(|(s, _)| *s == state)
        .map(|(_, stage)| stage.clone())
        .unwrap();
    let props: serde_json::Value = serde_json::from_str(&contact).unwrap();
    assert!(!contact.contains("promised on a call"), "{contact}");
    assert_eq!(props["lifecyclestage"], ours.as_str(), "{contact}");
    assert_eq!(
        scalar(
            &app,
            "SELECT customer_id FROM crm_drift WHERE customer_id = $1",
            &drifted
        )
        .await,
        None
    );

    // A change made in Stripe whose webhook never came: the mirror says Starter until a
    // re-sync reads the simulated account, which says Pro.
    assert_eq!(p.missed_webhooks, 2);
    let upgraded: String = sqlx::query_scalar(
        "SELECT id FROM demo_stripe_objects WHERE object_type = 'subscription' AND body LIKE '%price_demo_pro\"%' \
         AND id IN (SELECT id FROM stripe_subscriptions WHERE price_id = 'price_demo_starter') ORDER BY id LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let owner = scalar(
        &app,
        "SELECT c.customer_id FROM stripe_customers c JOIN stripe_subscriptions s ON s.stripe_customer_id = c.id WHERE s.id = $1",
        &upgraded,
    )
    .await
    .unwrap();
    let (billing, _) = app.sign_in(Role::Billing).await;
    let (status, body) = app
        .call_fn(&billing, "billing_resync", &[("customer_id", &owner)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(
            &app,
            "SELECT price_id FROM stripe_subscriptions WHERE id = $1",
            &upgraded
        )
        .await
        .as_deref(),
        Some("price_demo_pro")
    );

    // A refund within the limit: the simulated Stripe refunds once, sends charge.refunded and
    // refund.created, and the mirror shows it; the same form submitted twice refunds once.
    let charge: String = sqlx::query_scalar(
        "SELECT id FROM stripe_charges WHERE status = 'succeeded' AND amount_refunded = 0 AND amount >= 1900 ORDER BY id LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let form = [
        ("charge_id", charge.as_str()),
        ("amount", "5.00"),
        ("reason", "requested_by_customer"),
        ("note", "Goodwill for the outage"),
        ("request_key", "form-1a2b3c4d5e"),
    ];
    let (status, first) = app.call_fn(&billing, "refund_request", &form).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = app.call_fn(&billing, "refund_request", &form).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(first["id"], again["id"], "the second click finds the first");
    let mut bad = form;
    bad[4] = ("request_key", "not a key!");
    let (status, body) = app.call_fn(&billing, "refund_request", &bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM refund_requests").await,
        1,
        "one request from two submits; none from a bad key"
    );
    app.run_due_jobs().await;
    app.run_due_jobs().await; // the webhooks the refund sent
    let refunded = scalar(
        &app,
        "SELECT CAST(amount_refunded AS TEXT) FROM stripe_charges WHERE id = $1",
        &charge,
    )
    .await;
    assert_eq!(refunded.as_deref(), Some("500"));
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM demo_stripe_objects WHERE object_type = 'refund' AND body LIKE '%\"charge\":\"{charge}\"%'")).await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM stripe_events WHERE id LIKE 'evt_sim_%' AND status = 'processed' \
                     AND event_type IN ('charge.refunded', 'refund.created')").await,
        2,
        "charge.refunded and refund.created came through webhook ingest"
    );
    assert_eq!(audit_entries(db, "billing.refund.executed").await.len(), 1);

    // Replaying the execution's Idempotency-Key returns the first refund, as Stripe does; an
    // over-refund is refused with Stripe's words.
    let api = app::server::wiring::Connectors::build(config, db)
        .stripe
        .unwrap();
    let key = first["id"].as_str().unwrap();
    let form = BTreeMap::from([("charge", charge.clone()), ("amount", "500".to_string())]);
    let replay = api.post_idempotent("/refunds", &form, key).await.unwrap();
    assert_eq!(replay["amount"], 500);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM demo_stripe_objects WHERE object_type = 'refund' AND id LIKE 're_sim_%'").await,
        1
    );
    let too_much = BTreeMap::from([
        ("charge", charge.clone()),
        ("amount", "99999999".to_string()),
    ]);
    let refused = api
        .post_idempotent("/refunds", &too_much, "another-key-0001")
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("greater than unrefunded amount"),
        "{refused}"
    );

    // Every page says it is a demo.
    let html = app.html(&app.client, "/login").await;
    assert!(html.contains("Demo mode — simulated Stripe and CRM"));
}

/// The demo counts each planted hand edit as drift the import must find; an "edit" that sets
/// the value the sync already pushed (a trial customer's stage to "opportunity") is none, and
/// counting it made the demo test fail whenever the random customer ids put a trial there.
async fn a_hand_edit_counts_as_drift_only_when_it_changes_a_value(backend: Backend) {
    use app::server::demo::sim_crm::{self, props};
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("DEMO_MODE".into(), "true".into());
    })
    .await
    else {
        return;
    };
    let mut tx = app.state.db.begin().await.unwrap();
    let id = sim_crm::create(
        &mut tx,
        &props(&[
            ("email", "ada@acme.test"),
            ("lifecyclestage", "opportunity"),
        ]),
        1,
    )
    .await
    .unwrap();
    let same = props(&[("lifecyclestage", "opportunity")]);
    assert!(!sim_crm::edit(&mut tx, &id, &same, 2).await.unwrap());
    let other = props(&[("lifecyclestage", "customer")]);
    assert!(sim_crm::edit(&mut tx, &id, &other, 3).await.unwrap());
    assert!(!sim_crm::edit(&mut tx, "no-such-contact", &other, 4)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        scalar(
            &app,
            "SELECT properties FROM demo_crm_contacts WHERE id = $1",
            &id
        )
        .await
        .map(|p| p.contains("\"lifecyclestage\":\"customer\"")),
        Some(true)
    );
}
