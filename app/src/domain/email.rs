use serde::{Deserialize, Serialize};
use std::fmt;

/// A normalized email address: trimmed and lower-cased. The only way to get one is `parse`,
/// so code holding an `Email` never re-checks it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Enter a valid email address, like name@example.com.")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Email, InvalidEmail> {
        let email = Email::normalized(raw);
        let (local, domain) = email.split_once('@').ok_or(InvalidEmail)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';')
            });
        ok.then_some(Email(email)).ok_or(InvalidEmail)
    }

    /// The comparison key alone (trimmed, lower-cased), without refusing anything: for
    /// addresses other systems hold that we match but do not own (a CRM contact's email, a
    /// Stripe customer's). `parse` uses the same rule, so both sides of a match agree.
    pub fn normalized(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses_malformed() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.com",
            "ada@localhost",
            "a b@x.com",
            "a@b@c.com",
            "a@x.com.",
            "<a@x.com>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
