use app::server::{
    auth::{request_actor, AuthSession},
    views::health,
    AppState,
};
use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

/// Liveness: the process is up and serving. Touches nothing else, so a slow database never
/// makes an orchestrator kill a healthy process. Says nothing about the build: a version
/// tells an outsider which advisories apply.
pub async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: 200 while every check is ok or only degraded (`warn`), 503 once any fails.
/// Anyone (a load balancer) learns the overall status; the checks themselves (queue depth,
/// event volume, workers, an audit-chain break) only a signed-in staff member or a holder of
/// METRICS_TOKEN.
pub async fn ready(State(state): State<AppState>, req: Request) -> Response {
    let report = health::readiness(&state.db, state.config.jobs.queue_lag_warn).await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let staff = match req.extensions().get::<AuthSession>().cloned() {
        Some(mut auth) => request_actor(&mut auth, state.config.sessions.absolute_timeout)
            .await
            .require_staff()
            .is_ok(),
        None => false,
    };
    if staff || super::metrics::holds_metrics_token(&state, req.headers()) {
        (status, Json(report)).into_response()
    } else {
        (
            status,
            Json(serde_json::json!({ "status": report.status, "checked_at": report.checked_at })),
        )
            .into_response()
    }
}
