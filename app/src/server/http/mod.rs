//! HTTP plumbing shared by the axum routes and the server functions.

pub mod request_id;
pub mod security;

pub use request_id::RequestId;
