//! Sign-in over HTTP, sessions, the permission guard on every route, CSRF and the audit export.

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, TEST_PASSWORD};
use app::domain::{Access, AuditFilter, Outcome, Role};
use app::server::http::access_map;
use app::server::services::{audit, staff};

both_backends!(
    every_route_answers_each_role_as_the_table_says,
    signing_in_rotates_the_session_id,
    a_live_session_id_never_survives_a_sign_in_or_a_password_change,
    wrong_password_gives_the_generic_error_and_no_session,
    signing_out_ends_the_session,
    deactivating_someone_ends_all_their_sessions,
    sessions_end_after_the_absolute_timeout,
    idle_sessions_expire_and_activity_extends_them,
    cookies_are_secure_when_served_over_https,
    cross_site_posts_are_refused,
    audit_export_streams_csv_and_is_audited,
    machine_routes_neither_read_nor_extend_staff_sessions,
    session_store_trouble_never_reaches_the_client,
);

#[derive(Debug, PartialEq)]
enum Expect {
    Allowed,
    SignIn,
    Forbidden,
}

fn expected(access: Access, role: Option<Role>) -> Expect {
    if access.allows(role) {
        Expect::Allowed
    } else if role.is_none() {
        Expect::SignIn
    } else {
        Expect::Forbidden
    }
}

/// Every route the server registers: REST routes, server functions and pages.
fn all_routes() -> Vec<(String, bool)> {
    let mut routes: Vec<(String, bool)> = server::startup::rest_routes()
        .into_iter()
        .map(|(p, _)| (p.to_string(), false))
        .collect();
    routes.extend(leptos::server_fn::axum::server_fn_paths().map(|(p, _)| (p.to_string(), true)));
    routes.extend(
        server::startup::route_list()
            .iter()
            .map(|r| (r.path().to_string(), false)),
    );
    routes.sort();
    routes.dedup();
    // Logging out would end the client's session mid-test: do it last.
    routes.sort_by_key(|(p, _)| p == "/api/fn/logout");
    routes
}

#[tokio::test]
async fn every_registered_route_declares_its_access() {
    let missing: Vec<String> = all_routes()
        .into_iter()
        .filter(|(p, _)| access_map::access_for(p).is_none())
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a declared permission: {missing:?}"
    );
}

async fn every_route_answers_each_role_as_the_table_says(backend: Backend) {
    // /metrics answers its own 401 to a missing bearer token; off, it is a plain 404.
    let Some(app) = spawn_app_with(backend, |v| {
        v.remove("METRICS_TOKEN");
    })
    .await
    else {
        return;
    };
    let mut expected_denials = 0;
    for role in [
        None,
        Some(Role::Viewer),
        Some(Role::Support),
        Some(Role::Billing),
        Some(Role::Admin),
    ] {
        let client = match role {
            None => app.client.clone(),
            Some(r) => app.sign_in(r).await.0,
        };
        for (path, is_fn) in all_routes() {
            let access = access_map::access_for(&path).expect("declared");
            let req = if is_fn {
                client
                    .post(app.url(&path))
                    .header("origin", app.origin())
                    .header("content-type", "application/x-www-form-urlencoded")
            } else {
                client.get(app.url(&path))
            };
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let location = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string();
            let want = expected(access, role);
            let got = match status {
                401 => Expect::SignIn,
                303 | 302 | 307 if location.starts_with("/login?next=") => Expect::SignIn,
                403 => Expect::Forbidden,
                _ => Expect::Allowed,
            };
            assert_eq!(
                got, want,
                "{role:?} {path}: status {status} location {location:?}"
            );
            if path.starts_with("/api/") && want == Expect::SignIn {
                assert_eq!(status, 401, "{path}");
            }
            if want == Expect::Forbidden {
                expected_denials += 1;
            }
        }
    }
    let denied = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter {
            action: Some("permission.denied".into()),
            ..Default::default()
        },
        None,
        200,
    )
    .await
    .unwrap();
    assert_eq!(
        denied.entries.len(),
        expected_denials,
        "each refusal is audited"
    );
    assert!(denied
        .entries
        .iter()
        .all(|e| e.outcome == Outcome::Denied && e.actor_kind == "staff"));
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            let first = c.split(';').next()?;
            first.strip_prefix("ll_session=").map(str::to_string)
        })
}

async fn create(app: &TestApp, email: &str, role: Role) -> staff::Staff {
    staff::create_with_password(
        &app.state.db,
        &app::server::actor::Actor::System,
        &Default::default(),
        &app::domain::Email::parse(email).unwrap(),
        "Ada",
        role,
        TEST_PASSWORD,
    )
    .await
    .unwrap()
}

