//! Support tickets: the intake rate limit, routing, and the external help desk (Zendesk) new
//! tickets are copied to.

use super::reader::{parse_call_timeout, parse_http_url, quoted, Reader};
use super::ConfigError;
use crate::domain::tickets::{routing, RoutingRules};
use crate::server::secret::Secret;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct TicketsConfig {
    /// Intake API calls per minute per API key (INTAKE_RATE_LIMIT_PER_MIN).
    pub intake_rate_per_min: u32,
    /// Where new tickets go and when they are due (TICKET_BILLING_KEYWORDS, TICKET_SLA_MINUTES).
    pub routing: RoutingRules,
    /// The external help desk new tickets are copied to, if any (HELPDESK_PROVIDER=zendesk).
    pub zendesk: Option<ZendeskConfig>,
}

impl TicketsConfig {
    pub(super) fn read(r: &mut Reader) -> Option<TicketsConfig> {
        let intake_rate_per_min = r.parse("INTAKE_RATE_LIMIT_PER_MIN", "60", |v| {
            match v.trim().parse::<u32>() {
                Ok(n) if (1..=100_000).contains(&n) => Ok(n),
                _ => Err(format!(
                    "expected a whole number from 1 to 100000, got {}",
                    quoted(v)
                )),
            }
        });
        let billing_keywords = r.parse(
            "TICKET_BILLING_KEYWORDS",
            routing::DEFAULT_BILLING_KEYWORDS,
            routing::parse_keywords,
        );
        let sla_minutes = r.parse(
            "TICKET_SLA_MINUTES",
            routing::DEFAULT_SLA_MINUTES,
            routing::parse_sla,
        );
        let zendesk = read_zendesk(r);
        Some(TicketsConfig {
            intake_rate_per_min: intake_rate_per_min?,
            routing: RoutingRules {
                billing_keywords: billing_keywords?,
                sla_minutes: sla_minutes?,
            },
            zendesk,
        })
    }

    /// Whether new tickets are also copied to an external help desk.
    pub fn helpdesk_enabled(&self) -> bool {
        self.zendesk.is_some()
    }
}

/// Zendesk's tickets API: `{api_base}/api/v2/tickets.json`, basic auth `{email}/token:{token}`.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    pub api_base: String,
    pub email: String,
    pub token: Secret,
    pub timeout: Duration,
}

/// HELPDESK_PROVIDER=zendesk needs the three ZENDESK_ variables; `none` (the default) needs none.
fn read_zendesk(r: &mut Reader) -> Option<ZendeskConfig> {
    let provider = r.parse("HELPDESK_PROVIDER", "none", |v| {
        match v.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(false),
            "zendesk" => Ok(true),
            _ => Err(format!("expected none or zendesk, got {}", quoted(v))),
        }
    })?;
    if !provider {
        return None;
    }
    let api_base = r.optional("ZENDESK_API_BASE", parse_http_url);
    let email = r.optional("ZENDESK_EMAIL", |v| {
        crate::domain::Email::parse(v)
            .map(|e| e.as_str().to_string())
            .map_err(|_| format!("expected the Zendesk agent's email, got {}", quoted(v)))
    });
    let token = r.optional("ZENDESK_API_TOKEN", |v| {
        if v.trim().len() >= 8 && !v.trim().contains(char::is_whitespace) {
            Ok(Secret::new(v.trim()))
        } else {
            Err("expected a Zendesk API token (value not shown)".into())
        }
    });
    let timeout = r.parse("ZENDESK_TIMEOUT_MS", "10000", parse_call_timeout);
    for (var, missing, what) in [
        (
            "ZENDESK_API_BASE",
            api_base.is_none(),
            "https://YOURS.zendesk.com",
        ),
        (
            "ZENDESK_EMAIL",
            email.is_none(),
            "the agent email the token belongs to",
        ),
        (
            "ZENDESK_API_TOKEN",
            token.is_none(),
            "an API token (value not shown)",
        ),
    ] {
        if missing && r.errors.iter().all(|e| e.var != var) {
            r.errors.push(ConfigError {
                var,
                expected: format!("required when HELPDESK_PROVIDER=zendesk: {what}"),
            });
        }
    }
    Some(ZendeskConfig {
        api_base: api_base?,
        email: email?,
        token: token?,
        timeout: timeout?,
    })
}
