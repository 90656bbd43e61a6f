//! Extractors that authenticate machine callers, so a handler's signature says who may call it
//! and the handler itself is only parse → service → response.

mod api_key;

pub use api_key::{ApiKey, RequiredScope, TicketsWrite};
