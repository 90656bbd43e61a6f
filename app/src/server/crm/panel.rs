//! The CRM panel of the customer page: the contact, sync health and history, drift.

use crate::domain::{CrmPanel, CrmSyncView};
use crate::server::db::Db;
use crate::server::Config;

/// HubSpot's contact record page (object type 0-1 is contacts).
pub fn contact_url(config: &Config, contact_id: &str) -> Option<String> {
    config
        .crm
        .hubspot_portal_id
        .as_ref()
        .map(|portal| format!("https://app.hubspot.com/contacts/{portal}/record/0-1/{contact_id}"))
}

pub async fn panel(db: &Db, config: &Config, customer_id: &str) -> Result<CrmPanel, sqlx::Error> {
    let (contact_id, pushed, synced_at): (Option<String>, Option<String>, Option<i64>) =
        sqlx::query_as(
            "SELECT crm_contact_id, crm_pushed, crm_synced_at FROM customers WHERE id = $1",
        )
        .bind(customer_id)
        .fetch_optional(db.pool())
        .await?
        .unwrap_or_default();
    let rows: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT at, cause, result, changed, error FROM crm_syncs WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT 10",
    )
    .bind(customer_id)
    .fetch_all(db.pool())
    .await?;
    let history = rows
        .into_iter()
        .map(|(at_ms, cause, result, changed, error)| CrmSyncView {
            at_ms,
            cause,
            result,
            fields: serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&changed)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            error,
        })
        .collect();
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_conflicts WHERE customer_id = $1 AND status = 'open'",
    )
    .bind(customer_id)
    .fetch_one(db.pool())
    .await?;
    let drifted_fields: Vec<String> =
        sqlx::query_scalar("SELECT field FROM crm_drift WHERE customer_id = $1 ORDER BY field")
            .bind(customer_id)
            .fetch_all(db.pool())
            .await?;
    let lifecycle_stage = pushed
        .and_then(|p| serde_json::from_str::<super::Properties>(&p).ok())
        .and_then(|p| p.get("lifecyclestage").cloned());
    Ok(CrmPanel {
        enabled: config.crm.enabled(),
        contact_url: contact_id.as_deref().and_then(|id| contact_url(config, id)),
        contact_id,
        synced_at_ms: synced_at,
        lifecycle_stage,
        history,
        open_conflict: open > 0,
        drifted_fields,
        can_push: false,
    })
}
