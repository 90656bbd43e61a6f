//! The CRM side: push (crm.sync), the import, duplicates and merges (crm.merge), drift and its
//! fix, identity conflicts. Each checks its own permission first.

use crate::domain::{ConflictView, CrmImportView, DriftRow, DuplicateGroup};
use leptos::prelude::*;

/// Pushes one customer to the CRM now (crm.sync); `cause` is "manual" or "drift" (the drift
/// report's fix). Returns what happened, in words.
#[server(prefix = "/api/fn", endpoint = "crm_push")]
pub async fn push_to_crm(customer_id: String, cause: String) -> Result<String, ServerFnError> {
    use crate::server::crm::actions;
    let c = crate::api::ctx::require(crate::domain::Permission::CrmSync).await?;
    let cause = match cause.as_str() {
        "drift" => "drift",
        _ => "manual",
    };
    let s = &c.state;
    actions::push_now(
        &s.db,
        s.connectors.crm.as_deref(),
        &s.config,
        &c.actor,
        &c.meta,
        &customer_id,
        cause,
    )
    .await
    .map_err(crate::api::ctx::fail)
}

/// Where the CRM import stands and what the viewer may do on the CRM page.
#[server(prefix = "/api/fn", endpoint = "crm_status")]
pub async fn get_crm_status() -> Result<CrmImportView, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let mut v = crate::server::crm::import::status(&c.state.db, &c.actor)
        .await
        .map_err(crate::api::ctx::fail)?;
    let can = |p: Permission| c.can(p);
    v.enabled = c.state.connectors.crm.is_some();
    v.can_start = v.enabled && can(Permission::SettingsManage);
    v.can_merge = v.enabled && can(Permission::CrmMerge);
    v.can_push = v.enabled && can(Permission::CrmSync);
    Ok(v)
}

/// Queues the CRM import (settings.manage). Returns the job id.
#[server(prefix = "/api/fn", endpoint = "crm_import_start")]
pub async fn start_crm_import() -> Result<String, ServerFnError> {
    use crate::server::crm::import;
    let c = crate::api::ctx::require(crate::domain::Permission::SettingsManage).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let configured = c.state.connectors.crm.is_some();
    import::start(&c.state.db, configured, &c.actor, &c.meta, now)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "crm_duplicates")]
pub async fn get_duplicates() -> Result<Vec<DuplicateGroup>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::crm::duplicates::groups(&c.state.db, &c.actor)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Executes one group's merge plan (crm.merge). Returns the contact ids merged now.
#[server(prefix = "/api/fn", endpoint = "crm_merge")]
pub async fn merge_duplicates(key: String) -> Result<Vec<String>, ServerFnError> {
    use crate::server::crm::duplicates;
    let c = crate::api::ctx::require(crate::domain::Permission::CrmMerge).await?;
    let s = &c.state;
    duplicates::merge(&s.db, s.connectors.crm.as_deref(), &c.actor, &c.meta, &key)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "crm_drift")]
pub async fn get_drift() -> Result<Vec<DriftRow>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::crm::drift::report(&c.state.db, &c.actor, None)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "crm_conflicts")]
pub async fn get_conflicts() -> Result<Vec<ConflictView>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::crm::actions::conflicts(&c.state.db, &c.actor)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Decides an identity conflict (crm.merge): `decision` is "link:<contact id>" or "separate".
#[server(prefix = "/api/fn", endpoint = "crm_conflict_resolve")]
pub async fn resolve_conflict(id: String, decision: String) -> Result<(), ServerFnError> {
    use crate::server::crm::actions::{self, Decision};
    let c = crate::api::ctx::require(crate::domain::Permission::CrmMerge).await?;
    let decision = Decision::parse(&decision).ok_or_else(|| {
        crate::api::ctx::bad_input("Choose a contact to link, or keep them separate.".into())
    })?;
    let s = &c.state;
    actions::resolve(
        &s.db,
        s.connectors.crm.as_deref(),
        &c.actor,
        &c.meta,
        &id,
        &decision,
    )
    .await
    .map_err(crate::api::ctx::fail)
}
