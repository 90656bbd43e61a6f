//! The local billing mirror: Stripe objects as rows, applied only forward (see `objects` for
//! the version rule per type), linked to internal customers, with derived account state.

mod apply;
pub mod customers;
mod events;
pub mod fields;
pub mod objects;

pub use apply::upsert;
pub use events::{apply as apply_event, refresh_state, store, Applied};
