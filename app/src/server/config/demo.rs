//! DEMO_MODE: Stripe and the CRM are simulated in-process, on made-up data.

use super::reader::{quoted, Reader};
use super::ConfigError;
use crate::domain::AppEnv;

/// Reads DEMO_MODE and refuses it next to real credentials or in production.
pub(super) fn read(r: &mut Reader, app_env: Option<AppEnv>) -> Option<bool> {
    let demo_mode = r.parse("DEMO_MODE", "false", |v| {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(format!("expected true or false, got {}", quoted(v))),
        }
    });
    check(r, demo_mode == Some(true), app_env);
    demo_mode
}

/// Demo mode swaps in simulated connectors; with real credentials configured it would leave
/// them unused while staff believe they act on real accounts, so it refuses to start.
fn check(r: &mut Reader, demo: bool, env: Option<AppEnv>) {
    if !demo {
        return;
    }
    let mut set: Vec<&str> = ["STRIPE_API_KEY", "HUBSPOT_TOKEN", "ZENDESK_API_TOKEN"]
        .into_iter()
        .filter(|var| r.raw(var).is_some())
        .collect();
    if env == Some(AppEnv::Production) {
        set.push("APP_ENV=production");
    }
    if !set.is_empty() {
        r.errors.push(ConfigError {
            var: "DEMO_MODE",
            expected: format!(
                "demo mode simulates Stripe and the CRM and refuses to start with live settings; unset {} or DEMO_MODE",
                set.join(", ")
            ),
        });
    }
}
