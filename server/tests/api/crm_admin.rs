//! The CRM beyond the sync: the import links contacts by the identity rules (resuming after an
//! interruption), finds duplicates and drift; people resolve conflicts, merge duplicates, push
//! and fix drift — each permission-checked and audited. Also: the product user id comes from
//! the configured Stripe metadata key, and every way into the mirror asks for a CRM sync.

use crate::both_backends;
use crate::crm_sync::{app, drain, insert_customers, SECRET};
use crate::helpers::{audit_entries, spawn_app_with, Backend, TestApp};
use crate::hubspot_fake::{FakeHubSpot, Fault, TOKEN};
use crate::stripe_mirror::{event, object};
use app::domain::Role;
use app::server::crm::import;
use serde_json::json;
use std::time::Duration;

both_backends!(
    the_import_links_by_the_rules_resumes_and_finds_duplicates_and_drift,
    push_to_crm_is_permission_checked_audited_and_fixes_drift,
    the_product_user_id_comes_from_the_configured_metadata_key,
    the_cli_import_links_reports_and_is_audited,
);

async fn contact_of(app: &TestApp, customer: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>("SELECT crm_contact_id FROM customers WHERE id = $1")
        .bind(customer)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

fn merges(fake: &FakeHubSpot) -> usize {
    let s = fake.state.lock().unwrap();
    s.requests
        .iter()
        .filter(|(_, p)| p.ends_with("/merge"))
        .count()
}

async fn the_import_links_by_the_rules_resumes_and_finds_duplicates_and_drift(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    let (k_a, k_b, k_c1, k_c2, k_d, k_e) = {
        let mut s = fake.state.lock().unwrap();
        let a = s.add_contact(&[
            ("email", "ann@example.com"),
            ("ledgerline_id", "cust_a"),
            ("ledgerline_plan", "Legacy"),
        ]);
        // Case and spaces differ from the customer's: normalized, it is the same address.
        let b = s.add_contact(&[("email", " Bea@Example.com")]);
        let c1 = s.add_contact(&[("email", "cal@example.com")]);
        let c2 = s.add_contact(&[("email", "CAL@example.com"), ("firstname", "Cal")]);
        let d = s.add_contact(&[("email", "dot@example.com"), ("ledgerline_id", "cust_gone")]);
        let e = s.add_contact(&[("firstname", "Eve"), ("lastname", "Either")]);
        for n in 0..6 {
            s.add_contact(&[("email", &format!("lead{n}@example.com"))]);
        }
        (a, b, c1, c2, d, e)
    };
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    insert_customers(
        &app,
        &[
            ("cust_a", Some("ann@example.com"), "Ann A"),
            ("cust_b", Some("bea@example.com"), "Bea B"),
            ("cust_c", Some("cal@example.com"), "Cal C"),
            ("cust_d", Some("dot@example.com"), "Dot D"),
            ("cust_e", None, "Eve Either"),
        ],
    )
    .await;
    let db = &app.state.db;
    let crm = app.state.connectors.crm.clone().expect("CRM configured");
    let config = app.state.config.clone();

    // Interrupted after two pages of three, then a 429: the cursor holds.
    let partial = import::run(db, crm.as_ref(), &config, 3, Some(2), |_| {})
        .await
        .unwrap();
    assert_eq!((partial.contacts, partial.done), (6, false));
    fake.state.lock().unwrap().fail_next = vec![Fault::RateLimited];
    let err = import::run(db, crm.as_ref(), &config, 3, None, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("HubSpot 429"), "{err}");
    let lists_before = fake.state.lock().unwrap().requests.len();
    let done = import::run(db, crm.as_ref(), &config, 3, None, |_| {})
        .await
        .unwrap();
    assert_eq!((done.contacts, done.done), (12, true));
    assert_eq!(
        fake.state.lock().unwrap().requests.len() - lists_before,
        2,
        "resumed at page three: two more pages, not four"
    );

    let status = import::status(db, &app::server::actor::Actor::System)
        .await
        .unwrap();
    assert_eq!(status.phase, "done");
    assert_eq!(status.contacts, 12);
    assert_eq!(status.linked, 2, "cust_a by our id, cust_b by a safe email");
    assert_eq!(contact_of(&app, "cust_a").await, Some(k_a.clone()));
    assert_eq!(contact_of(&app, "cust_b").await, Some(k_b.clone()));
    assert_eq!(
        contact_of(&app, "cust_c").await,
        None,
        "two contacts share the email"
    );
    assert_eq!(
        contact_of(&app, "cust_d").await,
        None,
        "the contact carries another id"
    );
    assert_eq!(contact_of(&app, "cust_e").await, None, "names never match");
    assert_eq!(status.conflicts, 2);
    let conflicts = app::server::crm::actions::conflicts(db, &app::server::actor::Actor::System)
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = conflicts
        .iter()
        .map(|c| (c.customer_id.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&("cust_c", "email_ambiguous")), "{kinds:?}");
    assert!(kinds.contains(&("cust_d", "email_taken")), "{kinds:?}");
    assert!(conflicts.iter().all(|c| c.customer_id != "cust_e"));

    let groups = app::server::crm::duplicates::groups(db, &app::server::actor::Actor::System)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].key, "email:cal@example.com");
    assert_eq!(status.duplicates, 1);
    // Both linked contacts lack our properties; cust_a's also carries a stale plan.
    assert_eq!(status.drifted, 2);
    let drift =
        app::server::crm::drift::report(db, &app::server::actor::Actor::System, Some("cust_a"))
            .await
            .unwrap();
    let plan = drift
        .iter()
        .find(|d| d.field == "ledgerline_plan")
        .expect("plan drifted");
    assert_eq!((plan.ours.as_str(), plan.theirs.as_str()), ("", "Legacy"));

    // The queued syncs claim the linked contacts: our id written, no second contact made.
    drain(&app, 1).await;
    {
        let s = fake.state.lock().unwrap();
        assert_eq!(s.contacts.len(), 12, "no contact was created");
        assert_eq!(s.contacts[&k_b]["ledgerline_id"], "cust_b");
        assert_eq!(s.contacts[&k_a]["ledgerline_plan"], "");
        assert!(s.contacts.contains_key(&k_e));
    }
    assert!(
        app::server::crm::drift::report(db, &app::server::actor::Actor::System, None)
            .await
            .unwrap()
            .is_empty()
    );

    // People decide the conflicts; support may look but not decide.
    let (support, _) = app.sign_in(Role::Support).await;
    let (admin, _) = app.sign_in(Role::Admin).await;
    let c_conflict = conflicts
        .iter()
        .find(|c| c.customer_id == "cust_c")
        .unwrap();
    let d_conflict = conflicts
        .iter()
        .find(|c| c.customer_id == "cust_d")
        .unwrap();
    let link = format!("link:{k_c1}");
    let (status, _) = app
        .call_fn(
            &support,
            "crm_conflict_resolve",
            &[("id", &c_conflict.id), ("decision", &link)],
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .call_fn(
            &admin,
            "crm_conflict_resolve",
            &[("id", &c_conflict.id), ("decision", "link:999999")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .call_fn(
            &admin,
            "crm_conflict_resolve",
            &[("id", &c_conflict.id), ("decision", &link)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call_fn(
            &admin,
            "crm_conflict_resolve",
            &[("id", &d_conflict.id), ("decision", "separate")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_entries(db, "identity.linked").await.len(), 1);
    assert_eq!(audit_entries(db, "identity.kept_separate").await.len(), 1);
    drain(&app, 1).await;
    {
        let s = fake.state.lock().unwrap();
        assert_eq!(s.contacts[&k_c1]["ledgerline_id"], "cust_c");
        assert_eq!(s.contacts[&k_d]["ledgerline_id"], "cust_gone", "left alone");
        let own: Vec<_> = s
            .contacts
            .values()
            .filter(|p| p.get("ledgerline_id").map(String::as_str) == Some("cust_d"))
            .collect();
        assert_eq!(own.len(), 1, "cust_d got a contact of its own");
        assert!(
            !own[0].contains_key("email"),
            "without the email the other contact holds"
        );
        assert_eq!(s.contacts.len(), 13);
    }

    // The page shows the group and its plan; only the admin gets the merge button.
    let page = app.html(&admin, "/crm?tab=duplicates").await;
    assert!(page.contains("Same email: cal@example.com"), "{page}");
    assert!(page.contains(&format!("Merge contact {k_c2}")), "{page}");
    assert!(page.contains("Merge…"));
    let page = app.html(&support, "/crm?tab=duplicates").await;
    assert!(page.contains("Same email: cal@example.com"));
    assert!(!page.contains("Merge…"), "{page}");

    // The duplicate of cust_c's contact is merged into it, once, however often it is asked.
    let groups = app::server::crm::duplicates::groups(db, &app::server::actor::Actor::System)
        .await
        .unwrap();
    assert_eq!(groups[0].survivor.id, k_c1, "the linked contact survives");
    assert_eq!(
        groups[0]
            .merge
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![k_c2.clone()]
    );
    let key = groups[0].key.clone();
    let (status, _) = app.call_fn(&support, "crm_merge", &[("key", &key)]).await;
    assert_eq!(status, 403);
    let (status, body) = app.call_fn(&admin, "crm_merge", &[("key", &key)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!([k_c2]));
    let (status, body) = app.call_fn(&admin, "crm_merge", &[("key", &key)]).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(merges(&fake), 1, "the CRM merge API was called once");
    assert!(!fake.state.lock().unwrap().contacts.contains_key(&k_c2));
    let merged = audit_entries(db, "crm.merged").await;
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].customer_id.as_deref(), Some("cust_c"));
    assert!(
        app::server::crm::duplicates::groups(db, &app::server::actor::Actor::System)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn push_to_crm_is_permission_checked_audited_and_fixes_drift(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    insert_customers(&app, &[("cust_p", Some("pam@example.com"), "Pam P")]).await;
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (support, _) = app.sign_in(Role::Support).await;
    let push = [("customer_id", "cust_p"), ("cause", "manual")];
    let (status, _) = app.call_fn(&viewer, "crm_push", &push).await;
    assert_eq!(status, 403);
    assert_eq!(fake.state.lock().unwrap().contacts.len(), 0);

    let (status, body) = app.call_fn(&support, "crm_push", &push).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.as_str().unwrap().starts_with("Created CRM contact"),
        "{body}"
    );
    let contact = contact_of(&app, "cust_p").await.expect("linked");
    // Pushed again with nothing changed: a manual push still writes (the CRM may have drifted).
    let (status, body) = app.call_fn(&support, "crm_push", &push).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!(format!("Pushed to CRM contact {contact}.")));
    // A HubSpot outage is reported, and audited as failed.
    fake.state.lock().unwrap().fail_next = vec![Fault::ServerError];
    let (status, body) = app.call_fn(&support, "crm_push", &push).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.to_string().contains("HubSpot 500"), "{body}");
    let audited = audit_entries(&app.state.db, "crm.pushed").await;
    let outcomes: Vec<String> = audited
        .iter()
        .map(|e| e.outcome.as_str().to_string())
        .collect();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(
        outcomes.iter().filter(|o| *o == "failed").count(),
        1,
        "{outcomes:?}"
    );

    // Someone edits the contact in HubSpot; the scan sees it; "fix" puts our value back.
    fake.state
        .lock()
        .unwrap()
        .contacts
        .get_mut(&contact)
        .unwrap()
        .insert("ledgerline_billing_status".into(), "vip".into());
    let crm = app.state.connectors.crm.clone().unwrap();
    import::reset(&app.state.db, chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    import::run(
        &app.state.db,
        crm.as_ref(),
        &app.state.config,
        100,
        None,
        |_| {},
    )
    .await
    .unwrap();
    let drift =
        app::server::crm::drift::report(&app.state.db, &app::server::actor::Actor::System, None)
            .await
            .unwrap();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (
            drift[0].field.as_str(),
            drift[0].ours.as_str(),
            drift[0].theirs.as_str()
        ),
        ("ledgerline_billing_status", "active", "vip")
    );
    let (status, body) = app
        .call_fn(
            &support,
            "crm_push",
            &[("customer_id", "cust_p"), ("cause", "drift")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        fake.state.lock().unwrap().contacts[&contact]["ledgerline_billing_status"],
        "active"
    );
    assert!(app::server::crm::drift::report(
        &app.state.db,
        &app::server::actor::Actor::System,
        None
    )
    .await
    .unwrap()
    .is_empty());

    // The customer page shows the contact and each push, newest first.
    let (status, view) = app
        .call_fn(&support, "customer_view", &[("id", "cust_p")])
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["crm"]["contact_id"], json!(contact));
    assert_eq!(view["crm"]["can_push"], json!(true));
    let causes: Vec<&str> = view["crm"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["cause"].as_str().unwrap())
        .collect();
    // The failed push is in the audit log; history lists what reached the CRM.
    assert_eq!(causes, vec!["drift", "manual", "manual"]);
    let (_, view) = app
        .call_fn(&viewer, "customer_view", &[("id", "cust_p")])
        .await;
    assert_eq!(view["crm"]["can_push"], json!(false));
}

async fn the_product_user_id_comes_from_the_configured_metadata_key(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    let base = fake.url.clone();
    let Some(app) = spawn_app_with(backend, move |v| {
        v.insert("CRM_PROVIDER".into(), "hubspot".into());
        v.insert("HUBSPOT_TOKEN".into(), TOKEN.into());
        v.insert("HUBSPOT_API_BASE".into(), base);
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
        v.insert("STRIPE_USER_ID_METADATA_KEY".into(), "account_ref".into());
    })
    .await
    else {
        return;
    };
    for (n, (id, metadata)) in [
        (
            "cus_M1",
            json!({ "account_ref": "u_42", "user_id": "not_this_one" }),
        ),
        ("cus_M2", json!({ "account_ref": "u_42" })),
        ("cus_M3", json!({ "user_id": "u_43" })),
    ]
    .into_iter()
    .enumerate()
    {
        let c = object(
            "customer",
            json!({ "id": id, "email": format!("m{n}@example.com"), "metadata": metadata }),
        );
        let body = event(
            &format!("evt_m{n}"),
            "customer.created",
            1_700_000_000 + n as i64,
            c,
        );
        assert_eq!(app.deliver_stripe(SECRET, &body).await, 200);
    }
    // Syncs may run too, depending on how fast the events were processed.
    let ran = app.run_due_jobs().await;
    let processed = ran
        .iter()
        .filter(|(k, _)| k == "stripe.process_event")
        .count();
    assert_eq!(processed, 3, "{ran:?}");
    let syncs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'crm.sync'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(syncs, 2, "one per new customer (cus_M2 joined cus_M1's)");
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT s.id, c.id, c.product_user_id FROM stripe_customers s JOIN customers c ON c.id = s.customer_id ORDER BY s.id",
    )
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(rows[0].2.as_deref(), Some("u_42"));
    assert_eq!(
        rows[1].1, rows[0].1,
        "the same product user: one customer, two Stripe ids"
    );
    assert_eq!(rows[2].2, None, "user_id is not the configured key");
    assert_ne!(rows[2].1, rows[0].1);

    // Objects fetched from Stripe (backfill, re-sync, refunds) ask for a sync too.
    let options = app::server::stripe::mirror::Options::from_config(&app.state.config);
    assert!(options.crm_sync);
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = app.state.db.begin().await.unwrap();
    let fetched = object(
        "customer",
        json!({ "id": "cus_M9", "email": "m9@example.com" }),
    );
    app::server::stripe::mirror::apply_fetched(&mut tx, &[fetched], &options, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let queued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs j JOIN stripe_customers s ON s.customer_id = j.customer_id \
         WHERE s.id = 'cus_M9' AND j.kind = 'crm.sync' AND j.status = 'queued'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(queued, 1);
}

async fn the_cli_import_links_reports_and_is_audited(backend: Backend) {
    let fake = FakeHubSpot::start(Duration::from_millis(400)).await;
    fake.state
        .lock()
        .unwrap()
        .add_contact(&[("email", "kim@example.com")]);
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    insert_customers(&app, &[("cust_k", Some("kim@example.com"), "Kim K")]).await;
    let stdout = app.run_cli(
        &[
            ("CRM_PROVIDER", "hubspot"),
            ("HUBSPOT_TOKEN", TOKEN),
            ("HUBSPOT_API_BASE", &fake.url),
        ],
        &["crm-import"],
    );
    assert!(stdout.starts_with("1 contacts read, 1 linked"), "{stdout}");
    assert!(contact_of(&app, "cust_k").await.is_some());
    let runs = audit_entries(&app.state.db, "crm.import_run").await;
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0].details.contains("\"linked\":1"),
        "{}",
        runs[0].details
    );
}
