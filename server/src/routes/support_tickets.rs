//! POST /api/v1/support/tickets — the product's backend opens a support ticket. Authenticated by
//! an API key with the tickets:write scope, rate-limited per key, idempotent by Idempotency-Key.
//! Created tickets are audited one by one. Refusals are counted per source (the address for a
//! missing or bad key, the key otherwise) and audited as one entry a minute with the count, and
//! an address that keeps sending bad keys is answered 429 before its key is even looked up.

use app::domain::Scope;
use app::server::{
    error::json_error,
    http::request_meta,
    services::{api_keys, auth::login::client_addr},
    tickets::{self, IntakeError, TicketRequest},
    AppState,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// Far above any real ticket (10,000-character message, 20 errors) and far below the global cap.
pub const MAX_TICKET_BODY: usize = 64 * 1024;

/// What refusals are counted under in the audit log.
pub const REFUSED: &str = "ticket.intake_refused";

fn refused(state: &AppState, source: &str, reason: &str, now: i64) {
    state
        .refusals
        .tally
        .note(REFUSED, source, reason, None, now);
}

fn too_many(message: &str, secs: u64) -> Response {
    let mut res = json_error(StatusCode::TOO_MANY_REQUESTS, message);
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

pub async fn create(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let meta = request_meta::from_parts(&parts);
    let now = chrono::Utc::now().timestamp_millis();
    let addr = client_addr(&meta);
    let address = app::server::services::refusals::Source::address(addr).to_string();
    if let Err(wait) = state.refusals.intake.check(addr, now) {
        refused(&state, &address, "address_rate_limited", now);
        return too_many(
            &format!(
                "Too many refused calls from this address; retry in {} s.",
                wait.secs()
            ),
            wait.secs(),
        );
    }
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let actor = match api_keys::check(&state.db, bearer, Scope::TicketsWrite, now).await {
        Ok(actor) => actor,
        Err(api_keys::CheckError::Refused(why)) => {
            let code = match why {
                api_keys::Refused::Scope(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            state.refusals.intake.strike(addr, now);
            refused(&state, &address, &format!("{why:?}"), now);
            let mut res = json_error(code, &why.to_string());
            if code == StatusCode::UNAUTHORIZED {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return res;
        }
        Err(api_keys::CheckError::Db(e)) => {
            tracing::error!(error = %e, "could not check an API key");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "try again shortly");
        }
    };
    let key_id = actor.id().unwrap_or_default().to_string();
    let key_source = format!("api_key:{key_id}");
    if let Err(wait) = state.intake_limiter.check(&key_id) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        refused(&state, &key_source, "rate_limited", now);
        return too_many(
            &format!("Too many requests with this key; retry in {secs} s."),
            secs,
        );
    }
    let bytes = match axum::body::to_bytes(body, MAX_TICKET_BODY).await {
        Ok(b) => b,
        Err(_) => {
            refused(&state, &key_source, "too_large", now);
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The body may be at most {} KiB.", MAX_TICKET_BODY / 1024),
            );
        }
    };
    let ticket = match TicketRequest::parse(&bytes) {
        Ok(t) => t,
        Err(errors) => {
            refused(&state, &key_source, "invalid", now);
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({
                    "error": "The request has invalid fields.",
                    "fields": errors.0,
                    "request_id": app::server::http::request_id::RequestId::current().map(|id| id.to_string()),
                })),
            )
                .into_response();
        }
    };
    let idem = parts
        .headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    match tickets::create(&state.db, &state.config, &actor, &meta, &ticket, idem, now).await {
        Ok(created) => {
            let r = created.receipt;
            let body = json!({
                "id": r.id,
                "number": r.number,
                "status": r.status.as_str(),
                "queue": r.queue.as_str(),
                "priority": r.priority.as_str(),
                "sla_due_at": chrono::DateTime::from_timestamp_millis(r.sla_due_ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "customer_id": r.customer_id,
            });
            let mut res = (StatusCode::CREATED, Json(body)).into_response();
            if created.replayed {
                res.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            res
        }
        Err(e @ IntakeError::BadIdempotencyKey) => {
            refused(&state, &key_source, "bad_idempotency_key", now);
            json_error(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(e @ IntakeError::KeyReused) => {
            refused(&state, &key_source, "idempotency_key_reused", now);
            json_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(IntakeError::Db(e)) => {
            tracing::error!(error = %e, "could not store a ticket");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
