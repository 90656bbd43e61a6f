//! The customer page's drift panel: each field as the app's mirror, Stripe and the CRM have it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldComparison {
    pub label: String,
    /// The mirror's value, as Ledgerline pushes it to the CRM.
    pub ours: String,
    /// What the mirror would say after a re-sync from Stripe now; None when Stripe was not read.
    pub stripe: Option<String>,
    /// The CRM contact's value; None when there is no contact to read.
    pub crm: Option<String>,
    pub stripe_differs: bool,
    pub crm_differs: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemsComparison {
    pub fields: Vec<FieldComparison>,
    /// Why the Stripe column is empty, or how it was read.
    pub stripe_note: String,
    pub crm_note: String,
    /// The viewer may fix what differs (billing.sync / crm.sync).
    pub can_resync: bool,
    pub can_push: bool,
    pub checked_at_ms: i64,
}

impl SystemsComparison {
    pub fn stripe_drift(&self) -> usize {
        self.fields.iter().filter(|f| f.stripe_differs).count()
    }

    pub fn crm_drift(&self) -> usize {
        self.fields.iter().filter(|f| f.crm_differs).count()
    }
}
