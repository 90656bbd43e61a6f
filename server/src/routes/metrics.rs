use app::server::{error::json_error, views::metrics, AppState};
use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

/// Whether the request carries METRICS_TOKEN as its bearer token (compared in constant time).
pub fn holds_metrics_token(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.config.server.metrics_token else {
        return false;
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes()))
}

/// Prometheus text for scrapers holding METRICS_TOKEN. Without a configured token the
/// endpoint does not exist (404), so an unprotected metrics page can never be left open.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.config.server.metrics_token.is_none() {
        return json_error(StatusCode::NOT_FOUND, "not found");
    }
    if !holds_metrics_token(&state, &headers) {
        let mut res = json_error(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        return res;
    }
    let now = chrono::Utc::now().timestamp_millis();
    match metrics::render(&state.db, now).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics scrape failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable")
        }
    }
}
