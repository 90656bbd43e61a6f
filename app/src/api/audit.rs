use crate::domain::AuditPage;
use leptos::prelude::*;

/// One page of the audit log, newest first (audit.read).
/// Flat arguments (not a struct) so the form encoding stays plain `key=value`.
#[server(prefix = "/api/fn", endpoint = "audit_page")]
pub async fn get_audit_page(
    actor: Option<String>,
    action: Option<String>,
    customer_id: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
) -> Result<AuditPage, ServerFnError> {
    use crate::domain::{AuditFilter, Outcome, Permission};
    use crate::server::services::audit;
    let c = crate::api::ctx::require(Permission::AuditRead).await?;
    let filter = AuditFilter {
        actor,
        action,
        customer_id,
        outcome: outcome.as_deref().and_then(Outcome::parse),
        // Dates are whole UTC days; `to` includes its day.
        from_ms: from
            .as_deref()
            .and_then(crate::domain::time_fmt::parse_day_ms),
        to_ms: to
            .as_deref()
            .and_then(crate::domain::time_fmt::parse_day_ms)
            .map(|d| d + 86_400_000),
    };
    audit::list(&c.state.db, &c.actor, &filter, before, 50)
        .await
        .map_err(crate::api::ctx::fail)
}
