use crate::domain::{InstanceInfo, Readiness};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "instance_info")]
pub async fn get_instance_info() -> Result<InstanceInfo, ServerFnError> {
    use crate::server::AppState;
    let state = crate::api::server_context::<AppState>()?;
    Ok(InstanceInfo {
        env: state.config.app_env,
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: state.db.backend().as_str().to_string(),
        demo: state.config.demo_mode,
    })
}

/// The same readiness report as `GET /api/ready`, for the status panel.
#[server(prefix = "/api/fn", endpoint = "system_status")]
pub async fn get_system_status() -> Result<Readiness, ServerFnError> {
    use crate::server::{services::health, AppState};
    let state = crate::api::server_context::<AppState>()?;
    Ok(health::readiness(&state.db, state.config.queue_lag_warn).await)
}

/// The home page's KPIs, charts and attention list.
#[server(prefix = "/api/fn", endpoint = "overview")]
pub async fn get_overview() -> Result<crate::domain::OverviewData, ServerFnError> {
    let state = crate::api::server_context::<crate::server::AppState>()?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::services::overview::overview(&state.db, now)
        .await
        .map_err(|e| crate::api::ctx::internal("overview", e))
}
