//! DATABASE_URL.

use super::reader::{quoted, Reader};
use std::fmt;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ledgerline.db";

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
}

impl DatabaseConfig {
    pub(super) fn read(r: &mut Reader) -> Option<DatabaseConfig> {
        let url = r.parse("DATABASE_URL", DEFAULT_DATABASE_URL, |v| {
            DatabaseUrl::parse(v).map_err(|e| format!("{e}, got {}", quoted(&redact_url(v))))
        })?;
        Some(DatabaseConfig { url })
    }
}

/// Where the data lives. Parsed so the rest of the code never inspects URL prefixes.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { url: String },
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("sqlite:") {
            Ok(DatabaseUrl::Sqlite {
                url: raw.to_string(),
            })
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres {
                url: raw.to_string(),
            })
        } else {
            Err("expected sqlite://PATH or postgres://USER@HOST:PORT/DB".into())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DatabaseUrl::Sqlite { url } | DatabaseUrl::Postgres { url } => url,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite { .. } => "sqlite",
            DatabaseUrl::Postgres { .. } => "postgres",
        }
    }

    /// The URL with any password replaced, safe to log or print.
    pub fn redacted(&self) -> String {
        let url = self.as_str();
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_string();
        };
        match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or("");
                if userinfo.contains(':') {
                    format!("{scheme}://{user}:***@{host}")
                } else {
                    url.to_string()
                }
            }
            None => url.to_string(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A value that did not parse is still shown in the error, so its password is hidden first.
fn redact_url(v: &str) -> String {
    DatabaseUrl::Postgres { url: v.to_string() }.redacted()
}
