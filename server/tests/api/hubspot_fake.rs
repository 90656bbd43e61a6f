//! A HubSpot-shaped CRM server. It checks what HubSpot's CRM v3 contacts API checks — the
//! bearer token, paths and methods, JSON body shapes, known properties, valid lifecycle stages,
//! unique emails and unique `ledgerline_id` values — answering malformed requests with
//! HubSpot-style 400s (`status`, `message`, `correlationId`, `category`), and injects 429s with
//! Retry-After, 500s and timeouts (the write is applied, the answer comes too late) on demand
//! or at a seeded rate.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Json, Router,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TOKEN: &str = "pat-na1-fake-0000-0000";

/// Properties this portal has: HubSpot's standard ones we use plus Ledgerline's custom ones.
const KNOWN: [&str; 13] = [
    "email",
    "firstname",
    "lastname",
    "lifecyclestage",
    "ledgerline_id",
    "ledgerline_plan",
    "ledgerline_mrr",
    "ledgerline_billing_status",
    "ledgerline_dunning",
    "ledgerline_last_payment_date",
    "ledgerline_last_payment_status",
    "ledgerline_url",
    "hs_object_id",
];
const STAGES: [&str; 8] = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    RateLimited,
    ServerError,
    /// The request is carried out, but the answer comes after the client gave up.
    SlowAnswer,
}

#[derive(Default)]
pub struct HubState {
    pub contacts: BTreeMap<String, BTreeMap<String, String>>,
    next_id: u64,
    /// Faults for the next requests, in order.
    pub fail_next: Vec<Fault>,
    /// Fault rate for every request (0.0–1.0) and the generator's state (seeded, repeatable).
    pub fault_rate: f64,
    pub seed: u64,
    /// (method, path) of every request that passed the auth check.
    pub requests: Vec<(String, String)>,
    pub faults_injected: usize,
    pub rejected: Vec<String>,
    /// Custom properties this portal lacks (an admin deleted one, say).
    pub missing: Vec<String>,
}

impl HubState {
    pub fn add_contact(&mut self, props: &[(&str, &str)]) -> String {
        self.next_id += 1;
        let id = (1000 + self.next_id).to_string();
        let mut p: BTreeMap<String, String> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.insert("hs_object_id".into(), id.clone());
        self.contacts.insert(id.clone(), p);
        id
    }

    fn next_fault(&mut self) -> Option<Fault> {
        if !self.fail_next.is_empty() {
            return Some(self.fail_next.remove(0));
        }
        if self.fault_rate <= 0.0 {
            return None;
        }
        // xorshift64*: deterministic per seed, good enough to spread faults.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        let r = (self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        if r >= self.fault_rate {
            return None;
        }
        Some(match (r / self.fault_rate * 3.0) as u32 {
            0 => Fault::RateLimited,
            1 => Fault::ServerError,
            _ => Fault::SlowAnswer,
        })
    }
}

type Shared = Arc<Mutex<HubState>>;

pub struct FakeHubSpot {
    pub url: String,
    pub state: Shared,
    /// How late a SlowAnswer comes; set above the client's timeout.
    pub slow: Duration,
    down: tokio::sync::watch::Sender<bool>,
}

fn hs_error(status: StatusCode, category: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": "error", "message": message, "correlationId": uuid::Uuid::new_v4().to_string(), "category": category })),
    )
        .into_response()
}

fn bad(message: &str) -> Response {
    hs_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
}

fn contact_json(id: &str, p: &BTreeMap<String, String>, wanted: Option<&[String]>) -> Value {
    let props: Map<String, Value> = p
        .iter()
        .filter(|(k, _)| wanted.is_none_or(|w| w.iter().any(|x| x == *k)))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({ "id": id, "properties": props, "createdAt": "2026-11-27T00:00:00Z", "updatedAt": "2026-11-27T00:00:00Z", "archived": false })
}

