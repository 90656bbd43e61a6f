//! Authorization in depth. The route guard is the outer wall; these tests take it away and
//! check that every server function and REST handler refuses on its own, and they request every
//! page in every spelling (trailing and repeated slashes, dot segments, percent-encoded letters,
//! another letter case) anonymously and as each role, looking for data the role may not see.

use crate::both_backends;
use crate::helpers::{raw_get, session_cookie_for, spawn_app_with, Backend, TestApp};
use crate::stripe_mirror::{event, object};
use app::domain::{Access, Email, Permission, Role};
use app::server::actor::Actor;
use app::server::http::access_map;
use app::server::jobs::{self, NewJob};
use app::server::services::{api_keys, audit, staff};
use serde_json::json;
use std::net::SocketAddr;

both_backends!(
    every_server_function_and_route_refuses_on_its_own,
    no_spelling_of_any_page_shows_what_the_role_may_not_see,
);

const SECRET: &str = "whsec_authz_tests_0000000000001";

/// One value per kind of data, each shown on its own page only.
const CUSTOMER_MARK: &str = "Zebulon Markcustomer";
const TICKET_MARK: &str = "MARKTICKET7";
const JOB_MARK: &str = "MARKJOB7";
const AUDIT_MARK: &str = "MARKAUDIT7";
const STAFF_MARK: &str = "Markstaff Seven";
const KEY_MARK: &str = "MARKKEY7";

/// What each permission guards, as the marks that must not reach a role without it.
fn marks_needing(p: Permission) -> &'static [&'static str] {
    match p {
        Permission::AuditRead => &[AUDIT_MARK],
        Permission::StaffManage => &[STAFF_MARK],
        Permission::ApikeysManage => &[KEY_MARK],
        Permission::CustomerRead => &[CUSTOMER_MARK, JOB_MARK],
        Permission::TicketRead => &[TICKET_MARK],
        _ => &[],
    }
}

fn forbidden_marks(role: Option<Role>) -> Vec<&'static str> {
    Permission::ALL
        .iter()
        .filter(|p| !role.is_some_and(|r| r.can(**p)))
        .flat_map(|p| marks_needing(*p).iter().copied())
        .collect()
}

struct Seeded {
    customer: String,
    ticket: String,
    job: String,
    event: String,
}

