//! HTTP plumbing shared by the axum routes and the server functions.

pub mod access_map;
pub mod request_id;
pub mod request_meta;
pub mod security;

pub use request_id::RequestId;
