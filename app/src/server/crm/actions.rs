//! What staff do to the CRM side of a customer: push now (crm.sync), and decide an identity
//! conflict (link or keep separate). Each is audited with its outcome.

use super::sync::{self, SyncResult};
use super::{sync_queue, SyncError};
use super::{Crm, Properties, ID_PROPERTY};
use crate::domain::{ConflictView, ContactRef, Outcome, Permission};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::Db;
use crate::server::services::audit;
use crate::server::Config;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No CRM is configured (CRM_PROVIDER).")]
    NotConfigured,
    #[error("No such customer.")]
    NotFound,
    #[error("No such open conflict: it may have been resolved already.")]
    NoConflict,
    #[error("That contact is not one of this conflict's candidates.")]
    NotACandidate,
    #[error("That contact is already linked to another customer.")]
    ContactTaken,
    #[error("The CRM did not accept it: {0}")]
    Crm(#[from] super::CrmError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(ActionError {
    denied: Denied,
    internal: [Db],
    Self::NotFound | Self::NoConflict => NOT_FOUND,
    Self::NotACandidate => UNPROCESSABLE_ENTITY,
    Self::Crm(_) => BAD_GATEWAY,
    _ => CONFLICT,
});

impl From<SyncError> for ActionError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotFound => ActionError::NotFound,
            SyncError::Crm(e) => ActionError::Crm(e),
            SyncError::Db(e) => ActionError::Db(e),
        }
    }
}

/// What a push did, in words for the page.
pub fn describe(r: &SyncResult) -> String {
    match r {
        SyncResult::Created(id) => format!("Created CRM contact {id}."),
        SyncResult::Linked(id) => format!("Linked to CRM contact {id} and pushed."),
        SyncResult::Updated(id) => format!("Pushed to CRM contact {id}."),
        SyncResult::Unchanged => "The CRM already had these values.".into(),
        SyncResult::Conflict(_) => {
            "Not pushed: the email matches a CRM contact a person must decide about (CRM → Identity conflicts).".into()
        }
    }
}

/// Pushes the customer's facts now, even if unchanged since the last push (`cause`: manual or
/// drift). Audited as crm.pushed with the result or the error.
pub async fn push_now(
    db: &Db,
    crm: Option<&dyn Crm>,
    config: &Config,
    actor: &Actor,
    meta: &RequestMeta,
    customer_id: &str,
    cause: &str,
) -> Result<String, ActionError> {
    actor.require(Permission::CrmSync)?;
    let crm = crm.ok_or(ActionError::NotConfigured)?;
    let result = sync::push(db, crm, config, customer_id, cause, true).await;
    if matches!(result, Err(SyncError::NotFound)) {
        return Err(ActionError::NotFound);
    }
    let (outcome, details) = match &result {
        Ok(r) => (
            Outcome::Ok,
            json!({ "cause": cause, "result": describe(r) }),
        ),
        Err(e) => (
            Outcome::Failed,
            json!({ "cause": cause, "error": e.to_string() }),
        ),
    };
    let entry = audit::NewEntry::new(actor, meta, "crm.pushed", outcome)
        .target("customer", customer_id)
        .customer(customer_id)
        .details(details);
    audit::append_now(db, entry).await?;
    Ok(describe(&result?))
}

/// A person's decision on an identity conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// This contact is the customer.
    Link(String),
    /// None of the candidates is: the customer gets a contact of its own.
    KeepSeparate,
}

impl Decision {
    /// "link:<contact id>" or "separate", as the page sends it.
    pub fn parse(s: &str) -> Option<Decision> {
        match s.split_once(':') {
            Some(("link", id)) if !id.is_empty() && id.len() <= 40 => {
                Some(Decision::Link(id.to_string()))
            }
            _ if s == "separate" => Some(Decision::KeepSeparate),
            _ => None,
        }
    }
}

fn candidates(raw: &str) -> Vec<ContactRef> {
    serde_json::from_str::<Vec<Value>>(raw)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            Some(ContactRef {
                id: c.get("contact_id")?.as_str()?.to_string(),
                email: c.get("email").and_then(Value::as_str).map(str::to_string),
                name: None,
                ledgerline_id: c
                    .get(ID_PROPERTY)
                    .and_then(Value::as_str)
                    .map(str::to_string),
                customer_id: None,
            })
        })
        .collect()
}

