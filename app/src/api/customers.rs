//! Customers: the searchable list and one customer's page (customer.read).

use crate::domain::{CustomerPage, CustomerView, SystemsComparison, TimelinePage};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "customer_list")]
pub async fn get_customer_list(
    q: Option<String>,
    state: Option<String>,
    cursor: Option<String>,
) -> Result<CustomerPage, ServerFnError> {
    use crate::domain::{AccountState, CustomerFilter, Permission};
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let state = match state.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            AccountState::parse(&s)
                .ok_or_else(|| crate::api::ctx::bad_input("Unknown account state.".into()))?,
        ),
    };
    let q = q.filter(|q| !q.trim().is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(crate::api::ctx::bad_input(
            "Search for at most 200 characters.".into(),
        ));
    }
    let filter = CustomerFilter {
        q,
        state,
        cursor: cursor.filter(|c| !c.is_empty()),
    };
    crate::server::views::customers::list(&c.state.db, &c.actor, &filter)
        .await
        .map_err(crate::api::ctx::fail)
}

/// The customer page's data, with what the viewer may do on it.
/// `source` filters the timeline (billing, crm, ticket, staff, job; empty for all).
#[server(prefix = "/api/fn", endpoint = "customer_view")]
pub async fn get_customer_view(
    id: String,
    source: Option<String>,
) -> Result<CustomerView, ServerFnError> {
    use crate::domain::{CustomerActions, Permission};
    use crate::server::services::timeline;
    use crate::server::views::customers;
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let source = timeline::parse_source(source.as_deref())
        .map_err(|e| crate::api::ctx::bad_input(e.to_string()))?;
    let now = chrono::Utc::now().timestamp_millis();
    let Some(mut view) = customers::view(&c.state.db, &c.actor, &c.state.config, &id, source, now)
        .await
        .map_err(crate::api::ctx::fail)?
    else {
        return Err(crate::api::ctx::refuse(
            http::StatusCode::NOT_FOUND,
            "No customer with that id.",
        ));
    };
    let role = c.actor.role();
    let can = |p: Permission| c.can(p);
    let config = &c.state.config;
    view.actions = CustomerActions {
        can_resync: can(Permission::BillingSync),
        can_refund: can(Permission::BillingRefund),
        can_approve: can(Permission::BillingRefundApprove),
        refund_limit: crate::server::stripe::refunds::limit_for(role, config.refunds.limit_billing),
        stripe_configured: config.stripe.available(),
        can_retry_jobs: can(Permission::JobsRetry),
    };
    view.crm.can_push = view.crm.enabled && can(Permission::CrmSync);
    Ok(view)
}

/// The next page of a customer's timeline ("load more"), after `cursor`.
#[server(prefix = "/api/fn", endpoint = "customer_timeline")]
pub async fn get_customer_timeline(
    id: String,
    source: Option<String>,
    cursor: Option<String>,
) -> Result<TimelinePage, ServerFnError> {
    use crate::server::services::timeline;
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    let source = timeline::parse_source(source.as_deref())
        .map_err(|e| crate::api::ctx::bad_input(e.to_string()))?;
    let now = chrono::Utc::now().timestamp_millis();
    timeline::page(
        &c.state.db,
        &c.actor,
        &id,
        source,
        cursor.as_deref().filter(|c| !c.is_empty()),
        timeline::PAGE_SIZE,
        now,
    )
    .await
    .map_err(crate::api::ctx::fail)
}

/// The drift panel: each field as the mirror, Stripe (read now) and the CRM have it.
#[server(prefix = "/api/fn", endpoint = "customer_compare")]
pub async fn get_customer_compare(id: String) -> Result<SystemsComparison, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let config = &c.state.config;
    let mut view = crate::server::views::compare::compare(
        &c.state.db,
        &c.actor,
        config,
        c.state.connectors.stripe.as_ref(),
        c.state.connectors.crm.as_ref(),
        &id,
        now,
    )
    .await
    .map_err(crate::api::ctx::fail)?
    .ok_or_else(|| {
        crate::api::ctx::refuse(http::StatusCode::NOT_FOUND, "No customer with that id.")
    })?;
    let can = |p: Permission| c.can(p);
    view.can_resync = can(Permission::BillingSync) && config.stripe.available();
    view.can_push = can(Permission::CrmSync) && c.state.connectors.crm.is_some();
    Ok(view)
}
