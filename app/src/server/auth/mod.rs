//! Staff sessions: storage for tower-sessions and the axum-login backend.

pub mod session_store;

pub use session_store::DbSessionStore;
