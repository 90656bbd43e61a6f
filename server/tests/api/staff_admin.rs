//! Staff administration over HTTP as an admin would do it: invites with one-time links, role
//! changes, deactivation, forced resets, own password changes, and bad input changing nothing.

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, TEST_PASSWORD};
use app::domain::{AuditFilter, Email, Role};
use app::server::services::{audit, auth::login, staff};

both_backends!(
    an_invite_link_sets_a_password_once,
    bad_input_is_refused_with_a_clear_message_and_changes_nothing,
    role_changes_are_audited_and_the_last_admin_is_kept,
    a_forced_reset_kills_the_old_password_and_sessions,
    changing_your_own_password_needs_the_current_one,
    guessing_link_tokens_is_throttled_like_sign_in,
    a_new_link_or_a_deactivation_voids_every_older_link,
    guessing_the_current_password_is_throttled_like_sign_in,
);

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

fn token_of(link: &serde_json::Value) -> String {
    link["url"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string()
}

async fn an_invite_link_sets_a_password_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, _) = app.sign_in(Role::Admin).await;
    let res = post(
        &app,
        &admin,
        "/api/fn/staff_invite",
        &[
            ("email", "New@Example.com"),
            ("name", "New Person"),
            ("role", "support"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let link: serde_json::Value = res.json().await.unwrap();
    assert!(link["url"].as_str().unwrap().contains("/welcome?token="));
    let token = token_of(&link);
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM staff_tokens")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&token), "only a hash is stored");

    let newcomer = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let weak = post(
        &app,
        &newcomer,
        "/api/fn/welcome",
        &[("token", &token), ("password", "short")],
    )
    .await;
    assert_eq!(weak.status(), 422);
    assert!(weak
        .text()
        .await
        .unwrap()
        .contains("at least 12 characters"));
    let ok = post(
        &app,
        &newcomer,
        "/api/fn/welcome",
        &[("token", &token), ("password", "lantern-orchard-77")],
    )
    .await;
    assert!(
        ok.status().is_success() || ok.status().is_redirection(),
        "{}",
        ok.status()
    );
    assert_eq!(
        newcomer.get(app.url("/")).send().await.unwrap().status(),
        200,
        "signed in after setting the password"
    );
    let again = post(
        &app,
        &reqwest::Client::new(),
        "/api/fn/welcome",
        &[("token", &token), ("password", "another-good-one-88")],
    )
    .await;
    assert_eq!(again.status(), 422);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("invalid, already used or expired"));
    login::attempt(
        &app.state.db,
        &Default::default(),
        &Default::default(),
        "new@example.com",
        "lantern-orchard-77",
        None,
        0,
    )
    .await
    .unwrap();

    // An expired link is refused the same way.
    let res = post(
        &app,
        &admin,
        "/api/fn/staff_invite",
        &[
            ("email", "late@example.com"),
            ("name", "Late"),
            ("role", "viewer"),
        ],
    )
    .await;
    let late = token_of(&res.json().await.unwrap());
    sqlx::query("UPDATE staff_tokens SET expires_at = 1 WHERE used_at IS NULL")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let expired = post(
        &app,
        &reqwest::Client::new(),
        "/api/fn/welcome",
        &[("token", &late), ("password", "lantern-orchard-77")],
    )
    .await;
    assert_eq!(expired.status(), 422);
}

async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, me) = app.sign_in(Role::Admin).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM staff")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap()
    };
    let before = count().await;
    /// (server function, form fields, expected message)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: &[Case] = &[
        (
            "/api/fn/staff_invite",
            vec![
                ("email", "x@example.com".into()),
                ("name", "X".into()),
                ("role", "root".into()),
            ],
            "Pick a role",
        ),
        (
            "/api/fn/staff_invite",
            vec![
                ("email", "not-an-email".into()),
                ("name", "X".into()),
                ("role", "viewer".into()),
            ],
            "valid email",
        ),
        (
            "/api/fn/staff_invite",
            vec![
                ("email", "y@example.com".into()),
                ("name", "N".repeat(500)),
                ("role", "viewer".into()),
            ],
            "1 to 100 characters",
        ),
        (
            "/api/fn/staff_role",
            vec![("id", me.id.clone()), ("role", "superuser".into())],
            "Pick a role",
        ),
        (
            "/api/fn/staff_active",
            vec![("id", me.id.clone()), ("active", "false".into())],
            "cannot deactivate yourself",
        ),
    ];
    for (path, form, message) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = post(&app, &admin, path, &form).await;
        assert_eq!(res.status(), 422, "{path} {form:?}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "{path}: {body}");
        assert!(!body.contains("sqlx") && !body.contains("SELECT"), "{body}");
    }
    assert_eq!(count().await, before);
    let me_now = staff::get(&app.state.db, &me.id).await.unwrap().unwrap();
    assert!(me_now.active && me_now.role == Role::Admin);
}

