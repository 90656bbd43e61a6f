//! A Zendesk-shaped help desk. It checks what Zendesk's Tickets API checks — basic auth as
//! `{email}/token:{api_token}`, the path and method, a `{"ticket": {...}}` body with a comment
//! body, a known priority, tags as strings and a valid requester email — answering bad
//! requests the way Zendesk does (401 `Couldn't authenticate you`, 422 `RecordInvalid` with
//! details), and injects 429s with Retry-After, 503s and late answers (the ticket is created,
//! the answer comes after the client gave up).

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const EMAIL: &str = "agent@acme.test";
pub const TOKEN: &str = "zd-token-0000-fake";
const PRIORITIES: [&str; 4] = ["urgent", "high", "normal", "low"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    RateLimited,
    ServerError,
    SlowAnswer,
}

#[derive(Default)]
pub struct DeskState {
    pub tickets: Vec<Value>,
    /// What the next requests meet, in order (None: a normal answer).
    pub fail_next: Vec<Option<Fault>>,
    pub requests: Vec<(String, String)>,
    pub rejected: Vec<String>,
}

pub struct FakeZendesk {
    pub url: String,
    pub state: Arc<Mutex<DeskState>>,
    pub slow: Duration,
}

fn authorized(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    decoded.as_deref() == Some(&format!("{EMAIL}/token:{TOKEN}"))
}

fn invalid(state: &Mutex<DeskState>, field: &str, description: &str) -> Response {
    state
        .lock()
        .unwrap()
        .rejected
        .push(format!("{field}: {description}"));
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": { field: [{ "description": description }] }
        })),
    )
        .into_response()
}

/// Checks auth and takes the next fault; Err is the answer to send instead.
fn gate(
    fake: &FakeZendesk,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<Option<Fault>, Box<Response>> {
    if !authorized(headers) {
        return Err(Box::new(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": "Couldn't authenticate you" })),
            )
                .into_response(),
        ));
    }
    let mut s = fake.state.lock().unwrap();
    s.requests.push((method.into(), path.into()));
    let fault = if s.fail_next.is_empty() {
        None
    } else {
        s.fail_next.remove(0)
    };
    match fault {
        Some(Fault::RateLimited) => Err(Box::new(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({ "error": "TooManyRequests", "description": "Rate limit exceeded" })),
            )
                .into_response(),
        )),
        Some(Fault::ServerError) => Err(Box::new(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "ServiceUnavailable", "description": "Try again" })),
            )
                .into_response(),
        )),
        other => Ok(other),
    }
}

async fn list(
    State(fake): State<Arc<FakeZendesk>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let fault = match gate(&fake, &headers, "GET", "/api/v2/tickets.json") {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let found: Vec<Value> = {
        let s = fake.state.lock().unwrap();
        s.tickets
            .iter()
            .filter(|t| {
                q.get("external_id")
                    .is_none_or(|e| t["external_id"] == json!(e))
            })
            .cloned()
            .collect()
    };
    if fault == Some(Fault::SlowAnswer) {
        tokio::time::sleep(fake.slow).await;
    }
    Json(
        json!({ "tickets": found, "count": found.len(), "next_page": null, "previous_page": null }),
    )
    .into_response()
}

async fn create(
    State(fake): State<Arc<FakeZendesk>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let fault = match gate(&fake, &headers, "POST", "/api/v2/tickets.json") {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "Unprocessable Entity", "description": "body is not JSON" })),
        )
            .into_response();
    };
    let Some(Value::Object(t)) = root.get("ticket") else {
        return invalid(&fake.state, "ticket", "is missing");
    };
    let comment_ok = t
        .get("comment")
        .and_then(|c| c.get("body"))
        .and_then(Value::as_str)
        .is_some_and(|b| !b.trim().is_empty());
    if !comment_ok {
        return invalid(&fake.state, "description", "cannot be blank");
    }
    if !t.get("subject").is_none_or(Value::is_string) {
        return invalid(&fake.state, "subject", "must be a string");
    }
    if let Some(p) = t.get("priority") {
        if !p.as_str().is_some_and(|p| PRIORITIES.contains(&p)) {
            return invalid(&fake.state, "priority", "is not a valid priority");
        }
    }
    if let Some(tags) = t.get("tags") {
        if !tags
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
        {
            return invalid(&fake.state, "tags", "must be an array of strings");
        }
    }
    if let Some(r) = t.get("requester") {
        let email_ok = r
            .get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.contains('@') && !e.contains(' '));
        if !email_ok {
            return invalid(&fake.state, "requester", "needs a valid email");
        }
    }
    let created = {
        let mut s = fake.state.lock().unwrap();
        let id = 35_000 + s.tickets.len() as u64 + 1;
        let mut ticket = Value::Object(t.clone());
        ticket["id"] = json!(id);
        ticket["status"] = json!("new");
        ticket["description"] = t["comment"]["body"].clone();
        s.tickets.push(ticket.clone());
        ticket
    };
    if fault == Some(Fault::SlowAnswer) {
        tokio::time::sleep(fake.slow).await;
    }
    (StatusCode::CREATED, Json(json!({ "ticket": created }))).into_response()
}

impl FakeZendesk {
    pub async fn start(slow: Duration) -> Arc<FakeZendesk> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Arc::new(FakeZendesk {
            url: format!("http://{}", listener.local_addr().unwrap()),
            state: Arc::default(),
            slow,
        });
        let app = Router::new()
            .route("/api/v2/tickets.json", get(list).post(create))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }
}