/// Checks auth, logs the request, then maybe injects a fault. Err = answer with this now.
/// Ok(true) = carry out the request but answer late.
async fn gate(
    state: &Shared,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<bool, Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return Err(hs_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found.",
        ));
    }
    let fault = {
        let mut s = state.lock().unwrap();
        s.requests.push((method.into(), path.into()));
        let f = s.next_fault();
        if f.is_some() {
            s.faults_injected += 1;
        }
        f
    };
    match fault {
        None => Ok(false),
        Some(Fault::SlowAnswer) => Ok(true),
        Some(Fault::RateLimited) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            Json(json!({ "status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT", "correlationId": uuid::Uuid::new_v4().to_string(), "policyName": "SECONDLY" })),
        )
            .into_response()),
        Some(Fault::ServerError) => Err(hs_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error",
        )),
    }
}

/// Every endpoint: the gate, then the work, then the answer (late if a fault says so).
async fn serve(
    f: &FakeHubSpot,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    work: impl FnOnce() -> Response,
) -> Response {
    let slow = match gate(&f.state, headers, method, path).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let r = work();
    if slow {
        tokio::time::sleep(f.slow).await;
    }
    r
}

/// HubSpot's checks on written properties: known names, string values, valid stages.
fn check_properties(p: &Value) -> Result<BTreeMap<String, String>, String> {
    let Some(map) = p.as_object() else {
        return Err("Invalid input JSON: properties must be an object".into());
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        if !KNOWN.contains(&k.as_str()) {
            return Err(format!("Property values were not valid: [{{\"isValid\":false,\"message\":\"Property \\\"{k}\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"{k}\"}}]"));
        }
        let Some(v) = v.as_str() else {
            return Err(format!("Invalid input JSON: property {k} must be a string"));
        };
        if k == "lifecyclestage" && !STAGES.contains(&v) {
            return Err(format!(
                "Property values were not valid: {v} was not one of the allowed options"
            ));
        }
        out.insert(k.clone(), v.to_string());
    }
    Ok(out)
}

fn holder_of(s: &HubState, prop: &str, value: &str, except: Option<&str>) -> Option<String> {
    s.contacts
        .iter()
        .find(|(id, p)| {
            Some(id.as_str()) != except && p.get(prop).map(String::as_str) == Some(value)
        })
        .map(|(id, _)| id.clone())
}

/// The `properties` a search or batch read asks for (None: HubSpot's defaults).
fn wanted_properties(body: &Value) -> Option<Vec<String>> {
    body.get("properties").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    })
}

fn search_now(f: &FakeHubSpot, body: Value) -> Response {
    let filters = body
        .pointer("/filterGroups/0/filters")
        .and_then(Value::as_array);
    let Some([filter]) = filters.map(Vec::as_slice) else {
        return bad("Invalid input JSON: expected filterGroups[0].filters with one filter");
    };
    let (Some(name), Some("EQ"), Some(value)) = (
        filter.get("propertyName").and_then(Value::as_str),
        filter.get("operator").and_then(Value::as_str),
        filter.get("value").and_then(Value::as_str),
    ) else {
        return bad("Invalid input JSON: a filter needs propertyName, operator EQ and value");
    };
    if body
        .get("limit")
        .and_then(Value::as_u64)
        .is_some_and(|l| l > 200)
    {
        return bad("limit must be at most 200");
    }
    let wanted = wanted_properties(&body);
    let s = f.state.lock().unwrap();
    let results: Vec<Value> = s
        .contacts
        .iter()
        .filter(|(_, p)| p.get(name).map(|v| v.to_lowercase()) == Some(value.to_lowercase()))
        .map(|(id, p)| contact_json(id, p, wanted.as_deref()))
        .collect();
    Json(json!({ "total": results.len(), "results": results })).into_response()
}

async fn search(
    State(f): State<Arc<FakeHubSpot>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    serve(
        &f,
        &headers,
        "POST",
        "/crm/v3/objects/contacts/search",
        || search_now(&f, body),
    )
    .await
}