async fn role_changes_are_audited_and_the_last_admin_is_kept(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, me) = app.sign_in(Role::Admin).await;
    let (_, other) = app.sign_in(Role::Viewer).await;
    let res = post(
        &app,
        &admin,
        "/api/fn/staff_role",
        &[("id", &other.id), ("role", "billing")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        staff::get(&app.state.db, &other.id)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Billing
    );
    let page = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter {
            action: Some("staff.role_changed".into()),
            ..Default::default()
        },
        None,
        5,
    )
    .await
    .unwrap();
    let details: serde_json::Value = serde_json::from_str(&page.entries[0].details).unwrap();
    assert_eq!(details["before"]["role"], "viewer");
    assert_eq!(details["after"]["role"], "billing");
    assert_eq!(page.entries[0].actor_label, me.email);

    let res = post(
        &app,
        &admin,
        "/api/fn/staff_role",
        &[("id", &me.id), ("role", "viewer")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("at least one active admin"));
}

async fn a_forced_reset_kills_the_old_password_and_sessions(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (victim_client, victim) = app.sign_in(Role::Support).await;
    let res = post(&app, &admin, "/api/fn/staff_reset", &[("id", &victim.id)]).await;
    assert_eq!(res.status(), 200);
    let token = token_of(&res.json().await.unwrap());
    assert_eq!(
        victim_client
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "sessions ended"
    );
    assert!(
        login::attempt(
            &app.state.db,
            &Default::default(),
            &Default::default(),
            &victim.email,
            TEST_PASSWORD,
            None,
            0
        )
        .await
        .is_err(),
        "old password is dead"
    );
    let ok = post(
        &app,
        &reqwest::Client::new(),
        "/api/fn/welcome",
        &[("token", &token), ("password", "fresh-meadow-stone-5")],
    )
    .await;
    assert!(ok.status().is_success() || ok.status().is_redirection());
    login::attempt(
        &app.state.db,
        &Default::default(),
        &Default::default(),
        &victim.email,
        "fresh-meadow-stone-5",
        None,
        0,
    )
    .await
    .unwrap();
}

async fn changing_your_own_password_needs_the_current_one(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (me, staff_me) = app.sign_in(Role::Viewer).await;
    let other_session = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    app.post_login(&other_session, &staff_me.email, TEST_PASSWORD)
        .await;
    let wrong = post(
        &app,
        &me,
        "/api/fn/change_password",
        &[
            ("current", "nope-nope-nope"),
            ("new_password", "brand-new-secret-9"),
        ],
    )
    .await;
    assert_eq!(wrong.status(), 422);
    let ok = post(
        &app,
        &me,
        "/api/fn/change_password",
        &[
            ("current", TEST_PASSWORD),
            ("new_password", "brand-new-secret-9"),
        ],
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        me.get(app.url("/")).send().await.unwrap().status(),
        200,
        "this session continues"
    );
    assert_eq!(
        other_session
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "other sessions end"
    );
    let email = Email::parse(&staff_me.email).unwrap();
    assert!(staff::find_by_email(&app.state.db, &email)
        .await
        .unwrap()
        .is_some());
    let failed = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter {
            action: Some("staff.password_changed".into()),
            ..Default::default()
        },
        None,
        5,
    )
    .await
    .unwrap();
    assert_eq!(
        failed.entries.len(),
        2,
        "the failed and the successful change"
    );
}

