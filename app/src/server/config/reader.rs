//! Reading variables: every section parses through one `Reader`, which collects what could not
//! be used instead of stopping at the first, so an operator fixes everything in one round.

use super::ConfigError;
use std::time::Duration;

pub(super) struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    pub(super) errors: Vec<ConfigError>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Reader {
            lookup,
            errors: Vec::new(),
        }
    }

    /// The value if set and not blank.
    pub(super) fn raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    pub(super) fn parse<T>(
        &mut self,
        var: &'static str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.raw(var).unwrap_or_else(|| default.to_string());
        self.record(var, parse(&value))
    }

    pub(super) fn optional<T>(
        &mut self,
        var: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.raw(var)?;
        self.record(var, parse(&value))
    }

    fn record<T>(&mut self, var: &'static str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(expected) => {
                self.errors.push(ConfigError { var, expected });
                None
            }
        }
    }
}

pub(super) fn quoted(value: &str) -> String {
    let shown: String = value.chars().take(60).collect();
    format!("{shown:?}")
}

/// Whole numbers between 1 and `max`, as that many seconds (callers scale minutes/hours).
pub(super) fn parse_secs(max: u64) -> impl Fn(&str) -> Result<Duration, String> {
    move |v| match v.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "expected a whole number between 1 and {max}, got {}",
            quoted(v)
        )),
    }
}

/// A timeout for one call to an outside service (HubSpot, Zendesk).
pub(super) fn parse_call_timeout(v: &str) -> Result<Duration, String> {
    match v.trim().parse::<u64>() {
        Ok(ms) if (50..=120_000).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "expected milliseconds from 50 to 120000, got {}",
            quoted(v)
        )),
    }
}

pub(super) fn parse_http_url(v: &str) -> Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(v.to_string()),
        _ => Err(format!(
            "expected an http:// or https:// URL, got {}",
            quoted(v)
        )),
    }
}
