use crate::server::actor::RequestMeta;
use crate::server::http::RequestId;
use axum::extract::ConnectInfo;
use std::net::SocketAddr;

/// Who sent this request, from where, for audit entries.
pub fn from_parts(parts: &http::request::Parts) -> RequestMeta {
    RequestMeta {
        request_id: parts.extensions.get::<RequestId>().map(|id| id.to_string()),
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string()),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(300).collect()),
    }
}
