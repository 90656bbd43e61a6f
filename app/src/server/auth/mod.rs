//! Staff sessions: storage for tower-sessions and the axum-login backend.

pub mod backend;
pub mod session_store;

pub use backend::{
    end_session, request_actor, start_session, AuthSession, SessionError, SessionUser,
    StaffBackend, LOGIN_AT_KEY,
};
pub use session_store::DbSessionStore;
