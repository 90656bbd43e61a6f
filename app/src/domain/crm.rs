//! What staff see of the CRM side: sync history, the import, duplicates, drift and identity
//! conflicts. Shared with the UI; the server fills them.

use serde::{Deserialize, Serialize};

/// One push to the CRM, as the customer page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmSyncView {
    pub at_ms: i64,
    /// billing | manual | drift | backfill | identity
    pub cause: String,
    /// created | updated | unchanged | linked | conflict | failed
    pub result: String,
    pub fields: Vec<String>,
    pub error: Option<String>,
}

/// The CRM panel on the customer page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmPanel {
    /// A CRM is configured (CRM_PROVIDER).
    pub enabled: bool,
    pub contact_id: Option<String>,
    /// The contact's page in the CRM, when the account id is configured.
    pub contact_url: Option<String>,
    pub synced_at_ms: Option<i64>,
    pub lifecycle_stage: Option<String>,
    pub history: Vec<CrmSyncView>,
    /// An identity conflict waits for a person.
    pub open_conflict: bool,
    /// Mapped fields the last scan found different in the CRM.
    pub drifted_fields: Vec<String>,
    pub can_push: bool,
}

impl CrmPanel {
    /// One word for how the last sync went: ok, failing, waiting (conflict), never.
    pub fn health(&self) -> (&'static str, &'static str) {
        match (self.open_conflict, self.history.first()) {
            (true, _) => ("Needs a person", "warn"),
            (_, None) => ("Never synced", "neutral"),
            (_, Some(s)) if s.result == "failed" => ("Last sync failed", "fail"),
            (_, Some(_)) if !self.drifted_fields.is_empty() => ("Drifted", "warn"),
            (_, Some(_)) => ("In sync", "ok"),
        }
    }
}

/// A CRM contact as the duplicates and conflict pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRef {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The contact's ledgerline_id property.
    pub ledgerline_id: Option<String>,
    /// Our customer linked to it, if any.
    pub customer_id: Option<String>,
}

/// Contacts sharing a normalized email or an internal id, and what merging would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    /// "email:<address>" or "id:<customer id>": what the merge action names.
    pub key: String,
    pub survivor: ContactRef,
    /// Merged into the survivor by the plan.
    pub merge: Vec<ContactRef>,
    /// In the group but not merged, with why (they belong to another customer).
    pub kept: Vec<(ContactRef, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRow {
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub field: String,
    pub ours: String,
    pub theirs: String,
    pub scanned_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictView {
    pub id: String,
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub email: Option<String>,
    /// email_ambiguous | email_taken
    pub kind: String,
    pub candidates: Vec<ContactRef>,
    pub created_at_ms: i64,
}

impl ConflictView {
    pub fn explain(&self) -> &'static str {
        match self.kind.as_str() {
            "email_taken" => {
                "The one CRM contact with this email already carries another customer's id."
            }
            _ => "The email is shared: by several CRM contacts, or by several of our customers.",
        }
    }
}

/// The CRM import (backfill and scan) and what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmImportView {
    pub enabled: bool,
    /// queued/running as a job.
    pub running: bool,
    /// never | importing | done
    pub phase: String,
    /// Contacts read so far (the CRM's total is unknown until the last page).
    pub contacts: i64,
    pub linked: i64,
    pub conflicts: i64,
    pub duplicates: i64,
    pub drifted: i64,
    pub started_at_ms: Option<i64>,
    pub updated_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub can_start: bool,
    pub can_merge: bool,
    pub can_push: bool,
}
