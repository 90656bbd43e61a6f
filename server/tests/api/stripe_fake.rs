//! A Stripe-shaped server for what localstripe lacks: objects come from Stripe's published
//! fixtures (fixtures3.json); requests are checked the way Stripe checks them (refund reasons,
//! amounts against what is left, Idempotency-Key replay and misuse, list `limit` and cursors,
//! canceled subscriptions listed only with `status=all`), and errors can be injected.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct FakeState {
    pub charges: HashMap<String, Value>,
    /// Other objects by list path ("customers", "subscriptions", …), in list order (newest
    /// first, as Stripe lists).
    pub lists: HashMap<String, Vec<Value>>,
    /// Every list request: (path, starting_after).
    pub list_requests: Vec<(String, Option<String>)>,
    /// Idempotency-Key → (request parameters, the refund answered).
    pub idempotent: HashMap<String, (HashMap<String, String>, Value)>,
    pub refunds_created: usize,
    /// Statuses to answer the next requests with instead (e.g. 429).
    pub fail_next: Vec<u16>,
}

pub struct FakeStripe {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
}

fn fixture(kind: &str) -> Value {
    let all: Value =
        serde_json::from_str(include_str!("../fixtures/stripe/fixtures3.json")).unwrap();
    all["resources"][kind].clone()
}

/// Stripe's published charge with `changes` laid over it.
pub fn charge(changes: Value) -> Value {
    object("charge", changes)
}

/// Stripe's published object of `kind` with `changes` laid over it.
pub fn object(kind: &str, changes: Value) -> Value {
    let mut c = fixture(kind);
    for (k, v) in changes.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn error(status: u16, message: &str) -> Response {
    let kind = if status == 429 {
        "rate_limit_error"
    } else {
        "invalid_request_error"
    };
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({ "error": { "type": kind, "message": message } })),
    )
        .into_response()
}

type Shared = Arc<Mutex<FakeState>>;

fn injected(state: &Shared) -> Option<Response> {
    let mut s = state.lock().unwrap();
    (!s.fail_next.is_empty()).then(|| {
        let status = s.fail_next.remove(0);
        error(status, "injected failure")
    })
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer sk_test_"))
}

async fn get_object(
    State(state): State<Shared>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    if let Some(r) = injected(&state) {
        return r;
    }
    let s = state.lock().unwrap();
    let found = if list == "charges" {
        s.charges.get(&id).cloned()
    } else {
        s.lists
            .get(&list)
            .and_then(|l| l.iter().find(|o| o["id"] == id.as_str()).cloned())
    };
    match found {
        Some(o) => Json(o).into_response(),
        None => error(
            404,
            &format!("No such {}: '{id}'", list.trim_end_matches('s')),
        ),
    }
}

/// A list page as Stripe answers it: `limit` 1–100, `starting_after` an id in the list.
async fn list_objects(
    State(state): State<Shared>,
    Path(list): Path<String>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    list_page(state, list, headers, params)
}

async fn list_refunds(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    list_page(state, "refunds".into(), headers, params)
}

fn list_page(
    state: Shared,
    list: String,
    headers: HeaderMap,
    params: HashMap<String, String>,
) -> Response {
    if !authorized(&headers) {
        return error(401, "Invalid API Key provided");
    }
    let after = params.get("starting_after").cloned();
    state
        .lock()
        .unwrap()
        .list_requests
        .push((list.clone(), after.clone()));
    if let Some(r) = injected(&state) {
        return r;
    }
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        Some(_) => return error(400, "Invalid integer: limit must be between 1 and 100"),
    };
    let s = state.lock().unwrap();
    let mut all: Vec<Value> = if list == "charges" {
        let mut c: Vec<Value> = s.charges.values().cloned().collect();
        c.sort_by_key(|c| std::cmp::Reverse(c["created"].as_i64()));
        c
    } else {
        s.lists.get(&list).cloned().unwrap_or_default()
    };
    if list == "subscriptions" && params.get("status").map(String::as_str) != Some("all") {
        all.retain(|o| o["status"] != "canceled");
    }
    let start = match &after {
        None => 0,
        Some(id) => match all.iter().position(|o| o["id"] == id.as_str()) {
            Some(i) => i + 1,
            None => return error(400, &format!("No such object: '{id}'")),
        },
    };
    let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let has_more = start + page.len() < all.len();
    Json(json!({ "object": "list", "url": format!("/v1/{list}"), "has_more": has_more, "data": page }))
        .into_response()
}

async fn create_refund(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = injected(&state) {
        return r;
    }
    if !authorized(&headers) {
        return error(401, "Invalid API Key provided");
    }
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return error(400, "this fake insists on an Idempotency-Key for refunds");
    };
    let mut s = state.lock().unwrap();
    if let Some((seen, refund)) = s.idempotent.get(&key) {
        return if *seen == params {
            Json(refund.clone()).into_response()
        } else {
            error(400, "Keys for idempotent requests can only be used with the same parameters they were first used with.")
        };
    }
    if let Some(reason) = params.get("reason") {
        if !["duplicate", "fraudulent", "requested_by_customer"].contains(&reason.as_str()) {
            return error(400, &format!("Invalid reason: {reason}"));
        }
    }
    let Some(charge_id) = params.get("charge") else {
        return error(400, "Missing required param: charge.");
    };
    let Some(charge) = s.charges.get(charge_id).cloned() else {
        return error(404, &format!("No such charge: '{charge_id}'"));
    };
    let left = charge["amount"].as_i64().unwrap() - charge["amount_refunded"].as_i64().unwrap_or(0);
    let amount = params
        .get("amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(left);
    if amount > left {
        return error(
            400,
            &format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            ),
        );
    }
    s.refunds_created += 1;
    let mut refund = fixture("refund");
    refund["id"] = json!(format!("re_fake{}", s.refunds_created));
    refund["charge"] = json!(charge_id);
    refund["amount"] = json!(amount);
    refund["currency"] = charge["currency"].clone();
    refund["status"] = json!("succeeded");
    refund["reason"] = json!(params.get("reason"));
    let c = s.charges.get_mut(charge_id).unwrap();
    c["amount_refunded"] = json!(c["amount_refunded"].as_i64().unwrap_or(0) + amount);
    c["refunded"] = json!(c["amount_refunded"] == c["amount"]);
    s.idempotent.insert(key, (params, refund.clone()));
    s.lists
        .entry("refunds".into())
        .or_default()
        .insert(0, refund.clone());
    Json(refund).into_response()
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/{list}/{id}", get(get_object))
            .route("/v1/refunds", post(create_refund).get(list_refunds))
            .route("/v1/{list}", get(list_objects))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeStripe { url, state }
    }
}