fn upsert_now(f: &FakeHubSpot, body: Value) -> Response {
    let Some(inputs) = body
        .get("inputs")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty() && i.len() <= 100)
    else {
        return bad("Invalid input JSON: inputs must hold 1 to 100 items");
    };
    let mut results = Vec::new();
    let mut s = f.state.lock().unwrap();
    for input in inputs {
        let (Some(id_property), Some(id)) = (
            input.get("idProperty").and_then(Value::as_str),
            input.get("id").and_then(Value::as_str),
        ) else {
            s.rejected.push("upsert without idProperty/id".into());
            return bad("Invalid input JSON: each input needs idProperty and id");
        };
        if id_property != "ledgerline_id" && id_property != "email" {
            return bad(&format!("{id_property} is not a unique property"));
        }
        let props = match check_properties(input.get("properties").unwrap_or(&Value::Null)) {
            Ok(p) => p,
            Err(m) => {
                s.rejected.push("bad properties".into());
                return bad(&m);
            }
        };
        if let Some(k) = props.keys().find(|k| s.missing.contains(k)) {
            return bad(&format!("Property values were not valid: [{{\"isValid\":false,\"message\":\"Property \\\"{k}\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"{k}\"}}]"));
        }
        let existing = holder_of(&s, id_property, id, None);
        if let Some(email) = props.get("email") {
            if let Some(other) = holder_of(&s, "email", email, existing.as_deref()) {
                return hs_error(
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    &format!("Contact already exists. Existing ID: {other}"),
                );
            }
        }
        let (contact_id, new) = match existing {
            Some(c) => (c, false),
            None => {
                s.next_id += 1;
                let c = (1000 + s.next_id).to_string();
                s.contacts.insert(
                    c.clone(),
                    BTreeMap::from([
                        ("hs_object_id".to_string(), c.clone()),
                        (id_property.to_string(), id.to_string()),
                    ]),
                );
                (c, true)
            }
        };
        let p = s.contacts.get_mut(&contact_id).unwrap();
        p.extend(props);
        let mut c = contact_json(&contact_id, p, None);
        c["new"] = json!(new);
        results.push(c);
    }
    Json(json!({ "status": "COMPLETE", "results": results, "startedAt": "2026-11-27T00:00:00Z", "completedAt": "2026-11-27T00:00:00Z" })).into_response()
}

async fn upsert(
    State(f): State<Arc<FakeHubSpot>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    serve(
        &f,
        &headers,
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        || upsert_now(&f, body),
    )
    .await
}

fn update_now(f: &FakeHubSpot, id: String, body: Value) -> Response {
    let props = match check_properties(body.get("properties").unwrap_or(&Value::Null)) {
        Ok(p) => p,
        Err(m) => return bad(&m),
    };
    let mut s = f.state.lock().unwrap();
    if let Some(l) = props.get("ledgerline_id") {
        if holder_of(&s, "ledgerline_id", l, Some(&id)).is_some() {
            return bad(&format!(
                "A contact with ledgerline_id {l} already exists; the value must be unique"
            ));
        }
    }
    let Some(p) = s.contacts.get_mut(&id) else {
        return hs_error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "resource not found",
        );
    };
    p.extend(props);
    let c = contact_json(&id, p, None);
    Json(c).into_response()
}

async fn update(
    State(f): State<Arc<FakeHubSpot>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    serve(
        &f,
        &headers,
        "PATCH",
        "/crm/v3/objects/contacts/{id}",
        || update_now(&f, id, body),
    )
    .await
}

fn batch_read_now(f: &FakeHubSpot, body: Value) -> Response {
    let Some(inputs) = body
        .get("inputs")
        .and_then(Value::as_array)
        .filter(|i| i.len() <= 100)
    else {
        return bad("Invalid input JSON: inputs must hold at most 100 items");
    };
    let wanted = wanted_properties(&body);
    let s = f.state.lock().unwrap();
    let results: Vec<Value> = inputs
        .iter()
        .filter_map(|i| i.get("id").and_then(Value::as_str))
        .filter_map(|id| {
            s.contacts
                .get(id)
                .map(|p| contact_json(id, p, wanted.as_deref()))
        })
        .collect();
    Json(json!({ "status": "COMPLETE", "results": results })).into_response()
}