/// Open conflicts, oldest first (they have waited longest).
pub async fn conflicts(db: &Db, actor: &Actor) -> Result<Vec<ConflictView>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(conflicts_rows(db).await?)
}

async fn conflicts_rows(db: &Db) -> Result<Vec<ConflictView>, sqlx::Error> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT x.id, x.customer_id, c.name, c.email, x.kind, x.candidates, x.created_at FROM identity_conflicts x \
         LEFT JOIN customers c ON c.id = x.customer_id WHERE x.status = 'open' ORDER BY x.created_at, x.id LIMIT 500",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, customer_id, customer_name, email, kind, raw, at)| ConflictView {
                id,
                customer_id,
                customer_name,
                email,
                kind,
                candidates: candidates(&raw),
                created_at_ms: at,
            },
        )
        .collect())
}

/// Resolves an open conflict. Link: the contact becomes the customer's (our id is written onto
/// it). Keep separate: the customer's own contact is created without the shared email. Either
/// way a sync is queued, and the decision is audited.
pub async fn resolve(
    db: &Db,
    crm: Option<&dyn Crm>,
    actor: &Actor,
    meta: &RequestMeta,
    conflict_id: &str,
    decision: &Decision,
) -> Result<(), ActionError> {
    actor.require(Permission::CrmMerge)?;
    let crm = crm.ok_or(ActionError::NotConfigured)?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT customer_id, candidates FROM identity_conflicts WHERE id = $1 AND status = 'open'",
    )
    .bind(conflict_id)
    .fetch_optional(db.pool())
    .await?;
    let (customer, raw) = row.ok_or(ActionError::NoConflict)?;
    let now = chrono::Utc::now().timestamp_millis();
    let (status, action, contact) = match decision {
        Decision::Link(contact) => {
            if !candidates(&raw).iter().any(|c| &c.id == contact) {
                return Err(ActionError::NotACandidate);
            }
            let taken: Option<String> = sqlx::query_scalar(
                "SELECT id FROM customers WHERE crm_contact_id = $1 AND id <> $2",
            )
            .bind(contact)
            .bind(&customer)
            .fetch_optional(db.pool())
            .await?;
            if taken.is_some() {
                return Err(ActionError::ContactTaken);
            }
            // Written first: if the CRM refuses, nothing here has changed.
            let claim = Properties::from([(ID_PROPERTY.to_string(), customer.clone())]);
            if let Err(e) = crm.update(contact, &claim).await {
                let entry = audit::NewEntry::new(actor, meta, "identity.linked", Outcome::Failed)
                    .target("identity_conflict", conflict_id)
                    .customer(&customer)
                    .details(json!({ "contact_id": contact, "error": e.to_string() }));
                audit::append_now(db, entry).await?;
                return Err(e.into());
            }
            ("linked", "identity.linked", Some(contact.as_str()))
        }
        Decision::KeepSeparate => ("kept_separate", "identity.kept_separate", None),
    };
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE identity_conflicts SET status = $1, resolved_by = $2, updated_at = $3 WHERE id = $4 AND status = 'open'",
    )
    .bind(status)
    .bind(actor.id())
    .bind(now)
    .bind(conflict_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(ActionError::NoConflict);
    }
    if let Some(contact) = contact {
        sqlx::query("UPDATE customers SET crm_contact_id = $1, crm_pushed = NULL WHERE id = $2")
            .bind(contact)
            .bind(&customer)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE crm_contacts SET ledgerline_id = $1 WHERE id = $2")
            .bind(&customer)
            .bind(contact)
            .execute(&mut *tx)
            .await?;
    }
    // Other open conflicts of the customer are settled by the same decision.
    sqlx::query(
        "UPDATE identity_conflicts SET status = $1, resolved_by = $2, updated_at = $3 WHERE customer_id = $4 AND status = 'open'",
    )
    .bind(status)
    .bind(actor.id())
    .bind(now)
    .bind(&customer)
    .execute(&mut *tx)
    .await?;
    sync_queue::enqueue(&mut tx, &customer, "identity", now).await?;
    let entry = audit::NewEntry::new(actor, meta, action, Outcome::Ok)
        .target("identity_conflict", conflict_id)
        .customer(&customer)
        .details(json!({ "contact_id": contact }));
    audit::append(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(())
}
