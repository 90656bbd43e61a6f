//! API keys for the product's backend (apikeys.manage).

use crate::domain::{ApiKeyView, NewApiKey};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "api_key_list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::ApikeysManage).await?;
    crate::server::services::api_keys::list(&c.state.db, &c.actor)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Creates a key; the answer holds the key itself, this once.
#[server(prefix = "/api/fn", endpoint = "api_key_create")]
pub async fn create_api_key(name: String, scope: String) -> Result<NewApiKey, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::ApikeysManage).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::services::api_keys::create(&c.state.db, &c.actor, &c.meta, &name, &[scope], now)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "api_key_revoke")]
pub async fn revoke_api_key(id: String) -> Result<ApiKeyView, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::ApikeysManage).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::services::api_keys::revoke(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(crate::api::ctx::fail)
}
