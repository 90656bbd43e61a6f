use app::server::{error::json_error, metrics, stripe, AppState};
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

/// POST /api/webhooks/stripe. Verify the signature over the raw bytes, then parse, store and
/// enqueue in one transaction, then 200. Refusals say only "invalid signature" or "invalid
/// payload"; the precise reason goes to the log (with the request id) and to metrics.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let config = &state.config;
    if config.stripe.webhook_secrets.is_empty() {
        tracing::error!("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set");
        metrics::webhook_refused("not_configured");
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks are not configured",
        );
    }
    let header = headers
        .get("stripe-signature")
        .map(|v| v.to_str().unwrap_or(""));
    let now = chrono::Utc::now();
    if let Err(e) = stripe::verify(
        header,
        &body,
        &config.stripe.webhook_secrets,
        config.stripe.webhook_tolerance.as_secs() as i64,
        now.timestamp(),
    ) {
        tracing::warn!(reason = e.code(), "stripe webhook refused");
        metrics::webhook_refused(e.code());
        return json_error(StatusCode::BAD_REQUEST, "invalid signature");
    }
    let (event, raw) = match (
        stripe::EventEnvelope::parse(&body),
        std::str::from_utf8(&body),
    ) {
        (Ok(event), Ok(raw)) => (event, raw),
        (Err(e), _) => {
            tracing::warn!(reason = "invalid_payload", detail = %e, "stripe webhook refused");
            metrics::webhook_refused("invalid_payload");
            return json_error(StatusCode::BAD_REQUEST, "invalid payload");
        }
        (_, Err(_)) => {
            tracing::warn!(
                reason = "invalid_payload",
                "stripe webhook body is not UTF-8"
            );
            metrics::webhook_refused("invalid_payload");
            return json_error(StatusCode::BAD_REQUEST, "invalid payload");
        }
    };
    let incoming = stripe::Incoming {
        event,
        raw: raw.to_string(),
        key_mode: config.stripe.api_key.as_ref().map(|k| k.mode()),
        now_ms: now.timestamp_millis(),
    };
    let event_id = incoming.event.id.clone();
    let livemode = incoming.event.livemode;
    match state.ingest.submit(incoming).await {
        Ok(outcome) => {
            metrics::webhook_received(outcome.as_str());
            if outcome == stripe::Received::ModeMismatch {
                tracing::error!(
                    event = event_id.as_str(),
                    livemode,
                    "stripe event from the other mode than the API key; stored as rejected"
                );
            }
            (
                StatusCode::OK,
                Json(serde_json::json!({ "received": true, "outcome": outcome.as_str() })),
            )
                .into_response()
        }
        // A 5xx makes Stripe deliver again later; nothing was stored. The committer logged why.
        Err(stripe::IngestError::Store) => {
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
        Err(e) => {
            tracing::warn!(event = event_id.as_str(), reason = %e, "stripe webhook deferred");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "busy, deliver again later")
        }
    }
}
