//! The local billing mirror: Stripe objects as rows, applied only forward (see `objects` for
//! the version rule per type), linked to internal customers, with derived account state.

mod apply;
pub mod customers;
mod events;
mod fetched;
pub mod fields;
pub mod objects;

pub use apply::upsert;
pub use events::{apply as apply_event, refresh_state, store, Applied};
pub use fetched::apply_fetched;

/// What applying objects to the mirror needs from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The Stripe customer metadata key holding the product's user id.
    pub user_id_key: String,
    /// Queue a `crm.sync` for every customer whose mirror changed (a CRM is configured).
    pub crm_sync: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            user_id_key: "user_id".into(),
            crm_sync: false,
        }
    }
}

impl Options {
    pub fn from_config(config: &crate::server::Config) -> Self {
        Options {
            user_id_key: config.crm.stripe_user_id_key.clone(),
            crm_sync: config.crm.enabled(),
        }
    }
}
