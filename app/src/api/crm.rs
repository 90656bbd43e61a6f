//! The CRM side: push (crm.sync), the import, duplicates and merges (crm.merge), drift and its
//! fix, identity conflicts. Each checks its own permission first.

use crate::domain::{ConflictView, CrmImportView, DriftRow, DuplicateGroup};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn action_error(e: crate::server::crm::actions::ActionError) -> ServerFnError {
    use crate::api::ctx::{internal, refuse};
    use crate::server::crm::actions::ActionError;
    use http::StatusCode;
    match e {
        ActionError::Db(e) => internal("crm action", e),
        ActionError::Denied(d) => crate::api::ctx::refused(d),
        e @ (ActionError::NotFound | ActionError::NoConflict) => {
            refuse(StatusCode::NOT_FOUND, e.to_string())
        }
        e @ ActionError::NotACandidate => refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        e @ ActionError::Crm(_) => refuse(StatusCode::BAD_GATEWAY, e.to_string()),
        e => refuse(StatusCode::CONFLICT, e.to_string()),
    }
}

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
    .map_err(action_error)
}

/// Where the CRM import stands and what the viewer may do on the CRM page.
#[server(prefix = "/api/fn", endpoint = "crm_status")]
pub async fn get_crm_status() -> Result<CrmImportView, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let mut v = crate::server::crm::import::status(&c.state.db, &c.actor)
        .await
        .map_err(|e| crate::api::ctx::read_failed("crm status", e))?;
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
    use crate::api::ctx::{internal, refuse};
    use crate::server::crm::import::{self, StartError};
    let c = crate::api::ctx::require(crate::domain::Permission::SettingsManage).await?;
    let now = chrono::Utc::now().timestamp_millis();
    match import::start(
        &c.state.db,
        c.state.connectors.crm.is_some(),
        &c.actor,
        &c.meta,
        now,
    )
    .await
    {
        Ok(job) => Ok(job),
        Err(StartError::Db(e)) => Err(internal("crm import start", e)),
        Err(StartError::Denied(d)) => Err(crate::api::ctx::refused(d)),
        Err(e) => Err(refuse(http::StatusCode::CONFLICT, e.to_string())),
    }
}

#[server(prefix = "/api/fn", endpoint = "crm_duplicates")]
pub async fn get_duplicates() -> Result<Vec<DuplicateGroup>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::crm::duplicates::groups(&c.state.db, &c.actor)
        .await
        .map_err(|e| crate::api::ctx::read_failed("crm duplicates", e))
}

/// Executes one group's merge plan (crm.merge). Returns the contact ids merged now.
#[server(prefix = "/api/fn", endpoint = "crm_merge")]
pub async fn merge_duplicates(key: String) -> Result<Vec<String>, ServerFnError> {
    use crate::api::ctx::{internal, refuse};
    use crate::server::crm::duplicates::{self, MergeError};
    use http::StatusCode;
    let c = crate::api::ctx::require(crate::domain::Permission::CrmMerge).await?;
    let s = &c.state;
    match duplicates::merge(&s.db, s.connectors.crm.as_deref(), &c.actor, &c.meta, &key).await {
        Ok(merged) => Ok(merged),
        Err(MergeError::Db(e)) => Err(internal("crm merge", e)),
        Err(MergeError::Denied(d)) => Err(crate::api::ctx::refused(d)),
        Err(e @ MergeError::NotFound) => Err(refuse(StatusCode::NOT_FOUND, e.to_string())),
        Err(e @ MergeError::Crm(_)) => Err(refuse(StatusCode::BAD_GATEWAY, e.to_string())),
        Err(e) => Err(refuse(StatusCode::CONFLICT, e.to_string())),
    }
}

#[server(prefix = "/api/fn", endpoint = "crm_drift")]
pub async fn get_drift() -> Result<Vec<DriftRow>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::crm::drift::report(&c.state.db, &c.actor, None)
        .await
        .map_err(|e| crate::api::ctx::read_failed("crm drift", e))
}

#[server(prefix = "/api/fn", endpoint = "crm_conflicts")]
pub async fn get_conflicts() -> Result<Vec<ConflictView>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::crm::actions::conflicts(&c.state.db, &c.actor)
        .await
        .map_err(|e| crate::api::ctx::read_failed("crm conflicts", e))
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
    .map_err(action_error)
}
