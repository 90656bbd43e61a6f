//! The `crm.sync` job: push one customer's mapped properties to the CRM. Idempotent (an upsert
//! keyed by our internal id, however often it runs, leaves one contact); coalesced (at most one
//! waiting sync per customer, whatever number of changes asked for it); and recorded per
//! customer in `crm_syncs` and on the timeline.

use super::identity::{self, Link};
use super::mapping;
use super::{Crm, CrmError, Properties, SyncError, ID_PROPERTY};
use crate::domain::Email;
use crate::server::db::{Db, Tx};
use crate::server::jobs::{JobError, JobHandler};
use crate::server::services::timeline;
use crate::server::Config;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncResult {
    Created(String),
    /// An existing contact (same email, unclaimed) became this customer's.
    Linked(String),
    Updated(String),
    /// The CRM already has exactly these values: no call was made.
    Unchanged,
    /// The identity rules refused to pick a contact; a person decides.
    Conflict(&'static str),
}

impl SyncResult {
    fn as_str(&self) -> &'static str {
        match self {
            SyncResult::Created(_) => "created",
            SyncResult::Linked(_) => "linked",
            SyncResult::Updated(_) => "updated",
            SyncResult::Unchanged => "unchanged",
            SyncResult::Conflict(_) => "conflict",
        }
    }
}

/// property → {before, after} for what differs.
fn diff(before: &Properties, after: &Properties) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            out.insert(k.clone(), json!({ "before": before.get(k), "after": v }));
        }
    }
    Value::Object(out)
}

/// One row of `crm_syncs` and its timeline entry.
struct Record<'a> {
    customer_id: &'a str,
    cause: &'a str,
    result: &'a str,
    contact_id: Option<&'a str>,
    changed: &'a Value,
    error: Option<&'a str>,
}

