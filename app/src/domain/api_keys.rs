//! API keys for the product's backend: named, scoped, shown once, revocable.

use serde::{Deserialize, Serialize};

/// What a key may do. One scope today; the list grows with the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    TicketsWrite,
}

impl Scope {
    pub const ALL: [Scope; 1] = [Scope::TicketsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::TicketsWrite => "tickets:write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::TicketsWrite => "Create support tickets",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// A key as lists show it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The key's first characters ("llk_3f9a…"), to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

/// A key just created: `key` is shown this once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub view: ApiKeyView,
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::Scope;

    #[test]
    fn scopes_parse_by_their_names_only() {
        assert_eq!(Scope::parse("tickets:write"), Some(Scope::TicketsWrite));
        assert_eq!(Scope::parse(" tickets:write "), Some(Scope::TicketsWrite));
        assert_eq!(Scope::parse("tickets:read"), None);
        assert_eq!(Scope::parse("TICKETS:WRITE"), None);
    }
}
