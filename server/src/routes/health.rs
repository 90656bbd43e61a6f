use app::server::{services::health, AppState};
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};

/// Liveness: the process is up and serving. Touches nothing else, so a slow database never
/// makes an orchestrator kill a healthy process.
pub async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Readiness: 200 while every check is ok or only degraded (`warn`), 503 once any fails.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let report = health::readiness(&state.db, state.config.queue_lag_warn).await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}
