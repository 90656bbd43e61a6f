use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use app::domain::Role;

both_backends!(
    overview_is_server_rendered_with_its_status_panel,
    inline_scripts_carry_the_csp_nonce_of_their_response,
    unknown_page_is_a_styled_404,
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
}
