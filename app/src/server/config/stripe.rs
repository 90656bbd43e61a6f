//! Stripe: the API key, webhook secrets, where the API is and how much clock skew a webhook
//! signature may have.

use super::reader::{parse_http_url, parse_secs, Reader};
use crate::server::secret::Secret;
use std::time::Duration;

pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub api_key: Option<StripeApiKey>,
    /// Several at once while a secret is being rotated.
    pub webhook_secrets: Vec<Secret>,
    pub api_base: String,
    pub webhook_tolerance: Duration,
    /// DEMO_MODE: Stripe is simulated in-process. Kept here as well as in `Config::demo_mode`
    /// so `available` can answer from this section alone.
    pub simulated: bool,
}

impl StripeConfig {
    /// Leaves `simulated` false: DEMO_MODE is read after every section (`Config::from_lookup`).
    pub(super) fn read(r: &mut Reader) -> Option<StripeConfig> {
        let api_key = r.optional("STRIPE_API_KEY", StripeApiKey::parse);
        let webhook_secrets = r
            .optional("STRIPE_WEBHOOK_SECRET", |v| {
                let secrets: Vec<Secret> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect();
                if secrets.iter().all(|s| s.expose().starts_with("whsec_") && s.expose().len() > 10) {
                    Ok(secrets)
                } else {
                    Err("expected one or more comma-separated secrets starting with whsec_ (value not shown)".into())
                }
            })
            .unwrap_or_default();
        let api_base = r.parse("STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE, parse_http_url);
        let webhook_tolerance = r.parse("STRIPE_WEBHOOK_TOLERANCE_SECS", "300", parse_secs(3600));
        Some(StripeConfig {
            api_key,
            webhook_secrets,
            api_base: api_base?,
            webhook_tolerance: webhook_tolerance?,
            simulated: false,
        })
    }

    /// Whether Stripe's API can be called: a key, or the demo's simulated Stripe.
    pub fn available(&self) -> bool {
        self.simulated || self.api_key.is_some()
    }
}

/// Which Stripe environment a key belongs to, read from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeMode {
    Test,
    Live,
}

#[derive(Debug, Clone)]
pub struct StripeApiKey {
    secret: Secret,
    mode: StripeMode,
}

impl StripeApiKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let mode = if raw.starts_with("sk_test_") || raw.starts_with("rk_test_") {
            StripeMode::Test
        } else if raw.starts_with("sk_live_") || raw.starts_with("rk_live_") {
            StripeMode::Live
        } else {
            return Err(
                "expected a secret or restricted key starting with sk_test_, sk_live_, rk_test_ or rk_live_ (value not shown)"
                    .into(),
            );
        };
        if raw.len() < 16 || raw.chars().any(|c| !c.is_ascii_alphanumeric() && c != '_') {
            return Err(
                "expected a full Stripe key of letters, digits and _ (value not shown)".into(),
            );
        }
        Ok(StripeApiKey {
            secret: Secret::new(raw),
            mode,
        })
    }
    pub fn mode(&self) -> StripeMode {
        self.mode
    }
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}
