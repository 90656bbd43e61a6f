//! Signing in: one generic error, throttling with back-off then lock, every attempt audited,
//! and unknown accounts costing the same argon2 work as wrong passwords.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use app::domain::{AuditFilter, Email, Role};
use app::server::actor::{Actor, RequestMeta};
use app::server::services::{audit, auth::login, staff};
use std::time::Instant;

both_backends!(
    right_password_signs_in_and_is_audited,
    unknown_email_wrong_password_and_deactivated_look_the_same,
    failures_back_off_then_lock_the_account,
    unknown_accounts_cost_the_same_hashing_work,
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
        &from_ip("10.0.0.1"),
        " ADA@example.com",
        PASSWORD,
        0,
    )
    .await
    .unwrap();
    assert_eq!(signed_in.id, ada.id);
    let page = audit::list(
        &app.state.db,
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
        &from_ip("10.0.0.2"),
        "ada@example.com",
        "not-the-password",
        0,
    )
    .await
    .unwrap_err();
    let unknown = login::attempt(db, &from_ip("10.0.0.3"), "nobody@example.com", PASSWORD, 0)
        .await
        .unwrap_err();
    let garbage = login::attempt(db, &from_ip("10.0.0.4"), "not an email", PASSWORD, 0)
        .await
        .unwrap_err();
    sqlx::query("UPDATE staff SET active = 0")
        .execute(db.pool())
        .await
        .unwrap();
    let inactive = login::attempt(db, &from_ip("10.0.0.5"), "ada@example.com", PASSWORD, 0)
        .await
        .unwrap_err();
    for e in [&wrong, &unknown, &garbage, &inactive] {
        assert_eq!(e.to_string(), "Wrong email or password.");
    }
    let failed = audit::list(
        db,
        &AuditFilter {
            outcome: Some(app::domain::Outcome::Failed),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(failed.entries.len(), 4);
    assert!(failed
        .entries
        .iter()
        .all(|e| !e.details.contains(PASSWORD) && !e.details.contains("not-the-password")));
}

async fn failures_back_off_then_lock_the_account(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    seed(&app, "ada@example.com").await;
    let db = &app.state.db;
    let meta = from_ip("10.0.0.9");
    let mut now = 1_000_000;
    for _ in 0..3 {
        assert!(matches!(
            login::attempt(db, &meta, "ada@example.com", "wrong-wrong-wrong", now).await,
            Err(login::LoginError::BadCredentials)
        ));
    }
    // Fourth try at the same instant: must wait 1 s, even with the right password.
    let throttled = login::attempt(db, &meta, "ada@example.com", PASSWORD, now)
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
    // Keep failing, each time just after the wait: the 10th failure locks for 15 minutes.
    for _ in 3..10 {
        now += 60_000;
        assert!(matches!(
            login::attempt(db, &meta, "ada@example.com", "wrong-wrong-wrong", now).await,
            Err(login::LoginError::BadCredentials)
        ));
    }
    now += 60_000;
    let locked = login::attempt(db, &meta, "ada@example.com", PASSWORD, now)
        .await
        .unwrap_err();
    assert!(
        matches!(locked, login::LoginError::Throttled(ms) if ms == 14 * 60_000),
        "{locked:?}"
    );
    let lockouts = audit::list(
        db,
        &AuditFilter {
            action: Some("auth.lockout".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(lockouts.entries.len(), 1);
    // After the lock the right password works and clears the account's counter.
    now += 15 * 60_000;
    login::attempt(db, &meta, "ada@example.com", PASSWORD, now)
        .await
        .unwrap();
    // Another account from a different IP was never affected.
    seed(&app, "bob@example.com").await;
    login::attempt(
        db,
        &from_ip("10.0.0.10"),
        "bob@example.com",
        PASSWORD,
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
            &from_ip(&format!("10.1.0.{i}")),
            &format!("x{i}@example.com"),
            "wrong-wrong-wrong",
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
            &from_ip(&format!("10.2.0.{i}")),
            "ada@example.com",
            "wrong-wrong-wrong",
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
