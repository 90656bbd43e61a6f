//! How the process serves: where it listens, the address staff use, logs, request time,
//! and who may reach what (the /metrics token, the proxies trusted to name the client).

use super::reader::{parse_http_url, parse_secs, quoted, Reader};
use crate::server::http::client_addr::TrustedProxies;
use crate::server::secret::Secret;
use std::{net::SocketAddr, time::Duration};

pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub site_addr: SocketAddr,
    /// The address staff use in their browser; decides Secure cookies and HSTS.
    pub public_url: String,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    /// Bearer token for /metrics; unset disables the endpoint.
    pub metrics_token: Option<Secret>,
    /// TRUSTED_PROXIES: only connections from these may name the client in X-Forwarded-For
    /// or Forwarded.
    pub trusted_proxies: TrustedProxies,
}

impl ServerConfig {
    /// Leaves `metrics_token` and `trusted_proxies` empty: `Config::from_lookup` reads them
    /// later with `read_metrics_token` and `read_trusted_proxies` (it says why).
    pub(super) fn read(r: &mut Reader) -> Option<ServerConfig> {
        let site_addr = r.parse("LEPTOS_SITE_ADDR", DEFAULT_SITE_ADDR, |v| {
            v.trim()
                .parse::<SocketAddr>()
                .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:3000, got {}", quoted(v)))
        });
        let log_format = r.parse("LOG_FORMAT", "text", |v| {
            match v.trim().to_ascii_lowercase().as_str() {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err(format!("expected text or json, got {}", quoted(v))),
            }
        });
        let request_timeout = r.parse("REQUEST_TIMEOUT_SECS", "30", parse_secs(600));
        let default_public = format!(
            "http://{}",
            site_addr.unwrap_or_else(|| DEFAULT_SITE_ADDR.parse().unwrap())
        );
        let public_url = r.parse("PUBLIC_URL", &default_public, parse_http_url);
        Some(ServerConfig {
            site_addr: site_addr?,
            public_url: public_url?,
            log_format: log_format?,
            request_timeout: request_timeout?,
            metrics_token: None,
            trusted_proxies: TrustedProxies::default(),
        })
    }

    pub fn serves_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

pub(super) fn read_metrics_token(r: &mut Reader) -> Option<Secret> {
    r.optional("METRICS_TOKEN", |v| {
        let v = v.trim();
        if v.len() >= 16 && v.chars().all(|c| c.is_ascii_graphic()) {
            Ok(Secret::new(v))
        } else {
            Err("expected at least 16 printable characters without spaces (value not shown)".into())
        }
    })
}

pub(super) fn read_trusted_proxies(r: &mut Reader) -> Option<TrustedProxies> {
    r.parse("TRUSTED_PROXIES", "", TrustedProxies::parse)
}