/// Session fixation with a real id: a viewer's own live cookie planted in an admin's browser
/// must not become the admin's session when the admin signs in there, and changing the password
/// must not keep the id either (the outside attack of 2026-12-08 found both kept it).
async fn a_live_session_id_never_survives_a_sign_in_or_a_password_change(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    create(&app, "ada@example.com", Role::Admin).await;
    let planted = crate::helpers::session_cookie_for(&app, Role::Viewer).await;
    let audit_with = |cookie: String| async move {
        crate::helpers::raw_get(app.addr, "/audit", Some(&cookie))
            .await
            .0
    };
    assert_eq!(
        audit_with(planted.clone()).await,
        403,
        "a viewer's live session"
    );
    // A same-site form post carrying `cookie`, as the browser holding it would send.
    let post_with = |path: &str, cookie: &str, form: [(&'static str, &'static str); 2]| {
        app.client
            .post(app.url(path))
            .header("origin", app.origin())
            .header("cookie", cookie)
            .form(&form)
            .send()
    };
    let sign_in = [("email", "ada@example.com"), ("password", TEST_PASSWORD)];
    let res = post_with("/api/fn/login", &planted, sign_in).await.unwrap();
    let admin = format!("ll_session={}", session_cookie(&res).expect("a new cookie"));
    assert_ne!(admin, planted);
    assert_eq!(
        audit_with(admin.clone()).await,
        200,
        "the admin's own session"
    );
    assert_eq!(
        audit_with(planted.clone()).await,
        303,
        "the planted id signs no one in, the admin least of all"
    );

    let change = [
        ("current", TEST_PASSWORD),
        ("new_password", "brand-new-secret-9"),
    ];
    let res = post_with("/api/fn/change_password", &admin, change)
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let after = format!("ll_session={}", session_cookie(&res).expect("a new cookie"));
    assert_ne!(
        after, admin,
        "a password change starts a session under a new id"
    );
    assert_eq!(audit_with(after).await, 200);
    assert_eq!(
        audit_with(admin).await,
        303,
        "the old id is gone with the password"
    );
}

async fn signing_in_rotates_the_session_id(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    create(&app, "ada@example.com", Role::Admin).await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let res = app
        .client
        .post(app.url("/api/fn/login"))
        .header("origin", app.origin())
        .header("cookie", format!("ll_session={planted}"))
        .header("accept", "text/html")
        .form(&[
            ("email", "ada@example.com"),
            ("password", TEST_PASSWORD),
            ("next", "/audit"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/audit");
    let raw = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(" | ");
    let id = session_cookie(&res).expect("session cookie set");
    assert_ne!(id, planted);
    // The database keeps only a hash of the id: a copy of it signs no one in.
    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    let hashed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id.as_bytes()));
    assert!(!stored.contains(&id), "the session id itself is stored");
    assert!(stored.contains(&hashed), "{stored:?}");
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    assert!(!raw.contains("Secure"), "not over plain http");
    let page = app
        .client
        .get(app.url("/audit"))
        .header("cookie", format!("ll_session={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let planted_page = app
        .client
        .get(app.url("/audit"))
        .header("cookie", format!("ll_session={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(planted_page.status(), 303, "the planted id grants nothing");
}

async fn wrong_password_gives_the_generic_error_and_no_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    create(&app, "ada@example.com", Role::Admin).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for email in ["ada@example.com", "nobody@example.com"] {
        let res = client
            .post(app.url("/api/fn/login"))
            .header("origin", app.origin())
            .header("accept", "application/json")
            .form(&[
                ("email", email),
                ("password", "not-the-password"),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert!(!res.status().is_success(), "{email}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Wrong email or password."), "{email}: {body}");
    }
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 303);
}

async fn signing_out_ends_the_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, staff) = app.sign_in(Role::Support).await;
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200);
    let res = client
        .post(app.url("/api/fn/logout"))
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection() || res.status().is_success());
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 303);
    let outs = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter {
            action: Some("auth.logout".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(outs.entries.len(), 1);
    assert_eq!(outs.entries[0].actor_label, staff.email);
}

async fn deactivating_someone_ends_all_their_sessions(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    create(&app, "ada@example.com", Role::Billing).await;
    let mut clients = Vec::new();
    for _ in 0..2 {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        app.post_login(&c, "ada@example.com", TEST_PASSWORD).await;
        assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), 200);
        clients.push(c);
    }
    let ada = staff::find_by_email(
        &app.state.db,
        &app::domain::Email::parse("ada@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let admin = app::server::actor::Actor::System;
    staff::set_active(&app.state.db, &admin, &Default::default(), &ada.id, false)
        .await
        .unwrap();
    for c in &clients {
        assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), 303);
    }
    // Reactivation does not revive the old sessions: the epoch moved on.
    staff::set_active(&app.state.db, &admin, &Default::default(), &ada.id, true)
        .await
        .unwrap();
    assert_eq!(
        clients[0].get(app.url("/")).send().await.unwrap().status(),
        303
    );
}

