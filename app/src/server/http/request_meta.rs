use crate::server::actor::RequestMeta;
use crate::server::http::{client_addr::ClientAddr, RequestId};
use axum::extract::ConnectInfo;
use std::net::SocketAddr;

/// Who sent this request, from where, for audit entries. The address is the one the
/// request-context layer worked out (`TRUSTED_PROXIES`), else the connection's peer.
pub fn from_parts(parts: &http::request::Parts) -> RequestMeta {
    RequestMeta {
        request_id: parts.extensions.get::<RequestId>().map(|id| id.to_string()),
        ip: client_ip(parts).map(|ip| ip.to_string()),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(300).collect()),
    }
}

pub fn client_ip(parts: &http::request::Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<ClientAddr>()
        .map(|ClientAddr(ip)| *ip)
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        })
}
