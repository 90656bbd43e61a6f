//! HTTP plumbing shared by the axum routes and the server functions.

pub mod access_map;
pub mod client_addr;
pub mod path;
pub mod request_id;
pub mod request_meta;
pub mod security;

pub use request_id::RequestId;

/// A vendor's Retry-After in whole seconds (the form HubSpot and Zendesk send), if any.
pub fn retry_after(res: &reqwest::Response) -> Option<std::time::Duration> {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_secs)
}
