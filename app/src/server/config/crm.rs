//! The CRM (HubSpot): which one, its credentials and limits, the lifecycle stage per account
//! state, and the key that tells whose customer record is whose.

use super::reader::{parse_call_timeout, parse_http_url, quoted, Reader};
use super::ConfigError;
use crate::domain::AccountState;
use crate::server::secret::Secret;
use std::time::Duration;

pub const DEFAULT_HUBSPOT_API_BASE: &str = "https://api.hubapi.com";
/// Account state → HubSpot lifecycle stage. HubSpot only moves a stage forward through the API
/// (subscriber … customer, evangelist, other), so the default never asks it to go back.
pub const DEFAULT_CRM_LIFECYCLE_MAP: &str =
    "none=lead,trialing=opportunity,active=customer,past_due=customer,unpaid=customer,canceled=other";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrmProvider {
    None,
    Hubspot,
}

#[derive(Debug, Clone)]
pub struct CrmConfig {
    pub provider: CrmProvider,
    pub hubspot_token: Option<Secret>,
    pub hubspot_api_base: String,
    /// How long one HubSpot call may take before it counts as a (transient) timeout.
    pub hubspot_timeout: Duration,
    /// The HubSpot account ("portal") id, only for links to contact records.
    pub hubspot_portal_id: Option<String>,
    /// Lifecycle stage per account state (every state has one).
    pub lifecycle: Vec<(AccountState, String)>,
    /// The Stripe customer metadata key holding the product's user id. It joins Stripe
    /// customers, CRM contacts and tickets into one customer, so the mirror uses it with or
    /// without a CRM.
    pub stripe_user_id_key: String,
    /// DEMO_MODE: the CRM is simulated in-process. Kept here as well as in `Config::demo_mode`
    /// so `enabled` can answer from this section alone.
    pub simulated: bool,
}

impl CrmConfig {
    /// Leaves `simulated` false: DEMO_MODE is read after every section (`Config::from_lookup`).
    pub(super) fn read(r: &mut Reader) -> Option<CrmConfig> {
        let provider = r.parse("CRM_PROVIDER", "none", |v| {
            match v.trim().to_ascii_lowercase().as_str() {
                "none" => Ok(CrmProvider::None),
                "hubspot" => Ok(CrmProvider::Hubspot),
                _ => Err(format!("expected none or hubspot, got {}", quoted(v))),
            }
        });
        let hubspot_token = r.optional("HUBSPOT_TOKEN", |v| {
            if v.trim().len() >= 8 && !v.trim().contains(char::is_whitespace) {
                Ok(Secret::new(v.trim()))
            } else {
                Err("expected a HubSpot private-app access token (value not shown)".into())
            }
        });
        let hubspot_api_base =
            r.parse("HUBSPOT_API_BASE", DEFAULT_HUBSPOT_API_BASE, parse_http_url);
        let hubspot_portal_id = r.optional("HUBSPOT_PORTAL_ID", |v| {
            let v = v.trim();
            if !v.is_empty() && v.len() <= 20 && v.chars().all(|c| c.is_ascii_digit()) {
                Ok(v.to_string())
            } else {
                Err(format!(
                    "expected HubSpot's numeric account id, got {}",
                    quoted(v)
                ))
            }
        });
        let hubspot_timeout = r.parse("HUBSPOT_TIMEOUT_MS", "10000", parse_call_timeout);
        let lifecycle = r.parse(
            "CRM_LIFECYCLE_MAP",
            DEFAULT_CRM_LIFECYCLE_MAP,
            parse_lifecycle,
        );
        let stripe_user_id_key = r.parse("STRIPE_USER_ID_METADATA_KEY", "user_id", |v| {
            let v = v.trim();
            if !v.is_empty()
                && v.len() <= 40
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                Ok(v.to_string())
            } else {
                Err(format!(
                    "expected a metadata key (letters, digits, _ or -), got {}",
                    quoted(v)
                ))
            }
        });
        if matches!(provider, Some(CrmProvider::Hubspot)) && hubspot_token.is_none() {
            r.errors.push(ConfigError {
                var: "HUBSPOT_TOKEN",
                expected: "required when CRM_PROVIDER=hubspot (a private-app access token)".into(),
            });
        }
        Some(CrmConfig {
            provider: provider?,
            hubspot_token,
            hubspot_api_base: hubspot_api_base?,
            hubspot_timeout: hubspot_timeout?,
            hubspot_portal_id,
            lifecycle: lifecycle?,
            stripe_user_id_key: stripe_user_id_key?,
            simulated: false,
        })
    }

    /// Whether billing changes should be pushed to a CRM (decides if syncs are enqueued at all).
    pub fn enabled(&self) -> bool {
        self.simulated || self.provider != CrmProvider::None && self.hubspot_token.is_some()
    }
}

/// "state=stage,…" with every account state named once; stages are HubSpot's internal values.
fn parse_lifecycle(v: &str) -> Result<Vec<(AccountState, String)>, String> {
    const STAGES: [&str; 8] = [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ];
    let mut out = Vec::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (state, stage) = pair
            .split_once('=')
            .ok_or_else(|| format!("expected state=stage pairs, got {}", quoted(pair)))?;
        let state = AccountState::parse(state.trim())
            .ok_or_else(|| format!("unknown account state {}", quoted(state)))?;
        let stage = stage.trim().to_ascii_lowercase();
        if !STAGES.contains(&stage.as_str()) {
            return Err(format!(
                "unknown lifecycle stage {}; use one of {}",
                quoted(&stage),
                STAGES.join(", ")
            ));
        }
        if out.iter().any(|(s, _)| *s == state) {
            return Err(format!("{} is mapped twice", state.as_str()));
        }
        out.push((state, stage));
    }
    match AccountState::ALL
        .iter()
        .find(|s| !out.iter().any(|(o, _)| o == *s))
    {
        Some(missing) => Err(format!("no stage for {}", missing.as_str())),
        None => Ok(out),
    }
}
