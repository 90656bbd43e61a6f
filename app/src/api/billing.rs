//! Billing actions on one customer (billing.sync), declared in the access map.

use leptos::prelude::*;

/// Re-syncs the customer from Stripe; returns the changes as "table:id" → {before, after}.
#[server(prefix = "/api/fn", endpoint = "billing_resync")]
pub async fn resync_customer(customer_id: String) -> Result<String, ServerFnError> {
    use crate::api::ctx::{internal, refuse};
    use crate::server::stripe::{api::StripeApi, resync};
    let c = crate::api::ctx::ctx().await?;
    let api = StripeApi::from_config(&c.state.config);
    match resync::customer(&c.state.db, api.as_ref(), &c.actor, &c.meta, &customer_id).await {
        Ok(changes) => Ok(changes.to_string()),
        Err(resync::ResyncError::Db(e)) => Err(internal("re-sync", e)),
        Err(e @ resync::ResyncError::NotFound) => {
            Err(refuse(http::StatusCode::NOT_FOUND, e.to_string()))
        }
        Err(e @ resync::ResyncError::Api(_)) => {
            Err(refuse(http::StatusCode::BAD_GATEWAY, e.to_string()))
        }
        Err(e) => Err(refuse(http::StatusCode::CONFLICT, e.to_string())),
    }
}
