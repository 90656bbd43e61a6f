//! The Webhooks page: customer.read to look, webhooks.replay to replay.

use crate::domain::{WebhookDetail, WebhookPage, WebhookStats};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "webhook_stats")]
pub async fn get_webhook_stats() -> Result<WebhookStats, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::stripe::webhooks::stats(&c.state.db, &c.actor, now)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "webhook_list")]
pub async fn get_webhook_list(
    status: Option<String>,
    event_type: Option<String>,
    customer: Option<String>,
    before: Option<String>,
) -> Result<WebhookPage, ServerFnError> {
    use crate::domain::{EventStatus, Permission, WebhookFilter};
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let status = match status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            EventStatus::parse(&s)
                .ok_or_else(|| crate::api::ctx::bad_input("Pick a status from the list.".into()))?,
        ),
    };
    let filter = WebhookFilter {
        status,
        event_type: event_type.filter(|s| !s.is_empty()),
        stripe_customer: customer.filter(|s| !s.is_empty()),
    };
    crate::server::stripe::webhooks::list(&c.state.db, &c.actor, &filter, before.as_deref(), 50)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "webhook_detail")]
pub async fn get_webhook_detail(id: String) -> Result<WebhookDetail, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::stripe::webhooks::detail(&c.state.db, &c.actor, &id)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "webhook_replay")]
pub async fn replay_webhook(id: String) -> Result<String, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::WebhooksReplay).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::stripe::webhooks::replay(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(crate::api::ctx::fail)
}
