//! Billing: re-sync (billing.sync), backfill (settings.manage), refunds (billing.refund, and
//! billing.refund.approve to decide).

use leptos::prelude::*;

/// Re-syncs the customer from Stripe; returns the changes as "table:id" → {before, after}.
#[server(prefix = "/api/fn", endpoint = "billing_resync")]
pub async fn resync_customer(customer_id: String) -> Result<String, ServerFnError> {
    use crate::server::stripe::resync;
    let c = crate::api::ctx::require(crate::domain::Permission::BillingSync).await?;
    let api = c.state.connectors.stripe.as_ref();
    let options = crate::server::stripe::mirror::Options::from_config(&c.state.config);
    let (db, actor, meta) = (&c.state.db, &c.actor, &c.meta);
    resync::customer(db, api, &options, actor, meta, &customer_id)
        .await
        .map(|changes| changes.to_string())
        .map_err(crate::api::ctx::fail)
}

/// Queues a full Stripe backfill (admin: settings.manage). Returns the job id.
#[server(prefix = "/api/fn", endpoint = "billing_backfill_start")]
pub async fn start_backfill() -> Result<String, ServerFnError> {
    use crate::server::stripe::backfill;
    let c = crate::api::ctx::require(crate::domain::Permission::SettingsManage).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let configured = c.state.config.stripe.available();
    backfill::start(&c.state.db, configured, &c.actor, &c.meta, now)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Where the backfill stands, per resource, and whether the viewer may start one.
#[server(prefix = "/api/fn", endpoint = "billing_backfill_status")]
pub async fn get_backfill_status() -> Result<crate::domain::BackfillView, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let err = crate::api::ctx::fail;
    let progress = crate::server::stripe::backfill::status(&c.state.db, &c.actor)
        .await
        .map_err(err)?;
    let running = crate::server::stripe::backfill::running(&c.state.db, &c.actor)
        .await
        .map_err(err)?;
    let can_start = c.state.config.stripe.available() && c.can(Permission::SettingsManage);
    Ok(crate::domain::BackfillView {
        progress,
        running,
        can_start,
    })
}

/// Asks for a refund (billing.refund). `amount` is as typed, in major units of the charge's
/// currency ("12.50"); the server converts it with that currency's decimals.
#[server(prefix = "/api/fn", endpoint = "refund_request")]
pub async fn request_refund(
    charge_id: String,
    amount: String,
    reason: String,
    note: String,
    #[server(default)] request_key: Option<String>,
) -> Result<crate::domain::RefundRequestView, ServerFnError> {
    use crate::server::stripe::refunds;
    let c = crate::api::ctx::require(crate::domain::Permission::BillingRefund).await?;
    let now = chrono::Utc::now().timestamp_millis();
    refunds::request(
        &c.state.db,
        c.state.config.stripe.available(),
        c.state.config.refunds.limit_billing,
        &c.actor,
        &c.meta,
        refunds::NewRefund {
            charge_id: &charge_id,
            amount: &amount,
            reason: &reason,
            note: &note,
            request_key: request_key.as_deref().filter(|k| !k.is_empty()),
        },
        now,
    )
    .await
    .map_err(crate::api::ctx::fail)
}

/// Approves or rejects a refund waiting for a second person (billing.refund.approve).
#[server(prefix = "/api/fn", endpoint = "refund_decide")]
pub async fn decide_refund(
    id: String,
    approve: bool,
) -> Result<crate::domain::RefundRequestView, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::BillingRefundApprove).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::stripe::refunds::decide(&c.state.db, &c.actor, &c.meta, &id, approve, now)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Refund requests, newest first; `status=pending_approval` is the approvals queue.
#[server(prefix = "/api/fn", endpoint = "refund_list")]
pub async fn list_refunds(
    status: Option<String>,
    customer_id: Option<String>,
) -> Result<Vec<crate::domain::RefundRequestView>, ServerFnError> {
    use crate::domain::{Permission, RefundStatus};
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let status = match status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            RefundStatus::parse(&s)
                .ok_or_else(|| crate::api::ctx::bad_input("Unknown refund status.".into()))?,
        ),
    };
    crate::server::stripe::refunds::list(
        &c.state.db,
        &c.actor,
        status,
        customer_id.as_deref().filter(|s| !s.is_empty()),
    )
    .await
    .map_err(crate::api::ctx::fail)
}
