//! THE list of what every route, page and server function requires. The guard looks paths up
//! here; a path missing from this list is refused (and fails the permission-matrix test).

use crate::domain::{Access, Permission};

pub const ROUTES: &[(&str, Access)] = &[
    // HTTP API
    ("/api/health", Access::Public),
    ("/api/ready", Access::Public),
    // Bearer METRICS_TOKEN, checked by the handler (scrapers have no staff session).
    ("/metrics", Access::Public),
    // Authenticated by the Stripe-Signature header, checked by the handler.
    ("/api/webhooks/stripe", Access::Public),
    // Authenticated by an API key (bearer, scope tickets:write), checked by the handler.
    ("/api/v1/support/tickets", Access::Public),
    (
        "/api/audit/export.csv",
        Access::Requires(Permission::AuditExport),
    ),
    // Server functions
    ("/api/fn/instance_info", Access::Public),
    ("/api/fn/current_user", Access::Public),
    ("/api/fn/login", Access::Public),
    ("/api/fn/logout", Access::SignedIn),
    ("/api/fn/system_status", Access::SignedIn),
    (
        "/api/fn/overview",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/audit_page",
        Access::Requires(Permission::AuditRead),
    ),
    (
        "/api/fn/staff_list",
        Access::Requires(Permission::StaffManage),
    ),
    (
        "/api/fn/staff_invite",
        Access::Requires(Permission::StaffManage),
    ),
    (
        "/api/fn/staff_role",
        Access::Requires(Permission::StaffManage),
    ),
    (
        "/api/fn/staff_active",
        Access::Requires(Permission::StaffManage),
    ),
    (
        "/api/fn/staff_reset",
        Access::Requires(Permission::StaffManage),
    ),
    ("/api/fn/welcome", Access::Public),
    (
        "/api/fn/job_counts",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/job_list",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/job_detail",
        Access::Requires(Permission::CustomerRead),
    ),
    ("/api/fn/job_retry", Access::Requires(Permission::JobsRetry)),
    (
        "/api/fn/job_cancel",
        Access::Requires(Permission::JobsRetry),
    ),
    (
        "/api/fn/customer_list",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/customer_view",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/customer_timeline",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/customer_compare",
        Access::Requires(Permission::CustomerRead),
    ),
    ("/api/fn/crm_push", Access::Requires(Permission::CrmSync)),
    (
        "/api/fn/api_key_list",
        Access::Requires(Permission::ApikeysManage),
    ),
    (
        "/api/fn/api_key_create",
        Access::Requires(Permission::ApikeysManage),
    ),
    (
        "/api/fn/api_key_revoke",
        Access::Requires(Permission::ApikeysManage),
    ),
    (
        "/api/fn/crm_status",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/crm_import_start",
        Access::Requires(Permission::SettingsManage),
    ),
    (
        "/api/fn/crm_duplicates",
        Access::Requires(Permission::CustomerRead),
    ),
    ("/api/fn/crm_merge", Access::Requires(Permission::CrmMerge)),
    (
        "/api/fn/crm_drift",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/crm_conflicts",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/crm_conflict_resolve",
        Access::Requires(Permission::CrmMerge),
    ),
    (
        "/api/fn/billing_resync",
        Access::Requires(Permission::BillingSync),
    ),
    (
        "/api/fn/refund_request",
        Access::Requires(Permission::BillingRefund),
    ),
    (
        "/api/fn/refund_decide",
        Access::Requires(Permission::BillingRefundApprove),
    ),
    (
        "/api/fn/refund_list",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/billing_backfill_start",
        Access::Requires(Permission::SettingsManage),
    ),
    (
        "/api/fn/billing_backfill_status",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/webhook_stats",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/webhook_list",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/webhook_detail",
        Access::Requires(Permission::CustomerRead),
    ),
    (
        "/api/fn/webhook_replay",
        Access::Requires(Permission::WebhooksReplay),
    ),
    (
        "/api/fn/ticket_list",
        Access::Requires(Permission::TicketRead),
    ),
    (
        "/api/fn/ticket_detail",
        Access::Requires(Permission::TicketRead),
    ),
    (
        "/api/fn/ticket_message",
        Access::Requires(Permission::TicketWrite),
    ),
    (
        "/api/fn/ticket_status",
        Access::Requires(Permission::TicketWrite),
    ),
    (
        "/api/fn/ticket_assign",
        Access::Requires(Permission::TicketWrite),
    ),
    ("/api/fn/change_password", Access::SignedIn),
    // Pages
    ("/", Access::SignedIn),
    ("/login", Access::Public),
    ("/audit", Access::Requires(Permission::AuditRead)),
    ("/staff", Access::Requires(Permission::StaffManage)),
    ("/account", Access::SignedIn),
    ("/welcome", Access::Public),
    ("/jobs", Access::Requires(Permission::CustomerRead)),
    ("/jobs/{id}", Access::Requires(Permission::CustomerRead)),
    ("/webhooks", Access::Requires(Permission::CustomerRead)),
    ("/webhooks/{id}", Access::Requires(Permission::CustomerRead)),
    ("/customers", Access::Requires(Permission::CustomerRead)),
    (
        "/customers/{id}",
        Access::Requires(Permission::CustomerRead),
    ),
    ("/refunds", Access::Requires(Permission::CustomerRead)),
    ("/crm", Access::Requires(Permission::CustomerRead)),
    ("/api-keys", Access::Requires(Permission::ApikeysManage)),
    ("/tickets", Access::Requires(Permission::TicketRead)),
    ("/tickets/{id}", Access::Requires(Permission::TicketRead)),
];

pub fn access_for(path: &str) -> Option<Access> {
    ROUTES.iter().find(|(p, _)| *p == path).map(|(_, a)| *a)
}

/// The pages among the routes: what a browser may open, in axum's `{id}` spelling.
pub fn pages() -> impl Iterator<Item = &'static str> {
    ROUTES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !p.starts_with("/api/") && *p != "/metrics")
}
