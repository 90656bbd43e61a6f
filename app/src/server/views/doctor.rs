//! `ledgerline doctor`: every configuration and connectivity check in one report, so an
//! operator sees all problems at once. Secrets appear only as hints (`sk_test_…abcd`).

use super::health;
use crate::domain::{AppEnv, Check};
use crate::server::config::crm::CrmProvider;
use crate::server::config::database::DatabaseUrl;
use crate::server::config::stripe::StripeMode;
use crate::server::config::{Config, ConfigErrors};
use crate::server::db::Db;

/// Runs every check. `lookup` reads a variable (the environment in production, a map in tests).
pub async fn run(lookup: &dyn Fn(&str) -> Option<String>) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = Config::from_lookup(lookup);
    let database_url = match &config {
        Ok(c) => Some(c.database.url.clone()),
        Err(ConfigErrors(errors)) => {
            checks.extend(
                errors
                    .iter()
                    .map(|e| Check::fail(format!("config {}", e.var), e.expected.clone())),
            );
            let raw = lookup("DATABASE_URL").filter(|v| !v.trim().is_empty());
            DatabaseUrl::parse(
                raw.as_deref()
                    .unwrap_or(crate::server::config::database::DEFAULT_DATABASE_URL),
            )
            .ok()
        }
    };
    if let Some(url) = database_url {
        checks.extend(database_checks(&url).await);
    }
    if let Ok(config) = &config {
        checks.extend(config_checks(config));
    }
    checks
}

async fn database_checks(url: &DatabaseUrl) -> Vec<Check> {
    if let DatabaseUrl::Sqlite { url: raw } = url {
        let path = raw
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if path != ":memory:" && !std::path::Path::new(path).exists() {
            return vec![Check::warn(
                "database",
                format!("{path} does not exist yet; `ledgerline serve` or `migrate` creates it"),
            )];
        }
    }
    match Db::connect(url).await {
        Ok(db) => {
            let checks = vec![
                health::database_check(&db).await,
                health::migrations_check(&db).await,
            ];
            db.close().await;
            checks
        }
        Err(e) => {
            tracing::debug!(error = %e, "doctor could not connect");
            vec![Check::fail(
                "database",
                format!("cannot connect to {} ({})", url.redacted(), root_cause(&e)),
            )]
        }
    }
}

/// The innermost error message: for a refused connection that is the OS's sentence, which is
/// what an operator needs, without the wrapping.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Checks that need only the parsed configuration.
pub fn config_checks(config: &Config) -> Vec<Check> {
    let strict = matches!(config.app_env, AppEnv::Staging | AppEnv::Production);
    let missing = |name: &str, what: &str| {
        if strict {
            Check::fail(
                name,
                format!("{what} is not set (required in {})", config.app_env),
            )
        } else {
            Check::warn(name, format!("{what} is not set; Stripe features stay off"))
        }
    };
    let mut checks = Vec::new();

    match &config.stripe.api_key {
        None if config.demo_mode => checks.push(Check::ok(
            "stripe key",
            "demo mode: Stripe and the CRM are simulated (DEMO_MODE=true)",
        )),
        None => checks.push(missing("stripe key", "STRIPE_API_KEY")),
        Some(key) => {
            let mode = match key.mode() {
                StripeMode::Test => "test",
                StripeMode::Live => "live",
            };
            checks.push(Check::ok(
                "stripe key",
                format!("{mode} mode ({})", key.secret().hint()),
            ));
            checks.push(mode_check(config.app_env, key.mode()));
        }
    }

    if config.stripe.webhook_secrets.is_empty() {
        checks.push(missing("stripe webhook secret", "STRIPE_WEBHOOK_SECRET"));
    } else {
        let hints: Vec<String> = config
            .stripe
            .webhook_secrets
            .iter()
            .map(|s| s.hint())
            .collect();
        checks.push(Check::ok(
            "stripe webhook secret",
            format!("{} active ({})", hints.len(), hints.join(", ")),
        ));
    }

    checks.push(match (config.crm.provider, &config.crm.hubspot_token) {
        _ if config.demo_mode => Check::ok("crm token", "demo mode: the simulated CRM"),
        (CrmProvider::Hubspot, Some(token)) => {
            Check::ok("crm token", format!("HubSpot ({})", token.hint()))
        }
        (CrmProvider::Hubspot, None) => Check::fail(
            "crm token",
            "CRM_PROVIDER=hubspot but HUBSPOT_TOKEN is not set",
        ),
        (CrmProvider::None, Some(_)) => Check::warn(
            "crm token",
            "HUBSPOT_TOKEN is set but CRM_PROVIDER is none; CRM sync stays off",
        ),
        (CrmProvider::None, None) => Check::warn(
            "crm token",
            "no CRM configured (CRM_PROVIDER=none); CRM sync stays off",
        ),
    });

    if config.app_env == AppEnv::Production && !config.server.serves_https() {
        checks.push(Check::warn(
            "public url",
            format!(
                "{} is not https: cookies cannot be marked Secure",
                config.server.public_url
            ),
        ));
    } else {
        checks.push(Check::ok("public url", config.server.public_url.clone()));
    }
    checks
}

