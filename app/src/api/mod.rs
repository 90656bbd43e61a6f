//! Server functions, grouped by area. Each one is a thin door into the service layer: check the
//! caller's permission (`ctx::require`, first, even when called in-process while a page
//! renders) → call a service (which checks again) → return a DTO.

/// Where server functions are served; REST routes live elsewhere under /api/.
pub const SERVER_FN_PREFIX: &str = "/api/fn/";

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod crm;
#[cfg(feature = "ssr")]
pub(crate) mod ctx;
pub mod customers;
pub mod jobs;
pub mod staff;
pub mod system;
pub mod tickets;
pub mod webhooks;

pub use api_keys::{
    create_api_key, list_api_keys, revoke_api_key, CreateApiKey, ListApiKeys, RevokeApiKey,
};
pub use audit::{get_audit_page, GetAuditPage};
pub use auth::{get_current_user, login, logout, safe_next, GetCurrentUser, Login, Logout};
pub use billing::{
    decide_refund, get_backfill_status, list_refunds, request_refund, resync_customer,
    start_backfill, DecideRefund, GetBackfillStatus, ListRefunds, RequestRefund, ResyncCustomer,
    StartBackfill,
};
pub use crm::{
    get_conflicts, get_crm_status, get_drift, get_duplicates, merge_duplicates, push_to_crm,
    resolve_conflict, start_crm_import, GetConflicts, GetCrmStatus, GetDrift, GetDuplicates,
    MergeDuplicates, PushToCrm, ResolveConflict, StartCrmImport,
};
pub use customers::{
    get_customer_compare, get_customer_list, get_customer_timeline, get_customer_view,
    GetCustomerCompare, GetCustomerList, GetCustomerTimeline, GetCustomerView,
};
pub use jobs::{
    cancel_job, get_job_counts, get_job_detail, get_job_list, retry_job, CancelJob, GetJobCounts,
    GetJobDetail, GetJobList, RetryJob,
};
pub use staff::{
    change_password, change_staff_role, force_staff_reset, invite_staff, list_staff, redeem_link,
    set_staff_active, ChangePassword, ChangeStaffRole, ForceStaffReset, InviteStaff, RedeemLink,
    SetStaffActive,
};
pub use system::{get_instance_info, get_overview, get_system_status};
pub use tickets::{
    add_ticket_message, assign_ticket, get_ticket_detail, get_ticket_list, set_ticket_status,
    AddTicketMessage, AssignTicket, GetTicketDetail, GetTicketList, SetTicketStatus,
};
pub use webhooks::{
    get_webhook_detail, get_webhook_list, get_webhook_stats, replay_webhook, GetWebhookDetail,
    GetWebhookList, GetWebhookStats, ReplayWebhook,
};

/// A server function's error as the user should read it, without Leptos' prefix.
pub fn error_text(e: &leptos::prelude::ServerFnError) -> String {
    e.to_string()
        .trim_start_matches("error running server function: ")
        .to_string()
}

/// Server-side context for server functions. A missing context (a render that outlived its
/// request) becomes an error instead of a panic.
#[cfg(feature = "ssr")]
pub(crate) fn server_context<T: Clone + Send + Sync + 'static>(
) -> Result<T, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<T>()
        .ok_or_else(|| leptos::prelude::ServerFnError::new("request context unavailable"))
}
