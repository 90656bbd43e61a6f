use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use app::domain::Role;

both_backends!(
    overview_is_server_rendered_with_its_status_panel,
    inline_scripts_carry_the_csp_nonce_of_their_response,
    unknown_page_is_a_styled_404,
    other_spellings_redirect_to_the_one_the_guard_knows,
);

async fn overview_is_server_rendered_with_its_status_panel(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Viewer).await;
    let res = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Overview</h1>"), "{html}");
    assert!(html.contains("System status"));
    assert!(html.contains(r#"href="/pkg/ledgerline.css""#));
    assert!(
        html.contains("/pkg/ledgerline"),
        "hydration script is referenced"
    );
    assert!(
        html.contains(r#"aria-current="page""#),
        "current nav item is marked"
    );
}

async fn inline_scripts_carry_the_csp_nonce_of_their_response(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = app.get("/login").await;
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("page CSP has a nonce")
            .to_string();
        let html = res.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(
            html.matches(&format!(r#"nonce="{nonce}""#)).count(),
            scripts,
            "every script carries the nonce: {html}"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "nonce is fresh per response");
}

async fn unknown_page_is_a_styled_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(
        html.contains(r#"href="/pkg/ledgerline.css""#),
        "styled like every page"
    );
    assert!(html.contains("Back to the overview"));
    assert!(
        !html.contains("<script"),
        "the 404 renders nothing of the app: no component ran, no server function was called"
    );
}

async fn location(app: &crate::helpers::TestApp, path: &str) -> (u16, String) {
    let (status, to, _) = crate::helpers::raw_get(app.addr, path, None).await;
    (status, to.unwrap_or_default())
}

/// A path that matches no route never renders a page: another spelling of a page's path is
/// redirected to the canonical one (where the guard runs), anything else is a plain 404.
async fn other_spellings_redirect_to_the_one_the_guard_knows(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for (asked, canonical) in [
        ("/audit/", "/audit"),
        ("//staff", "/staff"),
        ("/./api-keys/", "/api-keys"),
        ("/x/../refunds", "/refunds"),
        ("/%61udit", "/audit"),
        ("/AUDIT?actor=a%40b", "/audit?actor=a%40b"),
        ("/Customers/cus_AbC/", "/customers/cus_AbC"),
        ("/tickets//tkt_1", "/tickets/tkt_1"),
    ] {
        assert_eq!(
            location(&app, asked).await,
            (308, canonical.to_string()),
            "{asked}"
        );
    }
    for unknown in [
        "/audit/x",
        "/audits",
        "/customers/a/b",
        "/%2e%2e/etc/passwd",
    ] {
        assert_eq!(location(&app, unknown).await.0, 404, "{unknown}");
    }
    let post = app
        .client
        .post(app.url("/audit/"))
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404, "only reads are redirected");
    let api = app.get("/api/fn/audit_page/").await;
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "not found");
}
