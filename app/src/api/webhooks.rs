//! The Webhooks page: customer.read to look, webhooks.replay to replay (declared in the access map).

use crate::domain::{WebhookDetail, WebhookPage, WebhookStats};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn webhook_error(e: crate::server::stripe::webhooks::WebhookAdminError) -> ServerFnError {
    use crate::api::ctx::{internal, refuse};
    use crate::server::stripe::webhooks::WebhookAdminError;
    match e {
        WebhookAdminError::NotFound => refuse(http::StatusCode::NOT_FOUND, e.to_string()),
        WebhookAdminError::WrongState(m) => refuse(http::StatusCode::CONFLICT, m),
        WebhookAdminError::Db(e) => internal("webhook operation", e),
    }
}

#[server(prefix = "/api/fn", endpoint = "webhook_stats")]
pub async fn get_webhook_stats() -> Result<WebhookStats, ServerFnError> {
    let c = crate::api::ctx::ctx().await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::stripe::webhooks::stats(&c.state.db, now)
        .await
        .map_err(|e| crate::api::ctx::internal("webhook stats", e))
}

#[server(prefix = "/api/fn", endpoint = "webhook_list")]
pub async fn get_webhook_list(
    status: Option<String>,
    event_type: Option<String>,
    customer: Option<String>,
    before: Option<String>,
) -> Result<WebhookPage, ServerFnError> {
    use crate::domain::{EventStatus, WebhookFilter};
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
    let c = crate::api::ctx::ctx().await?;
    crate::server::stripe::webhooks::list(&c.state.db, &filter, before.as_deref(), 50)
        .await
        .map_err(|e| crate::api::ctx::internal("webhook list", e))
}

#[server(prefix = "/api/fn", endpoint = "webhook_detail")]
pub async fn get_webhook_detail(id: String) -> Result<WebhookDetail, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::ctx().await?;
    let can_replay = c
        .actor
        .role()
        .is_some_and(|r| r.can(Permission::WebhooksReplay));
    crate::server::stripe::webhooks::detail(&c.state.db, &id, can_replay)
        .await
        .map_err(webhook_error)
}

#[server(prefix = "/api/fn", endpoint = "webhook_replay")]
pub async fn replay_webhook(id: String) -> Result<String, ServerFnError> {
    let c = crate::api::ctx::ctx().await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::stripe::webhooks::replay(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(webhook_error)
}