async fn batch_read(
    State(f): State<Arc<FakeHubSpot>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    serve(
        &f,
        &headers,
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        || batch_read_now(&f, body),
    )
    .await
}

fn list_now(f: &FakeHubSpot, q: HashMap<String, String>) -> Response {
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        Some(_) => return bad("limit must be between 1 and 100"),
    };
    let wanted: Option<Vec<String>> = q
        .get("properties")
        .map(|p| p.split(',').map(str::to_string).collect());
    let after: u64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let s = f.state.lock().unwrap();
    let page: Vec<(&String, &BTreeMap<String, String>)> = s
        .contacts
        .iter()
        .filter(|(id, _)| id.parse::<u64>().unwrap_or(0) > after)
        .take(limit)
        .collect();
    let more = s
        .contacts
        .keys()
        .filter_map(|k| k.parse::<u64>().ok())
        .filter(|k| *k > after)
        .count()
        > page.len();
    let mut out = json!({ "results": page.iter().map(|(id, p)| contact_json(id, p, wanted.as_deref())).collect::<Vec<_>>() });
    if more {
        out["paging"] = json!({ "next": { "after": page.last().map(|(id, _)| id.to_string()) } });
    }
    Json(out).into_response()
}

async fn list(
    State(f): State<Arc<FakeHubSpot>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    serve(&f, &headers, "GET", "/crm/v3/objects/contacts", || {
        list_now(&f, q)
    })
    .await
}

fn merge_now(f: &FakeHubSpot, body: Value) -> Response {
    let (Some(primary), Some(other)) = (
        body.get("primaryObjectId").and_then(Value::as_str),
        body.get("objectIdToMerge").and_then(Value::as_str),
    ) else {
        return bad("Invalid input JSON: primaryObjectId and objectIdToMerge are required");
    };
    let mut s = f.state.lock().unwrap();
    let Some(merged) = s.contacts.remove(other) else {
        return hs_error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "resource not found",
        );
    };
    let Some(p) = s.contacts.get_mut(primary) else {
        s.contacts.insert(other.to_string(), merged);
        return hs_error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "resource not found",
        );
    };
    for (k, v) in merged {
        p.entry(k).or_insert(v);
    }
    let c = contact_json(primary, p, None);
    Json(c).into_response()
}

async fn merge(
    State(f): State<Arc<FakeHubSpot>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    serve(
        &f,
        &headers,
        "POST",
        "/crm/v3/objects/contacts/merge",
        || merge_now(&f, body),
    )
    .await
}

impl FakeHubSpot {
    pub async fn start(slow: Duration) -> Arc<FakeHubSpot> {
        // The API listens on an inner port behind a small TCP front, so an outage can be
        // real: connections refused at accept and open ones cut (see `set_down`).
        let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inner = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inner_addr = inner.local_addr().unwrap();
        let (down_tx, down) = tokio::sync::watch::channel(false);
        let fake = Arc::new(FakeHubSpot {
            url: format!("http://{}", front.local_addr().unwrap()),
            state: Arc::default(),
            slow,
            down: down_tx,
        });
        let app = Router::new()
            .route("/crm/v3/objects/contacts", get(list))
            .route("/crm/v3/objects/contacts/search", post(search))
            .route("/crm/v3/objects/contacts/batch/upsert", post(upsert))
            .route("/crm/v3/objects/contacts/batch/read", post(batch_read))
            .route("/crm/v3/objects/contacts/merge", post(merge))
            .route("/crm/v3/objects/contacts/{id}", patch(update))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(inner, app).await.unwrap() });
        tokio::spawn(async move {
            while let Ok((mut client, _)) = front.accept().await {
                if *down.borrow() {
                    continue; // dropped: the caller sees the connection closed
                }
                let mut down = down.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(inner_addr).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = down.wait_for(|d| *d) => {}
                    }
                });
            }
        });
        fake
    }

    /// Takes the whole service down (true) or back up (false).
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }

    /// Contacts holding `ledgerline_id` = value.
    pub fn count_with(&self, prop: &str, value: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .contacts
            .values()
            .filter(|p| p.get(prop).map(String::as_str) == Some(value))
            .count()
    }
}