async fn record(tx: &mut Tx, r: Record<'_>, now_ms: i64) -> Result<String, sqlx::Error> {
    let Record {
        customer_id,
        cause,
        result,
        contact_id,
        changed,
        error,
    } = r;
    let id = format!("cs_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO crm_syncs (id, customer_id, at, cause, result, contact_id, changed, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(customer_id)
    .bind(now_ms)
    .bind(cause)
    .bind(result)
    .bind(contact_id)
    .bind(changed.to_string())
    .bind(error)
    .execute(&mut **tx)
    .await?;
    let fields = changed.as_object().map_or(0, |m| m.len());
    let summary = match (result, error) {
        ("created", _) => format!("CRM contact created ({fields} fields)"),
        ("linked", _) => "Linked to the existing CRM contact with the same email".into(),
        ("updated", _) => format!("CRM contact updated: {}", names(changed)),
        ("conflict", _) => {
            "CRM sync waits for a person: the email matches a contact we cannot safely claim".into()
        }
        (_, Some(e)) => format!("CRM sync failed: {e}"),
        _ => format!("CRM sync: {result}"),
    };
    timeline::record(
        tx,
        &timeline::Entry {
            id: format!("tl_{id}"),
            customer_id,
            at_ms: now_ms,
            source: "crm",
            kind: &format!("crm.{result}"),
            summary,
            ref_type: Some("crm_sync"),
            ref_id: Some(&id),
            amount: None,
            currency: None,
        },
        now_ms,
    )
    .await?;
    Ok(id)
}

fn names(changed: &Value) -> String {
    changed
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// Pushes the customer's current facts. Transient CRM errors come back as errors (the job
/// retries); a permanent one is recorded as a failed sync and returned too.
pub async fn sync_customer(
    db: &Db,
    crm: &dyn Crm,
    config: &Config,
    customer_id: &str,
    cause: &str,
) -> Result<SyncResult, SyncError> {
    push(db, crm, config, customer_id, cause, false).await
}

/// A sync; `force` pushes even when the CRM last accepted exactly these values (a manual push
/// or a drift fix: someone may have edited the contact in the CRM since).
pub async fn push(
    db: &Db,
    crm: &dyn Crm,
    config: &Config,
    customer_id: &str,
    cause: &str,
    force: bool,
) -> Result<SyncResult, SyncError> {
    let mut facts = mapping::facts(db, config, customer_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let (contact_id, pushed): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT crm_contact_id, crm_pushed FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_one(db.pool())
            .await?;
    let pushed: Properties = pushed
        .and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or_default();
    let separate = identity::kept_separate(db, customer_id).await?;
    if separate {
        // The email belongs to another CRM contact a person chose not to link: HubSpot keeps
        // emails unique, so this customer's contact goes without one.
        facts.properties.remove("email");
    }
    if !force && contact_id.is_some() && pushed == facts.properties {
        return Ok(SyncResult::Unchanged);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut claimed = false;
    if let (Some(id), true) = (&contact_id, pushed.is_empty()) {
        // Linked by the CRM import or a person, never pushed by us: the contact does not carry
        // our id yet, and the upsert below would otherwise create a second contact.
        let claim = Properties::from([(ID_PROPERTY.to_string(), customer_id.to_string())]);
        crm.update(id, &claim).await?;
        claimed = true;
    } else if contact_id.is_none() && !separate {
        match identity::resolve(db, crm, customer_id, facts.email.as_deref()).await? {
            Link::Conflict { kind, candidates } => {
                let mut tx = db.begin().await?;
                let email = facts.email.as_deref().map(Email::normalized);
                let opened = identity::open_conflict(
                    &mut tx,
                    customer_id,
                    kind,
                    email.as_deref(),
                    &candidates,
                    now,
                )
                .await?;
                // A retried sync does not pile up conflicts or their timeline entries.
                if opened {
                    let r = Record {
                        customer_id,
                        cause,
                        result: "conflict",
                        contact_id: None,
                        changed: &json!({}),
                        error: None,
                    };
                    record(&mut tx, r, now).await?;
                }
                tx.commit().await?;
                return Ok(SyncResult::Conflict(kind));
            }
            Link::Claim(id) => {
                let claim = Properties::from([(ID_PROPERTY.to_string(), customer_id.to_string())]);
                crm.update(&id, &claim).await?;
                claimed = true;
            }
            Link::Known(_) | Link::New => {}
        }
    }
    let contact = match crm.upsert(customer_id, &facts.properties).await {
        Ok(c) => c,
        Err(e @ CrmError::Permanent(_)) => {
            let mut tx = db.begin().await?;
            let (changed, error) = (diff(&pushed, &facts.properties), e.to_string());
            let r = Record {
                customer_id,
                cause,
                result: "failed",
                contact_id: contact_id.as_deref(),
                changed: &changed,
                error: Some(&error),
            };
            record(&mut tx, r, now).await?;
            tx.commit().await?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let changed = diff(&pushed, &facts.properties);
    let result = if claimed {
        SyncResult::Linked(contact.id.clone())
    } else if contact_id.is_none() && pushed.is_empty() {
        SyncResult::Created(contact.id.clone())
    } else {
        SyncResult::Updated(contact.id.clone())
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE customers SET crm_contact_id = $1, crm_pushed = $2, crm_synced_at = $3 WHERE id = $4",
    )
    .bind(&contact.id)
    .bind(serde_json::to_string(&facts.properties).unwrap_or_default())
    .bind(now)
    .bind(customer_id)
    .execute(&mut *tx)
    .await?;
    super::contacts::remember(&mut tx, &contact.id, &facts.properties, now).await?;
    sqlx::query("DELETE FROM crm_drift WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
    let r = Record {
        customer_id,
        cause,
        result: result.as_str(),
        contact_id: Some(&contact.id),
        changed: &changed,
        error: None,
    };
    record(&mut tx, r, now).await?;
    tx.commit().await?;
    Ok(result)
}

pub struct CrmSync {
    crm: Arc<dyn Crm>,
    config: Arc<Config>,
}

impl CrmSync {
    pub fn new(crm: Arc<dyn Crm>, config: &Config) -> Self {
        CrmSync {
            crm,
            config: Arc::new(config.clone()),
        }
    }
}

#[async_trait]
impl JobHandler for CrmSync {
    async fn run(&self, db: &Db, _job_id: &str, payload: Value) -> Result<(), JobError> {
        let customer = payload
            .get("customer_id")
            .and_then(Value::as_str)
            .ok_or_else(|| JobError::Permanent("the job names no customer_id".into()))?;
        let cause = payload
            .get("cause")
            .and_then(Value::as_str)
            .unwrap_or("billing");
        match sync_customer(db, self.crm.as_ref(), &self.config, customer, cause).await {
            Ok(_) => Ok(()),
            Err(SyncError::NotFound) => Err(JobError::Permanent(format!(
                "customer {customer} does not exist"
            ))),
            Err(SyncError::Crm(e)) => Err(e.into()),
            Err(SyncError::Db(e)) => Err(JobError::transient(format!("database: {e}"))),
        }
    }
}
