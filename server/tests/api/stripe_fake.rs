//! A Stripe-shaped server for what localstripe lacks: objects come from Stripe's published
//! fixtures (fixtures3.json); requests are checked the way Stripe checks them (refund reasons,
//! amounts against what is left, Idempotency-Key replay and misuse), and errors can be injected.

use axum::{
    extract::{Path, State},
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
    let mut c = fixture("charge");
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

async fn get_charge(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    if let Some(r) = injected(&state) {
        return r;
    }
    match state.lock().unwrap().charges.get(&id) {
        Some(c) => Json(c.clone()).into_response(),
        None => error(404, &format!("No such charge: '{id}'")),
    }
}

async fn create_refund(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = injected(&state) {
        return r;
    }
    if !headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer sk_test_"))
    {
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
    Json(refund).into_response()
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/charges/{id}", get(get_charge))
            .route("/v1/refunds", post(create_refund))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeStripe { url, state }
    }
}
