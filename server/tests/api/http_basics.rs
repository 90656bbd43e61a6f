use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend};
use app::domain::Role;
use serde_json::Value;

both_backends!(
    request_id_is_generated_when_absent,
    well_formed_request_id_is_echoed_and_malformed_replaced,
    unknown_api_route_is_a_json_404_with_the_request_id,
    oversized_body_is_refused_with_413_json,
    security_headers_are_on_every_response,
    hsts_only_when_served_over_https,
    responses_are_compressed_when_asked,
    status_server_function_uses_the_same_service_as_ready,
    a_request_id_is_kept_only_from_a_trusted_proxy,
    silent_and_surplus_connections_are_closed,
);

fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .expect("x-request-id header")
        .to_str()
        .unwrap()
        .to_string()
}

async fn request_id_is_generated_when_absent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = request_id(&app.get("/api/health").await);
    let b = request_id(&app.get("/api/health").await);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
    assert_ne!(a, b);
}

async fn well_formed_request_id_is_echoed_and_malformed_replaced(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await
    else {
        return;
    };
    let res = app
        .client
        .get(app.url("/api/health"))
        .header("x-request-id", "lb-7f3a:42")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&res), "lb-7f3a:42");
    let res = app
        .client
        .get(app.url("/api/health"))
        .header("x-request-id", "bad id<script>")
        .send()
        .await
        .unwrap();
    let id = request_id(&res);
    assert_ne!(id, "bad id<script>");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
}

async fn unknown_api_route_is_a_json_404_with_the_request_id(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.get("/api/does-not-exist").await;
    assert_eq!(res.status(), 404);
    let id = request_id(&res);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not found");
    assert_eq!(body["request_id"], id);
}

async fn oversized_body_is_refused_with_413_json(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let big = vec![b'x'; server::startup::MAX_BODY_BYTES + 1];
    let res = app
        .client
        .post(app.url("/api/anything"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let id = request_id(&res);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "payload too large");
    assert_eq!(body["request_id"], id);
}

async fn security_headers_are_on_every_response(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for path in ["/api/health", "/", "/login", "/nope"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over http"
        );
    }
}

async fn hsts_only_when_served_over_https(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |v| {
        v.insert("PUBLIC_URL".into(), "https://ops.example.com".into());
    })
    .await
    else {
        return;
    };
    let res = app.get("/api/health").await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

async fn responses_are_compressed_when_asked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .client
        .get(app.url("/login"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

async fn status_server_function_uses_the_same_service_as_ready(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, _) = app.sign_in(Role::Viewer).await;
    let res = client
        .post(app.url("/api/fn/system_status"))
        .header("origin", app.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let from_fn: Value = res.json().await.unwrap();
    let from_route: Value = app.ready().await.json().await.unwrap();
    let names = |v: &Value| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].clone(), c["status"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&from_fn), names(&from_route));
    assert_eq!(from_fn["status"], "ok");
}

/// Ids end up in audit entries: one sent by anyone but the trusted proxy is replaced.
async fn a_request_id_is_kept_only_from_a_trusted_proxy(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .client
        .get(app.url("/api/health"))
        .header("x-request-id", "chosen-by-a-stranger")
        .send()
        .await
        .unwrap();
    let id = request_id(&res);
    assert_ne!(id, "chosen-by-a-stranger");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

/// A connection that sends nothing is closed once the header timeout passes, and one address
/// cannot hold more than its share of connections; another address still gets in.
async fn silent_and_surplus_connections_are_closed(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut silent = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(
        server::serve::HEADER_READ_TIMEOUT + std::time::Duration::from_secs(5),
        silent.read(&mut byte),
    )
    .await
    .expect("the server closes a silent connection");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");

    let mut held = Vec::new();
    for _ in 0..server::serve::PER_ADDRESS {
        held.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }
    // Past the cap the server closes the connection before reading a byte.
    let mut surplus = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let _ = surplus
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        surplus.read_to_end(&mut answer),
    )
    .await
    .expect("closed, not left hanging");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // Another address is not affected.
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    other.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = other.connect(app.addr).await.unwrap();
    other
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    other.read_to_end(&mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    drop(held);
}
