//! The CRM connector. Ledgerline is the only writer of billing facts into the CRM: a `crm.sync`
//! job per customer (coalesced while pending) computes the mapped properties and upserts one
//! contact keyed by our internal id, following the identity rules in `identity`.

pub mod actions;
pub mod contacts;
pub mod drift;
pub mod duplicates;
pub mod hubspot;
pub mod identity;
pub mod import;
pub mod mapping;
pub mod panel;
pub mod sync;
pub mod sync_queue;

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::Duration;

/// The contact property holding our internal customer id. In HubSpot it is a custom property
/// with unique values (`ledgerline crm-setup` creates it), which makes the upsert idempotent.
pub const ID_PROPERTY: &str = "ledgerline_id";

pub type Properties = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub properties: Properties,
}

impl Contact {
    pub fn ledgerline_id(&self) -> Option<&str> {
        self.properties
            .get(ID_PROPERTY)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn email(&self) -> Option<&str> {
        self.properties
            .get("email")
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    /// 429s, 5xx and timeouts: retry later, no sooner than `retry_after`.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Validation errors and the like: retrying cannot help; the vendor's message is kept.
    #[error("{0}")]
    Permanent(String),
}

impl From<CrmError> for crate::server::jobs::JobError {
    fn from(e: CrmError) -> Self {
        match e {
            CrmError::Transient {
                message,
                retry_after,
            } => crate::server::jobs::JobError::Transient {
                message,
                retry_after,
            },
            CrmError::Permanent(m) => crate::server::jobs::JobError::Permanent(m),
        }
    }
}

/// Why a push or an identity decision could not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no such customer")]
    NotFound,
    #[error(transparent)]
    Crm(#[from] CrmError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One page of contacts for the backfill: (contacts, cursor of the next page).
pub type ContactPage = (Vec<Contact>, Option<String>);

#[async_trait]
pub trait Crm: Send + Sync + std::fmt::Debug {
    /// Contacts whose property `name` equals `value` (at most 10).
    async fn search(&self, name: &str, value: &str) -> Result<Vec<Contact>, CrmError>;
    /// Creates or updates the one contact whose ID_PROPERTY is `ledgerline_id`.
    async fn upsert(
        &self,
        ledgerline_id: &str,
        properties: &Properties,
    ) -> Result<Contact, CrmError>;
    async fn update(&self, contact_id: &str, properties: &Properties) -> Result<Contact, CrmError>;
    async fn read(&self, contact_ids: &[String]) -> Result<Vec<Contact>, CrmError>;
    async fn list(&self, after: Option<&str>, limit: u32) -> Result<ContactPage, CrmError>;
    /// Merges `duplicate` into `primary`; afterwards only `primary` exists.
    async fn merge(&self, primary: &str, duplicate: &str) -> Result<Contact, CrmError>;
}
