//! POST /api/v1/support/tickets — the product's backend opens a support ticket. The caller is an
//! API key with the tickets:write scope (`ApiKey<TicketsWrite>`: address budget, key, scope and
//! per-key rate limit, refusals counted); the ticket is idempotent by Idempotency-Key, and each
//! created one is audited.

use crate::extract::{ApiKey, TicketsWrite};
use app::server::http::request_id::RequestId;
use app::server::tickets::{self, Created, TicketRequest};
use app::server::{AppError, AppState};
use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// Far above any real ticket (10,000-character message, 20 errors) and far below the global cap.
pub const MAX_TICKET_BODY: usize = 64 * 1024;

pub async fn create(
    State(state): State<AppState>,
    caller: ApiKey<TicketsWrite>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match caller.body(body, MAX_TICKET_BODY).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused,
    };
    let ticket = match TicketRequest::parse(&bytes) {
        Ok(t) => t,
        Err(errors) => {
            caller.refused("invalid");
            let body = json!({
                "error": "The request has invalid fields.",
                "fields": errors.0,
                "request_id": RequestId::current().map(|id| id.to_string()),
            });
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
        }
    };
    let idem = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let (actor, meta, now) = (&caller.actor, &caller.meta, caller.now_ms);
    match tickets::create(&state.db, &state.config, actor, meta, &ticket, idem, now).await {
        Ok(created) => receipt(created),
        Err(e) => {
            if let Some(reason) = e.refusal() {
                caller.refused(reason);
            }
            AppError::from(e).into_response()
        }
    }
}

fn receipt(created: Created) -> Response {
    let r = created.receipt;
    let sla_due_at = chrono::DateTime::from_timestamp_millis(r.sla_due_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let body = json!({
        "id": r.id,
        "number": r.number,
        "status": r.status.as_str(),
        "queue": r.queue.as_str(),
        "priority": r.priority.as_str(),
        "sla_due_at": sla_due_at,
        "customer_id": r.customer_id,
    });
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if created.replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}
