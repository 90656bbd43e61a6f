use crate::domain::{InstanceInfo, Readiness};
use leptos::prelude::*;

/// The environment badge and the demo banner, for every page. Which version and database
/// this is helps staff report a problem, and an outsider aim an attack: signed in only.
#[server(prefix = "/api/fn", endpoint = "instance_info")]
pub async fn get_instance_info() -> Result<InstanceInfo, ServerFnError> {
    let c = crate::api::ctx::public().await?;
    let staff = c.actor.require_staff().is_ok();
    let state = &c.state;
    Ok(InstanceInfo {
        env: state.config.app_env,
        version: staff.then(|| env!("CARGO_PKG_VERSION").to_string()),
        database: staff.then(|| state.db.backend().as_str().to_string()),
        demo: state.config.demo_mode,
    })
}

/// The same readiness report as `GET /api/ready`, for the status panel.
#[server(prefix = "/api/fn", endpoint = "system_status")]
pub async fn get_system_status() -> Result<Readiness, ServerFnError> {
    use crate::server::views::health;
    let c = crate::api::ctx::signed_in().await?;
    Ok(health::readiness(&c.state.db, c.state.config.jobs.queue_lag_warn).await)
}

/// The home page's KPIs, charts and attention list.
#[server(prefix = "/api/fn", endpoint = "overview")]
pub async fn get_overview() -> Result<crate::domain::OverviewData, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::views::overview::overview(&c.state.db, &c.actor, now)
        .await
        .map_err(crate::api::ctx::fail)
}