/// Invite and reset links are bearer secrets too: guesses from one address get the sign-in
/// budget (20 a minute), are answered before any password is hashed, and are audited as one
/// count; someone with a real link elsewhere is not slowed.
async fn guessing_link_tokens_is_throttled_like_sign_in(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await
    else {
        return;
    };
    let (admin, _) = app.sign_in(Role::Admin).await;
    let res = post(
        &app,
        &admin,
        "/api/fn/staff_invite",
        &[
            ("email", "real@example.com"),
            ("name", "Real"),
            ("role", "viewer"),
        ],
    )
    .await;
    let token = token_of(&res.json().await.unwrap());
    let guess = |i: usize, from: &'static str| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .post(app.url("/api/fn/welcome"))
                .header("origin", app.origin())
                .header("accept", "application/json")
                .header("x-forwarded-for", from)
                .form(&[
                    ("token", format!("guess{i:030}").as_str()),
                    ("password", "lantern-orchard-77"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut statuses = Vec::new();
    for i in 0..25 {
        statuses.push(guess(i, "203.0.113.9").await);
    }
    let limit = app::server::services::refusals::SIGN_IN_PER_MINUTE as usize;
    assert!(statuses[..limit].iter().all(|s| *s == 422), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    let real = reqwest::Client::new()
        .post(app.url("/api/fn/welcome"))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .header("x-forwarded-for", "198.51.100.20")
        .form(&[
            ("token", token.as_str()),
            ("password", "lantern-orchard-77"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        real.status().is_success() || real.status().is_redirection(),
        "{}",
        real.status()
    );
    app.state.refusals.tally.flush(&app.state.db).await.unwrap();
    let counted = crate::helpers::audit_entries(&app.state.db, "staff.link_refused").await;
    assert_eq!(counted.len(), 1);
    assert!(
        counted[0].details.contains(r#""count":25"#),
        "{}",
        counted[0].details
    );
    assert_eq!(counted[0].ip.as_deref(), Some("203.0.113.9"));
}

async fn invite_link(app: &TestApp, admin: &reqwest::Client, email: &str) -> (String, String) {
    let res = post(
        app,
        admin,
        "/api/fn/staff_invite",
        &[("email", email), ("name", "Linked"), ("role", "viewer")],
    )
    .await;
    let token = token_of(&res.json().await.unwrap());
    let id: String = sqlx::query_scalar("SELECT id FROM staff WHERE email = $1")
        .bind(email)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    (token, id)
}

async fn redeem(app: &TestApp, token: &str) -> u16 {
    post(
        app,
        &reqwest::Client::new(),
        "/api/fn/welcome",
        &[("token", token), ("password", "lantern-orchard-77")],
    )
    .await
    .status()
    .as_u16()
}

/// An admin who forces a reset because an invite leaked has revoked the invite; using one link
/// uses up the other; a deactivated person's links die with the account.
async fn a_new_link_or_a_deactivation_voids_every_older_link(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (leaked, id) = invite_link(&app, &admin, "leaky@example.com").await;
    let reset = post(&app, &admin, "/api/fn/staff_reset", &[("id", &id)]).await;
    let reset = token_of(&reset.json().await.unwrap());
    assert_eq!(
        redeem(&app, &leaked).await,
        422,
        "the leaked invite is void"
    );
    let ok = redeem(&app, &reset).await;
    assert!((200..400).contains(&ok), "{ok}");

    let (second, id) = invite_link(&app, &admin, "gone@example.com").await;
    let res = post(
        &app,
        &admin,
        "/api/fn/staff_active",
        &[("id", &id), ("active", "false")],
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        &app,
        &admin,
        "/api/fn/staff_active",
        &[("id", &id), ("active", "true")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        redeem(&app, &second).await,
        422,
        "reactivation does not revive the link"
    );
}

/// A stolen session cannot guess its owner's password at request speed: wrong current
/// passwords spend the same budget and keys as sign-in, and a weak new password is refused
/// before the current one is checked, so it tells nothing.
async fn guessing_the_current_password_is_throttled_like_sign_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (me, _) = app.sign_in(Role::Viewer).await;
    let weak = post(
        &app,
        &me,
        "/api/fn/change_password",
        &[("current", TEST_PASSWORD), ("new_password", "short")],
    )
    .await;
    assert_eq!(weak.status(), 422);
    assert!(weak
        .text()
        .await
        .unwrap()
        .contains("at least 12 characters"));
    let weak_wrong = post(
        &app,
        &me,
        "/api/fn/change_password",
        &[("current", "a-wrong-guess-1"), ("new_password", "short")],
    )
    .await;
    assert!(
        weak_wrong
            .text()
            .await
            .unwrap()
            .contains("at least 12 characters"),
        "same answer"
    );
    let guesses = (0..6).map(|i| {
        let (app, me) = (&app, &me);
        async move {
            let guess = format!("wrong-guess-{i}");
            let form = [
                ("current", guess.as_str()),
                ("new_password", "brand-new-secret-9"),
            ];
            post(app, me, "/api/fn/change_password", &form)
                .await
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(guesses).await;
    statuses.sort();
    assert_eq!(
        statuses,
        [422, 422, 422, 429, 429, 429],
        "three free tries, then a wait"
    );
}
