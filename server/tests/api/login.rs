//! Signing in: one generic error, throttling with back-off then lock (per account and address),
//! refusals audited as counts per address and minute, parallel guesses all counted, a flood
//! from one address that leaves everyone else alone, and unknown accounts costing the same
//! argon2 work as wrong passwords.

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};
use app::domain::{AuditFilter, Email, Outcome, Role};
use app::server::actor::{Actor, RequestMeta};
use app::server::services::{audit, auth::login, staff};
use std::time::Instant;

both_backends!(
    right_password_signs_in_and_is_audited,
    unknown_email_wrong_password_and_deactivated_look_the_same,
    failures_back_off_then_lock_the_account_at_that_address,
    unknown_accounts_cost_the_same_hashing_work,
    parallel_guesses_are_all_counted,
    a_flood_from_one_address_locks_out_no_one_else,
    forwarded_addresses_count_only_from_a_trusted_proxy,
    a_flood_from_many_addresses_never_locks_the_owner_out_of_a_browser_they_use,
    an_ipv6_client_is_one_address_however_many_it_holds,
);

const PASSWORD: &str = "plum-harbor-gravel-42";

async fn seed(app: &TestApp, email: &str) -> staff::Staff {
    staff::create_with_password(
        &app.state.db,
        &Actor::System,
        &RequestMeta::default(),
        &Email::parse(email).unwrap(),
        "Ada",
        Role::Billing,
        PASSWORD,
    )
    .await
    .unwrap()
}

fn from_ip(ip: &str) -> RequestMeta {
    RequestMeta {
        request_id: None,
        ip: Some(ip.into()),
        user_agent: None,
    }
}

async fn right_password_signs_in_and_is_audited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = seed(&app, "ada@example.com").await;
    let signed_in = login::attempt(
        &app.state.db,
        &app.state.refusals,
        &from_ip("10.0.0.1"),
        " ADA@example.com",
        PASSWORD,
        None,
        0,
    )
    .await
    .unwrap();
    assert_eq!(signed_in.staff.id, ada.id);
    let page = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter {
            action: Some("auth.login".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].actor_label, "ada@example.com");
    assert_eq!(page.entries[0].ip.as_deref(), Some("10.0.0.1"));
}