async fn sessions_end_after_the_absolute_timeout(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Viewer).await;
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200);
    // Pretend the sign-in happened 13 hours ago (the default limit is 12).
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, data FROM sessions")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    for (id, data) in rows {
        let mut v: serde_json::Value = serde_json::from_str(&data).unwrap();
        if v.get(app::server::auth::LOGIN_AT_KEY).is_some() {
            v[app::server::auth::LOGIN_AT_KEY] =
                serde_json::json!(chrono::Utc::now().timestamp_millis() - 13 * 3_600_000);
            sqlx::query("UPDATE sessions SET data = $1 WHERE id = $2")
                .bind(v.to_string())
                .bind(id)
                .execute(app.state.db.pool())
                .await
                .unwrap();
        }
    }
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 303);
}

async fn cross_site_posts_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Admin).await;
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("referer", "https://evil.example/page"),
    ] {
        let res = client
            .post(app.url("/api/fn/logout"))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{header}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "cross-site request refused");
    }
    let res = client.post(app.url("/api/fn/logout")).send().await.unwrap();
    assert_eq!(res.status(), 403, "no Origin or Referer at all");
    assert_eq!(
        client.get(app.url("/")).send().await.unwrap().status(),
        200,
        "still signed in: nothing changed"
    );
}

async fn audit_export_streams_csv_and_is_audited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, admin_staff) = app.sign_in(Role::Admin).await;
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    assert_eq!(
        viewer
            .get(app.url("/api/audit/export.csv"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = admin
        .get(app.url("/api/audit/export.csv?action=auth.login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "two sign-ins: {body}");
    assert!(rows.iter().all(|r| &r[5] == "auth.login"));
    // As a browser asks for it: compressed. The whole body must arrive.
    let gzipped = admin
        .get(app.url("/api/audit/export.csv"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let bytes = gzipped
        .bytes()
        .await
        .expect("the compressed export completes");
    assert!(bytes.len() > 20);
    let exports = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter {
            action: Some("audit.exported".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(exports.entries.len(), 2, "each export is audited");
    assert!(exports
        .entries
        .iter()
        .all(|e| e.actor_label == admin_staff.email));
    let bad = admin
        .get(app.url("/api/audit/export.csv?outcome=maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

async fn latest_session_expiry(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT MAX(expires_at) FROM sessions")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn idle_sessions_expire_and_activity_extends_them(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Viewer).await;
    let now = chrono::Utc::now().timestamp_millis();
    let first = latest_session_expiry(&app).await;
    // 30 minutes of idle time by default.
    assert!(
        (first - now - 30 * 60_000).abs() < 60_000,
        "expires {} ms from now",
        first - now
    );
    sqlx::query("UPDATE sessions SET expires_at = expires_at - 600000")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200);
    assert!(
        latest_session_expiry(&app).await >= first - 1000,
        "a request slides the expiry forward again"
    );
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(
        client.get(app.url("/")).send().await.unwrap().status(),
        303,
        "idle too long"
    );
}

async fn cookies_are_secure_when_served_over_https(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("PUBLIC_URL".into(), "https://ops.example.com".into());
    })
    .await
    else {
        return;
    };
    create(&app, "ada@example.com", Role::Viewer).await;
    let res = app
        .client
        .post(app.url("/api/fn/login"))
        .header("origin", "https://ops.example.com")
        .header("accept", "text/html")
        .form(&[
            ("email", "ada@example.com"),
            ("password", TEST_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("ll_session="));
    let cookie = cookie.expect("session cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

/// Stripe's webhooks and the product's intake API authenticate by signature or bearer key. They
/// are served outside the session layers: a staff cookie sent along is not loaded, and the
/// request neither slides the session's expiry nor sets a cookie.
async fn machine_routes_neither_read_nor_extend_staff_sessions(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Admin).await;
    sqlx::query("UPDATE sessions SET expires_at = expires_at - 600000")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let before = latest_session_expiry(&app).await;
    for path in ["/api/v1/support/tickets", "/api/webhooks/stripe"] {
        let res = client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        // Refused by the route's own check (no key; webhooks not configured in tests), not
        // by the session.
        assert!(
            matches!(res.status().as_u16(), 401 | 503),
            "{path}: {}",
            res.status()
        );
        assert_eq!(session_cookie(&res), None, "{path} set a session cookie");
        assert_eq!(
            latest_session_expiry(&app).await,
            before,
            "{path} slid the session's expiry"
        );
    }
    // The same client on a staff page still slides it: the session is alive and well.
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200);
    assert!(latest_session_expiry(&app).await > before);
}

/// With the database gone, loading a session fails in the session layer: the client gets a
/// bare 500, and neither the store's nor the database's words.
async fn session_store_trouble_never_reaches_the_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Viewer).await;
    app.state.db.close().await;
    for res in [
        client.get(app.url("/")).send().await.unwrap(),
        client
            .post(app.url("/api/fn/current_user"))
            .header("origin", app.origin())
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(res.status(), 500);
        let body = res.text().await.unwrap().to_lowercase();
        for word in [
            "sqlx",
            "pool",
            "closed",
            "session store",
            "database",
            "sqlite",
            "postgres",
        ] {
            assert!(!body.contains(word), "{word:?} in {body:?}");
        }
    }
}
