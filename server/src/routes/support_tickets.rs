//! POST /api/v1/support/tickets — the product's backend opens a support ticket. Authenticated by
//! an API key with the tickets:write scope, rate-limited per key, idempotent by Idempotency-Key.
//! Every call is audited: created, replayed, or refused with the reason.

use app::domain::{Outcome, Scope};
use app::server::{
    actor::{Actor, RequestMeta},
    error::json_error,
    http::request_meta,
    services::{api_keys, audit},
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

async fn refused(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    reason: &str,
    extra: serde_json::Value,
) {
    let entry = audit::NewEntry::new(actor, meta, "ticket.intake_refused", Outcome::Denied)
        .target("route", "/api/v1/support/tickets")
        .details(json!({ "reason": reason, "detail": extra }));
    if let Err(e) = audit::append_now(&state.db, entry).await {
        tracing::error!(error = %e, "could not audit a refused intake call");
    }
}

pub async fn create(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let meta = request_meta::from_parts(&parts);
    let now = chrono::Utc::now().timestamp_millis();
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
            refused(
                &state,
                &Actor::Anonymous,
                &meta,
                &format!("{why:?}"),
                json!(null),
            )
            .await;
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
    if let Err(wait) = state.intake_limiter.check(&key_id) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        refused(
            &state,
            &actor,
            &meta,
            "rate_limited",
            json!({ "retry_after": secs }),
        )
        .await;
        let mut res = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many requests with this key; retry in {secs} s."),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return res;
    }
    let bytes = match axum::body::to_bytes(body, MAX_TICKET_BODY).await {
        Ok(b) => b,
        Err(_) => {
            refused(&state, &actor, &meta, "too_large", json!(null)).await;
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The body may be at most {} KiB.", MAX_TICKET_BODY / 1024),
            );
        }
    };
    let ticket = match TicketRequest::parse(&bytes) {
        Ok(t) => t,
        Err(errors) => {
            let fields: Vec<&String> = errors.0.keys().collect();
            refused(
                &state,
                &actor,
                &meta,
                "invalid",
                json!({ "fields": fields }),
            )
            .await;
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
            refused(&state, &actor, &meta, "bad_idempotency_key", json!(null)).await;
            json_error(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(e @ IntakeError::KeyReused) => {
            refused(&state, &actor, &meta, "idempotency_key_reused", json!(null)).await;
            json_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(IntakeError::Db(e)) => {
            tracing::error!(error = %e, "could not store a ticket");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