async fn unknown_email_wrong_password_and_deactivated_look_the_same(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let db = &app.state.db;
    let wrong = login::attempt(
        db,
        &app.state.refusals,
        &from_ip("10.0.0.2"),
        "ada@example.com",
        "not-the-password",
        None,
        0,
    )
    .await
    .unwrap_err();
    let unknown = login::attempt(
        db,
        &app.state.refusals,
        &from_ip("10.0.0.3"),
        "nobody@example.com",
        PASSWORD,
        None,
        0,
    )
    .await
    .unwrap_err();
    let garbage = login::attempt(
        db,
        &app.state.refusals,
        &from_ip("10.0.0.4"),
        "not an email",
        PASSWORD,
        None,
        0,
    )
    .await
    .unwrap_err();
    sqlx::query("UPDATE staff SET active = 0")
        .execute(db.pool())
        .await
        .unwrap();
    let inactive = login::attempt(
        db,
        &app.state.refusals,
        &from_ip("10.0.0.5"),
        "ada@example.com",
        PASSWORD,
        None,
        0,
    )
    .await
    .unwrap_err();
    for e in [&wrong, &unknown, &garbage, &inactive] {
        assert_eq!(e.to_string(), "Wrong email or password.");
    }
    assert_eq!(
        refused_entries(&app).await.len(),
        0,
        "counted, not yet written"
    );
    let failed = flushed_refusals(&app).await;
    assert_eq!(failed.len(), 4, "one entry per address");
    assert!(failed.iter().all(|e| e.outcome == Outcome::Denied
        && e.details.contains(r#""count":1"#)
        && e.details.contains("bad_credentials")
        && !e.details.contains(PASSWORD)
        && !e.details.contains("not-the-password")));
    assert!(failed
        .iter()
        .any(|e| e.details.contains("nobody@example.com")));
}

/// `auth.login` entries of refusals (written by the tally, under the anonymous actor).
async fn refused_entries(app: &TestApp) -> Vec<app::domain::AuditEntry> {
    audit::list(
        &app.state.db,
        &Actor::System,
        &AuditFilter {
            action: Some("auth.login".into()),
            outcome: Some(Outcome::Denied),
            ..Default::default()
        },
        None,
        200,
    )
    .await
    .unwrap()
    .entries
}

async fn flushed_refusals(app: &TestApp) -> Vec<app::domain::AuditEntry> {
    app.state.refusals.tally.flush(&app.state.db).await.unwrap();
    refused_entries(app).await
}

async fn failures_back_off_then_lock_the_account_at_that_address(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let db = &app.state.db;
    let meta = from_ip("10.0.0.9");
    let mut now = 1_000_000;
    for _ in 0..3 {
        assert!(matches!(
            login::attempt(
                db,
                &app.state.refusals,
                &meta,
                "ada@example.com",
                "wrong-wrong-wrong",
                None,
                now
            )
            .await,
            Err(login::LoginError::BadCredentials)
        ));
    }
    // Fourth try at the same instant: must wait 1 s, even with the right password.
    let throttled = login::attempt(
        db,
        &app.state.refusals,
        &meta,
        "ada@example.com",
        PASSWORD,
        None,
        now,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(throttled, login::LoginError::Throttled(1000)),
        "{throttled:?}"
    );
    assert_eq!(
        throttled.to_string(),
        "Too many attempts. Try again in 1 seconds."
    );
    // A refused try does not count against the owner's own key. Keep failing, each time after
    // the wait: the 10th wrong password locks this account at this address for 15 minutes.
    for _ in 3..10 {
        now += 60_000;
        assert!(matches!(
            login::attempt(
                db,
                &app.state.refusals,
                &meta,
                "ada@example.com",
                "wrong-wrong-wrong",
                None,
                now
            )
            .await,
            Err(login::LoginError::BadCredentials)
        ));
    }
    now += 60_000;
    let locked = login::attempt(
        db,
        &app.state.refusals,
        &meta,
        "ada@example.com",
        PASSWORD,
        None,
        now,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(locked, login::LoginError::Throttled(ms) if ms == 14 * 60_000),
        "{locked:?}"
    );
    // The same account from another address is not locked.
    login::attempt(
        db,
        &app.state.refusals,
        &from_ip("10.0.0.99"),
        "ada@example.com",
        PASSWORD,
        None,
        now,
    )
    .await
    .unwrap();
    let counted = flushed_refusals(&app).await;
    assert_eq!(counted.len(), 1, "one address, one entry");
    assert!(
        counted[0].details.contains(r#""locked_account_here":1"#),
        "{}",
        counted[0].details
    );
    // After the lock the right password works and clears the account's counter.
    now += 15 * 60_000;
    login::attempt(
        db,
        &app.state.refusals,
        &meta,
        "ada@example.com",
        PASSWORD,
        None,
        now,
    )
    .await
    .unwrap();
    // Another account from a different IP was never affected.
    seed(&app, "bob@example.com").await;
    login::attempt(
        db,
        &app.state.refusals,
        &from_ip("10.0.0.10"),
        "bob@example.com",
        PASSWORD,
        None,
        1_000_000,
    )
    .await
    .unwrap();
}

/// Not a benchmark: checks that an unknown account runs the same argon2 verification as a
/// wrong password (a missing dummy hash would make it orders of magnitude faster).
async fn unknown_accounts_cost_the_same_hashing_work(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let db = &app.state.db;
    let median = |samples: &mut Vec<u128>| {
        samples.sort_unstable();
        samples[samples.len() / 2]
    };
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..7 {
        // Separate keys per attempt so throttling never short-cuts the work.
        let t = Instant::now();
        let _ = login::attempt(
            db,
            &app.state.refusals,
            &from_ip(&format!("10.1.0.{i}")),
            &format!("x{i}@example.com"),
            "wrong-wrong-wrong",
            None,
            0,
        )
        .await;
        unknown.push(t.elapsed().as_micros());
        sqlx::query("DELETE FROM login_throttle")
            .execute(db.pool())
            .await
            .unwrap();
        let t = Instant::now();
        let _ = login::attempt(
            db,
            &app.state.refusals,
            &from_ip(&format!("10.2.0.{i}")),
            "ada@example.com",
            "wrong-wrong-wrong",
            None,
            0,
        )
        .await;
        wrong.push(t.elapsed().as_micros());
        sqlx::query("DELETE FROM login_throttle")
            .execute(db.pool())
            .await
            .unwrap();
    }
    let (w, u) = (median(&mut wrong), median(&mut unknown));
    let ratio = u as f64 / w as f64;
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown {u} µs vs wrong password {w} µs"
    );
}

/// The throttle row of one account at one address.
async fn attempts_at(app: &TestApp, email: &str, ip: &str) -> i64 {
    sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key = $1")
        .bind(format!("account:{email}|ip:{ip}"))
        .fetch_optional(app.state.db.pool())
        .await
        .unwrap()
        .unwrap_or(0)
}

/// 50 wrong passwords for one account sent at once: each attempt is claimed on its keys before
/// its password is checked, so exactly the three free tries reach argon2 (and are on the
/// account's counter), every other one is refused, and all 50 are in the audit count.
async fn parallel_guesses_are_all_counted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let guesses = (0..50).map(|i| {
        let app = &app;
        async move {
            let client = reqwest::Client::new();
            client
                .post(app.url("/api/fn/login"))
                .header("origin", app.origin())
                .header("accept", "application/json")
                .form(&[
                    ("email", "ada@example.com"),
                    ("password", format!("guess-number-{i}").as_str()),
                    ("next", "/"),
                ])
                .send()
                .await
                .unwrap()
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let waited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((wrong, waited), (3, 47), "{statuses:?}");
    assert!(answers
        .iter()
        .filter(|r| r.status() == 429)
        .all(|r| r.headers().contains_key("retry-after")));
    assert_eq!(
        attempts_at(&app, "ada@example.com", "127.0.0.1").await,
        3,
        "every attempt that reached the password check was counted before it"
    );
    let counted = flushed_refusals(&app).await;
    assert_eq!(counted.len(), 1);
    assert!(
        counted[0].details.contains(r#""count":50"#),
        "{}",
        counted[0].details
    );
}

/// 1,000 bad sign-ins for an account from one address (behind a trusted proxy, so the address
/// comes from X-Forwarded-For): the account's owner signs in from another address at once, and
/// the audit log grows by one entry.
async fn a_flood_from_one_address_locks_out_no_one_else(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await
    else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let before = audit::list(
        &app.state.db,
        &Actor::System,
        &AuditFilter::default(),
        None,
        200,
    )
    .await
    .unwrap()
    .entries
    .len();
    let post = |from: &'static str, password: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .post(app.url("/api/fn/login"))
                .header("origin", app.origin())
                .header("accept", "application/json")
                .header("x-forwarded-for", from)
                .form(&[
                    ("email", "ada@example.com"),
                    ("password", password.as_str()),
                    ("next", "/"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for chunk in (0..1000).collect::<Vec<_>>().chunks(50) {
        let sent = chunk
            .iter()
            .map(|i| post("203.0.113.66", format!("flood-guess-{i}")));
        for s in futures::future::join_all(sent).await {
            *statuses.entry(s).or_default() += 1;
        }
    }
    assert_eq!(statuses.get(&401), Some(&3), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&997), "{statuses:?}");
    let owner = post("198.51.100.7", PASSWORD.to_string()).await;
    assert!(
        (200..400).contains(&owner),
        "the owner, elsewhere, signs in: {owner}"
    );
    app.state.refusals.tally.flush(&app.state.db).await.unwrap();
    let after = audit::list(
        &app.state.db,
        &Actor::System,
        &AuditFilter::default(),
        None,
        200,
    )
    .await
    .unwrap()
    .entries;
    assert_eq!(
        after.len() - before,
        2,
        "the flood's count and the owner's sign-in"
    );
    assert!(after
        .iter()
        .any(|e| e.details.contains(r#""count":1000"#) && e.ip.as_deref() == Some("203.0.113.66")));
}

/// Without TRUSTED_PROXIES anyone could name their own address in X-Forwarded-For and get a
/// fresh budget per request: the header is ignored, and the connection's address counts.
async fn forwarded_addresses_count_only_from_a_trusted_proxy(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for i in 0..3 {
        let res = reqwest::Client::new()
            .post(app.url("/api/fn/login"))
            .header("origin", app.origin())
            .header("accept", "application/json")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .header("forwarded", format!("for=203.0.113.{i}"))
            .form(&[
                ("email", "x@example.com"),
                ("password", "nope-nope-nope"),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let counted = flushed_refusals(&app).await;
    assert_eq!(counted.len(), 1, "one source, whatever the headers said");
    assert_eq!(counted[0].ip.as_deref(), Some("127.0.0.1"));
    assert!(counted[0].details.contains(r#""count":3"#));
}

/// Signs in over HTTP from `from` (behind the trusted proxy) with `client`'s cookies.
async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    from: &str,
    email: &str,
    password: &str,
) -> u16 {
    client
        .post(app.url("/api/fn/login"))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .header("x-forwarded-for", from)
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Wrong passwords for one account from 40 addresses fill its account-wide key: a browser it
/// has never used then has to wait, but the owner's usual browser (a known device, from its
/// sign-in yesterday) signs in at once, from any address.
async fn a_flood_from_many_addresses_never_locks_the_owner_out_of_a_browser_they_use(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await
    else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let usual = cookie_client();
    let first = sign_in_from(&app, &usual, "198.51.100.1", "ada@example.com", PASSWORD).await;
    assert!((200..400).contains(&first), "{first}");
    for host in 0..40 {
        let attacker = reqwest::Client::new();
        for guess in 0..3 {
            let from = format!("203.0.113.{host}");
            let status = sign_in_from(
                &app,
                &attacker,
                &from,
                "ada@example.com",
                &format!("guess-{guess}"),
            )
            .await;
            assert!(matches!(status, 401 | 429), "{status}");
        }
    }
    let stranger = cookie_client();
    assert_eq!(
        sign_in_from(&app, &stranger, "192.0.2.50", "ada@example.com", PASSWORD).await,
        429,
        "a new browser waits while the account is under attack"
    );
    let owner = sign_in_from(&app, &usual, "192.0.2.51", "ada@example.com", PASSWORD).await;
    assert!(
        (200..400).contains(&owner),
        "the owner's browser signs in: {owner}"
    );
}

/// Every address of one IPv6 /64 is one client: one budget, one throttle key, one audit count.
async fn an_ipv6_client_is_one_address_however_many_it_holds(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await
    else {
        return;
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..40 {
        let from = format!("2001:db8:1:2::{i:x}");
        let email = format!("nobody{i}@example.com");
        let status = sign_in_from(
            &app,
            &reqwest::Client::new(),
            &from,
            &email,
            "nope-nope-nope",
        )
        .await;
        *statuses.entry(status).or_default() += 1;
    }
    let budget = app::server::services::refusals::SIGN_IN_PER_MINUTE as usize;
    assert_eq!(statuses.get(&401), Some(&budget), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&(40 - budget)), "{statuses:?}");
    let counted = flushed_refusals(&app).await;
    assert_eq!(counted.len(), 1, "one audit count for the /64");
    assert_eq!(counted[0].target_id.as_deref(), Some("2001:db8:1:2::/64"));
}