/// A test key in production silently drops real payments; a live key in development can
/// refund real customers from a laptop. Both are failures; staging with a live key only warns
/// because some teams stage against live read-only keys.
fn mode_check(env: AppEnv, mode: StripeMode) -> Check {
    match (env, mode) {
        (AppEnv::Production, StripeMode::Test) => Check::fail(
            "stripe mode",
            "APP_ENV=production uses a test-mode key (sk_test_/rk_test_)",
        ),
        (AppEnv::Production, StripeMode::Live) => {
            Check::ok("stripe mode", "live key in production")
        }
        (AppEnv::Staging, StripeMode::Live) => {
            Check::warn("stripe mode", "APP_ENV=staging uses a live-mode key")
        }
        (env, StripeMode::Live) => Check::fail(
            "stripe mode",
            format!("APP_ENV={env} uses a live-mode key (sk_live_/rk_live_)"),
        ),
        (env, StripeMode::Test) => Check::ok("stripe mode", format!("test key in {env}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CheckStatus;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |k| map.get(k).cloned()).unwrap()
    }

    fn status_of(checks: &[Check], name: &str) -> CheckStatus {
        checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .status
    }

    #[test]
    fn production_with_a_test_key_fails_and_shows_only_a_hint() {
        let checks = config_checks(&cfg(&[
            ("APP_ENV", "production"),
            ("STRIPE_API_KEY", "sk_test_51Hxxxxxxxxxxxxxxxxxxsecretabcd"),
        ]));
        assert_eq!(status_of(&checks, "stripe mode"), CheckStatus::Fail);
        assert_eq!(
            status_of(&checks, "stripe webhook secret"),
            CheckStatus::Fail
        );
        let all = format!("{checks:?}");
        assert!(all.contains("sk_test_…abcd"));
        assert!(!all.contains("51Hxxxx"));
    }

    #[test]
    fn development_without_keys_only_warns() {
        let checks = config_checks(&cfg(&[]));
        assert_eq!(status_of(&checks, "stripe key"), CheckStatus::Warn);
        assert_eq!(status_of(&checks, "crm token"), CheckStatus::Warn);
        assert!(checks.iter().all(|c| c.status != CheckStatus::Fail));
    }

    #[test]
    fn live_key_outside_production_fails_but_staging_warns() {
        let key = ("STRIPE_API_KEY", "sk_live_51Hyyyyyyyyyyyyyyyy0000");
        let dev = config_checks(&cfg(&[key]));
        assert_eq!(status_of(&dev, "stripe mode"), CheckStatus::Fail);
        let staging = config_checks(&cfg(&[key, ("APP_ENV", "staging")]));
        assert_eq!(status_of(&staging, "stripe mode"), CheckStatus::Warn);
    }

    #[tokio::test]
    async fn hubspot_without_token_fails() {
        // The configuration itself refuses it, so the doctor names the variable.
        let dir = std::env::temp_dir().join(format!("ll-doctor-crm-{}", std::process::id()));
        let url = format!("sqlite://{}/missing.db", dir.display());
        let map: HashMap<&str, String> =
            [("DATABASE_URL", url), ("CRM_PROVIDER", "hubspot".into())].into();
        let checks = run(&move |k| map.get(k).cloned()).await;
        assert_eq!(
            status_of(&checks, "config HUBSPOT_TOKEN"),
            CheckStatus::Fail
        );
    }

    #[tokio::test]
    async fn bad_config_is_reported_per_variable_and_database_still_checked() {
        let dir = std::env::temp_dir().join(format!("ll-doctor-{}", std::process::id()));
        let url = format!("sqlite://{}/missing.db", dir.display());
        let map: HashMap<&str, String> =
            [("DATABASE_URL", url), ("LOG_FORMAT", "xml".into())].into();
        let checks = run(&move |k| map.get(k).cloned()).await;
        assert_eq!(status_of(&checks, "config LOG_FORMAT"), CheckStatus::Fail);
        assert_eq!(status_of(&checks, "database"), CheckStatus::Warn);
        assert!(
            !dir.join("missing.db").exists(),
            "doctor must not create the database"
        );
    }
}
