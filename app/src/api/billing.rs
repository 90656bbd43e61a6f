//! Billing: re-sync (billing.sync), backfill (settings.manage), refunds (billing.refund, and
//! billing.refund.approve to decide).

use leptos::prelude::*;

/// Re-syncs the customer from Stripe; returns the changes as "table:id" → {before, after}.
#[server(prefix = "/api/fn", endpoint = "billing_resync")]
pub async fn resync_customer(customer_id: String) -> Result<String, ServerFnError> {
    use crate::api::ctx::{internal, refuse};
    use crate::server::stripe::{api::StripeApi, resync};
    let c = crate::api::ctx::require(crate::domain::Permission::BillingSync).await?;
    let api = StripeApi::from_config(&c.state.config, &c.state.db);
    let options = crate::server::stripe::mirror::Options::from_config(&c.state.config);
    let (db, actor, meta) = (&c.state.db, &c.actor, &c.meta);
    match resync::customer(db, api.as_ref(), &options, actor, meta, &customer_id).await {
        Ok(changes) => Ok(changes.to_string()),
        Err(resync::ResyncError::Db(e)) => Err(internal("re-sync", e)),
        Err(resync::ResyncError::Denied(d)) => Err(crate::api::ctx::refused(d)),
        Err(e @ resync::ResyncError::NotFound) => {
            Err(refuse(http::StatusCode::NOT_FOUND, e.to_string()))
        }
        Err(e @ resync::ResyncError::Api(_)) => {
            Err(refuse(http::StatusCode::BAD_GATEWAY, e.to_string()))
        }
        Err(e) => Err(refuse(http::StatusCode::CONFLICT, e.to_string())),
    }
}

/// Queues a full Stripe backfill (admin: settings.manage). Returns the job id.
#[server(prefix = "/api/fn", endpoint = "billing_backfill_start")]
pub async fn start_backfill() -> Result<String, ServerFnError> {
    use crate::api::ctx::{internal, refuse};
    use crate::server::stripe::backfill::{self, StartError};
    let c = crate::api::ctx::require(crate::domain::Permission::SettingsManage).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let configured = c.state.config.stripe.available();
    match backfill::start(&c.state.db, configured, &c.actor, &c.meta, now).await {
        Ok(job) => Ok(job),
        Err(StartError::Db(e)) => Err(internal("backfill start", e)),
        Err(StartError::Denied(d)) => Err(crate::api::ctx::refused(d)),
        Err(e) => Err(refuse(http::StatusCode::CONFLICT, e.to_string())),
    }
}

/// Where the backfill stands, per resource, and whether the viewer may start one.
#[server(prefix = "/api/fn", endpoint = "billing_backfill_status")]
pub async fn get_backfill_status() -> Result<crate::domain::BackfillView, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let err = |e| crate::api::ctx::read_failed("backfill status", e);
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

#[cfg(feature = "ssr")]
fn refund_error(e: crate::server::stripe::refunds::RefundError) -> ServerFnError {
    use crate::api::ctx::{internal, refuse};
    use crate::server::stripe::refunds::RefundError;
    use http::StatusCode;
    match e {
        RefundError::Db(e) => internal("refund", e),
        RefundError::Denied(d) => crate::api::ctx::refused(d),
        RefundError::Invalid(m) => refuse(StatusCode::UNPROCESSABLE_ENTITY, m),
        e @ (RefundError::NoSuchCharge | RefundError::NotFound) => {
            refuse(StatusCode::NOT_FOUND, e.to_string())
        }
        e @ RefundError::OwnRequest => refuse(StatusCode::FORBIDDEN, e.to_string()),
        e => refuse(StatusCode::CONFLICT, e.to_string()),
    }
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
    .map_err(refund_error)
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
        .map_err(refund_error)
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
    .map_err(|e| crate::api::ctx::read_failed("refund list", e))
}