async fn seed(app: &TestApp) -> Seeded {
    let now = chrono::Utc::now().timestamp_millis();
    let created = event(
        "evt_authz_1",
        "customer.created",
        1_700_000_000,
        object(
            "customer",
            json!({ "id": "cus_Authz", "email": "zeb@example.com", "name": CUSTOMER_MARK, "livemode": false }),
        ),
    );
    assert_eq!(app.deliver_stripe(SECRET, &created).await, 200);
    app.run_due_jobs().await;
    let customer: String =
        sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE id = 'cus_Authz'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    let key = api_keys::create(
        &app.state.db,
        &Actor::System,
        &Default::default(),
        KEY_MARK,
        &["tickets:write".into()],
        now,
    )
    .await
    .unwrap()
    .key;
    let res = app
        .client
        .post(app.url("/api/v1/support/tickets"))
        .bearer_auth(&key)
        .json(&json!({ "email": "zeb@example.com", "subject": format!("{TICKET_MARK} cannot log in"), "message": "Please help." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let ticket = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tx = app.state.db.begin().await.unwrap();
    let mut job = NewJob::new("authz.unregistered", json!({ "note": JOB_MARK }), now);
    job.customer_id = Some(customer.clone());
    let job = jobs::enqueue(&mut tx, job, now).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    audit::append_now(
        &app.state.db,
        audit::NewEntry::new(
            &Actor::System,
            &Default::default(),
            "test.marker",
            app::domain::Outcome::Ok,
        )
        .details(json!({ "mark": AUDIT_MARK })),
    )
    .await
    .unwrap();
    staff::create_with_password(
        &app.state.db,
        &Actor::System,
        &Default::default(),
        &Email::parse("markstaff7@example.com").unwrap(),
        STAFF_MARK,
        Role::Viewer,
        crate::helpers::TEST_PASSWORD,
    )
    .await
    .unwrap();
    Seeded {
        customer,
        ticket,
        job,
        event: "evt_authz_1".into(),
    }
}

/// The real server, plus the same router without its guard on a second port.
async fn apps(backend: Backend) -> Option<(TestApp, SocketAddr)> {
    let app = spawn_app_with(backend, |v| {
        v.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
    })
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare = listener.local_addr().unwrap();
    let router = server::startup::router_without_guard(app.state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Some((app, bare))
}

async fn clients(app: &TestApp) -> Vec<(Option<Role>, reqwest::Client)> {
    let mut out = vec![(None, app.client.clone())];
    for role in Role::ALL {
        out.push((Some(role), app.sign_in(role).await.0));
    }
    out
}

/// Every argument any server function takes, each with a value of the right type, so every
/// call gets past decoding and meets the function's own check. Values are nonsense ids: a
/// call that is let through changes nothing.
const EVERY_ARGUMENT: &[(&str, &str)] = &[
    ("id", "x"),
    ("customer_id", "x"),
    ("charge_id", "x"),
    ("amount", "1"),
    ("reason", "x"),
    ("note", "x"),
    ("request_key", "x"),
    ("approve", "false"),
    ("active", "false"),
    ("email", "nobody@example.com"),
    ("name", "x"),
    ("role", "viewer"),
    ("token", "x"),
    ("password", "x"),
    ("current", "x"),
    ("new_password", "x"),
    ("body", "x"),
    ("status", "x"),
    ("assignee", "x"),
    ("scope", "x"),
    ("cause", "manual"),
    ("key", "x"),
    ("decision", "separate"),
    ("q", "x"),
    ("source", "x"),
    ("kind", "x"),
    ("event_type", "x"),
    ("customer", "x"),
    ("queue", "x"),
    ("priority", "x"),
    ("overdue", "x"),
    ("cursor", "x"),
    ("actor", "x"),
    ("action", "x"),
    ("outcome", "x"),
    ("from", "x"),
    ("to", "x"),
    ("next", "/"),
];

#[derive(Debug, PartialEq)]
enum Answer {
    SignIn,
    Forbidden,
    LetThrough,
}

fn answer(status: u16) -> Answer {
    match status {
        401 => Answer::SignIn,
        403 => Answer::Forbidden,
        _ => Answer::LetThrough,
    }
}

fn expected(access: Access, role: Option<Role>) -> Answer {
    match (access.allows(role), role) {
        (true, _) => Answer::LetThrough,
        (false, None) => Answer::SignIn,
        (false, Some(_)) => Answer::Forbidden,
    }
}

/// With the guard gone, each server function (from Leptos' registry, so a new one is included
/// without being listed here) and each REST route answers every role exactly as the access map
/// says: a function that relied on the guard alone lets an anonymous caller through and fails.
async fn every_server_function_and_route_refuses_on_its_own(backend: Backend) {
    let Some((app, bare)) = apps(backend).await else {
        return;
    };
    let mut fns: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .collect();
    fns.sort();
    fns.dedup();
    // Signing out would end the client's session mid-test: do it last.
    fns.sort_by_key(|p| p == "/api/fn/logout");
    assert!(fns.len() > 40, "the registry lists the server functions");
    let mut checked = 0;
    for (role, client) in clients(&app).await {
        for (path, _) in server::startup::rest_routes() {
            let access = access_map::access_for(path).expect("declared");
            if access == Access::Public {
                continue;
            }
            let res = client
                .get(format!("http://{bare}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                answer(res.status().as_u16()),
                expected(access, role),
                "{role:?} {path} without the guard"
            );
            checked += 1;
        }
        for path in &fns {
            let access = access_map::access_for(path).expect("declared");
            if access == Access::Public {
                continue;
            }
            let res = client
                .post(format!("http://{bare}{path}"))
                .header("origin", format!("http://{bare}"))
                .header("accept", "application/json")
                .form(EVERY_ARGUMENT)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            assert_eq!(
                answer(status),
                expected(access, role),
                "{role:?} {path} without the guard: status {status}, {}",
                res.text().await.unwrap_or_default()
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} calls checked");
}

/// `path` spelled each way a browser, a proxy or an attacker might: exact, with a trailing
/// slash, doubled slashes, dot segments, a percent-encoded letter, another case.
fn spellings(path: &str) -> Vec<String> {
    let rest = path.trim_start_matches('/');
    let mut out = vec![
        path.to_string(),
        format!("{path}/"),
        format!("/{path}"),
        format!("/./{rest}"),
        format!("/x/../{rest}"),
        format!("{}/", path.to_uppercase()),
        format!("{path}//?q=1"),
    ];
    if let Some(first) = rest.chars().next() {
        out.push(format!(
            "/%{:02X}{}",
            first as u32,
            &rest[first.len_utf8()..]
        ));
    }
    out
}

/// Follows our own redirects (to a canonical spelling, to sign-in) and returns each hop's
/// path, status and body. Raw requests: the path goes out exactly as spelled.
async fn hops(addr: SocketAddr, path: &str, cookie: Option<&str>) -> Vec<(String, u16, String)> {
    let mut out = Vec::new();
    let mut at = path.to_string();
    for _ in 0..4 {
        let (status, location, body) = raw_get(addr, &at, cookie).await;
        out.push((at.clone(), status, body));
        match location {
            Some(l) if (300..400).contains(&status) && l.starts_with('/') => at = l,
            _ => break,
        }
    }
    out
}

async fn no_spelling_of_any_page_shows_what_the_role_may_not_see(backend: Backend) {
    let Some((app, bare)) = apps(backend).await else {
        return;
    };
    let s = seed(&app).await;
    let pages: Vec<String> = access_map::pages()
        .map(|p| {
            p.replace("/customers/{id}", &format!("/customers/{}", s.customer))
                .replace("/tickets/{id}", &format!("/tickets/{}", s.ticket))
                .replace("/jobs/{id}", &format!("/jobs/{}", s.job))
                .replace("/webhooks/{id}", &format!("/webhooks/{}", s.event))
        })
        .collect();
    let mut cookies = vec![(None, None)];
    for role in Role::ALL {
        cookies.push((Some(role), Some(session_cookie_for(&app, role).await)));
    }

    // The marks are really on their pages: each check below could fail.
    let admin = cookies.last().unwrap().1.as_deref();
    for (page, mark) in [
        ("/audit".to_string(), AUDIT_MARK),
        ("/staff".to_string(), STAFF_MARK),
        ("/api-keys".to_string(), KEY_MARK),
        (format!("/customers/{}", s.customer), CUSTOMER_MARK),
        (format!("/tickets/{}", s.ticket), TICKET_MARK),
        (format!("/jobs/{}", s.job), JOB_MARK),
    ] {
        let (status, _, body) = raw_get(app.addr, &page, admin).await;
        assert_eq!(status, 200, "{page}");
        assert!(body.contains(mark), "admin sees {mark} on {page}");
    }

    let mut requests = 0;
    for (role, cookie) in &cookies {
        let forbidden = forbidden_marks(*role);
        for page in &pages {
            let mut tries: Vec<(SocketAddr, String)> =
                spellings(page).into_iter().map(|p| (app.addr, p)).collect();
            // Without the guard, the page's server functions are the only wall.
            tries.push((bare, page.clone()));
            for (addr, spelled) in tries {
                for (at, status, body) in hops(addr, &spelled, cookie.as_deref()).await {
                    requests += 1;
                    assert!(status < 500, "{role:?} {addr}{at}: {status}");
                    for mark in &forbidden {
                        assert!(
                            !body.contains(mark),
                            "{role:?} saw {mark:?} at {addr}{at} (asked for {spelled}), status {status}"
                        );
                    }
                }
            }
        }
    }
    assert!(requests > 500, "{requests} responses read");
}
