//! Configuration from environment variables (and an optional `.env`), parsed once at start-up
//! into typed values. A bad value is reported as one line naming the variable and what was
//! expected; a secret's value is never echoed back.

use crate::domain::AppEnv;
use crate::server::secret::Secret;
use std::{fmt, net::SocketAddr, time::Duration};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ledgerline.db";
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_HUBSPOT_API_BASE: &str = "https://api.hubapi.com";
/// Account state → HubSpot lifecycle stage. HubSpot only moves a stage forward through the API
/// (subscriber … customer, evangelist, other), so the default never asks it to go back.
pub const DEFAULT_CRM_LIFECYCLE_MAP: &str =
    "none=lead,trialing=opportunity,active=customer,past_due=customer,unpaid=customer,canceled=other";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrmProvider {
    None,
    Hubspot,
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

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: DatabaseUrl,
    pub site_addr: SocketAddr,
    /// The address staff use in their browser; decides Secure cookies and HSTS.
    pub public_url: String,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub stripe_api_key: Option<StripeApiKey>,
    /// Several at once while a secret is being rotated.
    pub stripe_webhook_secrets: Vec<Secret>,
    pub stripe_api_base: String,
    pub stripe_webhook_tolerance: Duration,
    pub crm_provider: CrmProvider,
    pub hubspot_token: Option<Secret>,
    pub hubspot_api_base: String,
    /// How long one HubSpot call may take before it counts as a (transient) timeout.
    pub hubspot_timeout: Duration,
    /// The HubSpot account ("portal") id, only for links to contact records.
    pub hubspot_portal_id: Option<String>,
    /// Lifecycle stage per account state (every state has one).
    pub crm_lifecycle: Vec<(crate::domain::AccountState, String)>,
    /// The Stripe customer metadata key holding the product's user id.
    pub stripe_user_id_key: String,
    /// A session unused this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_absolute_timeout: Duration,
    /// Job workers inside `serve`; 0 leaves the queue to `ledgerline worker` processes.
    pub worker_count: usize,
    /// /api/ready reports degraded once the oldest runnable job has waited this long.
    pub queue_lag_warn: Duration,
    /// Bearer token for /metrics; unset disables the endpoint.
    pub metrics_token: Option<Secret>,
    /// The largest refund the billing role may make alone, in the charge currency's minor
    /// units; above it a second person approves. Admins have no limit.
    pub refund_limit_billing: i64,
    /// Intake API calls per minute per API key (INTAKE_RATE_LIMIT_PER_MIN).
    pub intake_rate_per_min: u32,
    /// Where new tickets go and when they are due (TICKET_BILLING_KEYWORDS, TICKET_SLA_MINUTES).
    pub ticket_routing: crate::domain::tickets::RoutingRules,
    /// The external help desk new tickets are copied to, if any (HELPDESK_PROVIDER=zendesk).
    pub zendesk: Option<ZendeskConfig>,
    /// DEMO_MODE: Stripe and the CRM are simulated in-process (never with real credentials).
    pub demo_mode: bool,
    /// TRUSTED_PROXIES: only connections from these may name the client in X-Forwarded-For
    /// or Forwarded.
    pub trusted_proxies: crate::server::http::client_addr::TrustedProxies,
}

impl Config {
    pub fn serves_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Whether Stripe's API can be called: a key, or the demo's simulated Stripe.
    pub fn stripe_available(&self) -> bool {
        self.demo_mode || self.stripe_api_key.is_some()
    }
}

/// Demo mode swaps in simulated connectors; with real credentials configured it would leave
/// them unused while staff believe they act on real accounts, so it refuses to start.
fn check_demo(r: &mut Reader, demo: bool, env: Option<AppEnv>) {
    if !demo {
        return;
    }
    let mut set: Vec<&str> = ["STRIPE_API_KEY", "HUBSPOT_TOKEN", "ZENDESK_API_TOKEN"]
        .into_iter()
        .filter(|var| (r.lookup)(var).is_some_and(|v| !v.trim().is_empty()))
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

/// One variable that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {expected}")]
pub struct ConfigError {
    pub var: &'static str,
    pub expected: String,
}

/// Zendesk's tickets API: `{api_base}/api/v2/tickets.json`, basic auth `{email}/token:{token}`.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    pub api_base: String,
    pub email: String,
    pub token: Secret,
    pub timeout: Duration,
}

/// Every bad variable at once, so an operator fixes them in one round.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    /// The value if set and not blank.
    fn raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    fn parse<T>(
        &mut self,
        var: &'static str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.raw(var).unwrap_or_else(|| default.to_string());
        self.record(var, parse(&value))
    }

    fn optional<T>(
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

fn quoted(value: &str) -> String {
    let shown: String = value.chars().take(60).collect();
    format!("{shown:?}")
}

/// Whole numbers between 1 and `max`, as that many seconds (callers scale minutes/hours).
fn parse_secs(max: u64) -> impl Fn(&str) -> Result<Duration, String> {
    move |v| match v.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "expected a whole number between 1 and {max}, got {}",
            quoted(v)
        )),
    }
}

/// "state=stage,…" with every account state named once; stages are HubSpot's internal values.
fn parse_lifecycle(v: &str) -> Result<Vec<(crate::domain::AccountState, String)>, String> {
    use crate::domain::AccountState;
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

fn parse_http_url(v: &str) -> Result<String, String> {
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
    let timeout = r.parse("ZENDESK_TIMEOUT_MS", "10000", |v| {
        match v.trim().parse::<u64>() {
            Ok(ms) if (50..=120_000).contains(&ms) => Ok(Duration::from_millis(ms)),
            _ => Err(format!(
                "expected milliseconds from 50 to 120000, got {}",
                quoted(v)
            )),
        }
    });
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

impl Config {
    /// Reads the process environment, after loading `.env` if one exists.
    pub fn from_env() -> Result<Config, ConfigErrors> {
        load_dotenv();
        Config::from_lookup(&|var| std::env::var(var).ok())
    }

    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut r = Reader {
            lookup,
            errors: Vec::new(),
        };
        let app_env = r.parse("APP_ENV", "development", |v| {
            v.parse::<AppEnv>().map_err(|_| {
                format!(
                    "expected one of development, test, staging, production, got {}",
                    quoted(v)
                )
            })
        });
        let database_url = r.parse("DATABASE_URL", DEFAULT_DATABASE_URL, |v| {
            DatabaseUrl::parse(v).map_err(|e| format!("{e}, got {}", quoted(&redact_url(v))))
        });
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
        let stripe_api_key = r.optional("STRIPE_API_KEY", StripeApiKey::parse);
        let stripe_webhook_secrets = r
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
        let stripe_api_base = r.parse("STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE, parse_http_url);
        let stripe_webhook_tolerance =
            r.parse("STRIPE_WEBHOOK_TOLERANCE_SECS", "300", parse_secs(3600));
        let crm_provider = r.parse("CRM_PROVIDER", "none", |v| {
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
        let hubspot_timeout = r.parse("HUBSPOT_TIMEOUT_MS", "10000", |v| {
            match v.trim().parse::<u64>() {
                Ok(ms) if (50..=120_000).contains(&ms) => Ok(Duration::from_millis(ms)),
                _ => Err(format!(
                    "expected milliseconds from 50 to 120000, got {}",
                    quoted(v)
                )),
            }
        });
        let crm_lifecycle = r.parse(
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
        if matches!(crm_provider, Some(CrmProvider::Hubspot)) && hubspot_token.is_none() {
            r.errors.push(ConfigError {
                var: "HUBSPOT_TOKEN",
                expected: "required when CRM_PROVIDER=hubspot (a private-app access token)".into(),
            });
        }

        let session_idle_timeout = r.parse("SESSION_IDLE_TIMEOUT_MINS", "30", |v| {
            parse_secs(24 * 60)(v).map(|d| d * 60)
        });
        let session_absolute_timeout = r.parse("SESSION_ABSOLUTE_TIMEOUT_HOURS", "12", |v| {
            parse_secs(24 * 30)(v).map(|d| d * 3600)
        });

        let worker_count = r.parse("WORKER_COUNT", "2", |v| match v.trim().parse::<usize>() {
            Ok(n) if n <= 64 => Ok(n),
            _ => Err(format!(
                "expected a whole number from 0 to 64, got {}",
                quoted(v)
            )),
        });
        let queue_lag_warn = r.parse("QUEUE_LAG_WARN_SECS", "300", parse_secs(86_400));
        let refund_limit_billing = r.parse("REFUND_LIMIT_BILLING", "50000", |v| {
            match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => Ok(n),
                _ => Err(format!(
                    "expected an amount in minor units (50000 = 500.00), got {}",
                    quoted(v)
                )),
            }
        });
        let metrics_token = r.optional("METRICS_TOKEN", |v| {
            let v = v.trim();
            if v.len() >= 16 && v.chars().all(|c| c.is_ascii_graphic()) {
                Ok(Secret::new(v))
            } else {
                Err(
                    "expected at least 16 printable characters without spaces (value not shown)"
                        .into(),
                )
            }
        });

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
            crate::domain::tickets::routing::DEFAULT_BILLING_KEYWORDS,
            crate::domain::tickets::routing::parse_keywords,
        );
        let sla_minutes = r.parse(
            "TICKET_SLA_MINUTES",
            crate::domain::tickets::routing::DEFAULT_SLA_MINUTES,
            crate::domain::tickets::routing::parse_sla,
        );
        let zendesk = read_zendesk(&mut r);
        let demo_mode = r.parse("DEMO_MODE", "false", |v| {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" | "" => Ok(false),
                _ => Err(format!("expected true or false, got {}", quoted(v))),
            }
        });
        check_demo(&mut r, demo_mode == Some(true), app_env);
        let trusted_proxies = r.parse(
            "TRUSTED_PROXIES",
            "",
            crate::server::http::client_addr::TrustedProxies::parse,
        );

        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        // Every field parsed (an error above would have returned), so these are all Some.
        Ok(Config {
            app_env: app_env.expect("parsed"),
            database_url: database_url.expect("parsed"),
            site_addr: site_addr.expect("parsed"),
            public_url: public_url.expect("parsed"),
            log_format: log_format.expect("parsed"),
            request_timeout: request_timeout.expect("parsed"),
            stripe_api_key,
            stripe_webhook_secrets,
            stripe_api_base: stripe_api_base.expect("parsed"),
            stripe_webhook_tolerance: stripe_webhook_tolerance.expect("parsed"),
            crm_provider: crm_provider.expect("parsed"),
            hubspot_token,
            hubspot_api_base: hubspot_api_base.expect("parsed"),
            hubspot_timeout: hubspot_timeout.expect("parsed"),
            hubspot_portal_id,
            crm_lifecycle: crm_lifecycle.expect("parsed"),
            stripe_user_id_key: stripe_user_id_key.expect("parsed"),
            session_idle_timeout: session_idle_timeout.expect("parsed"),
            session_absolute_timeout: session_absolute_timeout.expect("parsed"),
            worker_count: worker_count.expect("parsed"),
            queue_lag_warn: queue_lag_warn.expect("parsed"),
            metrics_token,
            refund_limit_billing: refund_limit_billing.expect("parsed"),
            intake_rate_per_min: intake_rate_per_min.expect("parsed"),
            ticket_routing: crate::domain::tickets::RoutingRules {
                billing_keywords: billing_keywords.expect("parsed"),
                sla_minutes: sla_minutes.expect("parsed"),
            },
            zendesk,
            demo_mode: demo_mode.expect("parsed"),
            trusted_proxies: trusted_proxies.expect("parsed"),
        })
    }
}

/// Loads `.env` from the working directory if there is one; real environment variables win.
pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}

fn redact_url(v: &str) -> String {
    DatabaseUrl::Postgres { url: v.to_string() }.redacted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_give_a_working_local_setup() {
        let c = config(&[]).unwrap();
        assert_eq!(c.app_env, AppEnv::Development);
        assert_eq!(c.database_url.as_str(), DEFAULT_DATABASE_URL);
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(!c.serves_https());
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.stripe_webhook_tolerance, Duration::from_secs(300));
        assert!(c.stripe_api_key.is_none());
        assert_eq!(c.crm_provider, CrmProvider::None);
    }

    #[test]
    fn crm_settings_are_checked_together() {
        let c = config(&[]).unwrap();
        assert_eq!(c.hubspot_api_base, DEFAULT_HUBSPOT_API_BASE);
        assert_eq!(c.stripe_user_id_key, "user_id");
        let stage = |c: &Config, s: crate::domain::AccountState| {
            c.crm_lifecycle
                .iter()
                .find(|(x, _)| *x == s)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            stage(&c, crate::domain::AccountState::Active).as_deref(),
            Some("customer")
        );
        let err = config(&[("CRM_PROVIDER", "hubspot")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("HUBSPOT_TOKEN: required when CRM_PROVIDER=hubspot"),
            "{err}"
        );
        let err = config(&[("CRM_LIFECYCLE_MAP", "active=customer")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no stage for"), "{err}");
        let err = config(&[("CRM_LIFECYCLE_MAP", "active=vip")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown lifecycle stage \"vip\""), "{err}");
        let custom = config(&[(
            "CRM_LIFECYCLE_MAP",
            "none=subscriber, trialing=lead, active=customer, past_due=customer, unpaid=other, canceled=other",
        )])
        .unwrap();
        assert_eq!(
            stage(&custom, crate::domain::AccountState::None).as_deref(),
            Some("subscriber")
        );
    }

    #[test]
    fn each_bad_value_is_one_line_naming_the_variable() {
        let err = config(&[
            ("APP_ENV", "prod"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("LOG_FORMAT", "yaml"),
        ])
        .unwrap_err();
        let lines: Vec<String> = err.to_string().lines().map(String::from).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].starts_with("APP_ENV: expected one of development"));
        assert!(lines[0].ends_with("got \"prod\""));
        assert!(lines[1].starts_with("LEPTOS_SITE_ADDR: expected IP:PORT"));
        assert!(lines[2].starts_with("LOG_FORMAT: expected text or json"));
    }

    #[test]
    fn bad_secrets_are_named_but_never_echoed() {
        let err = config(&[
            ("STRIPE_API_KEY", "pk_live_publishable_not_secret_9999"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_goodgoodgood,notasecret7777"),
            ("HUBSPOT_TOKEN", "x y"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("STRIPE_API_KEY: expected"));
        assert!(err.contains("STRIPE_WEBHOOK_SECRET: expected"));
        assert!(err.contains("HUBSPOT_TOKEN: expected"));
        for leaked in ["9999", "7777", "goodgood", "x y"] {
            assert!(!err.contains(leaked), "{leaked} leaked in {err}");
        }
    }

    #[test]
    fn database_url_picks_the_backend_and_hides_passwords() {
        let c = config(&[("DATABASE_URL", "postgres://app:hunter2@db:5432/ledgerline")]).unwrap();
        assert_eq!(c.database_url.backend_name(), "postgres");
        assert_eq!(
            c.database_url.redacted(),
            "postgres://app:***@db:5432/ledgerline"
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = config(&[("DATABASE_URL", "mysql://root:pw@x/db")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("DATABASE_URL: expected sqlite://"), "{err}");
        assert!(!err.contains(":pw@"), "{err}");
    }

    #[test]
    fn stripe_settings_parse_mode_and_rotation_list() {
        let c = config(&[
            ("STRIPE_API_KEY", "sk_live_abcdefghijklmnop1234"),
            (
                "STRIPE_WEBHOOK_SECRET",
                " whsec_aaaaaaaaaaaa , whsec_bbbbbbbbbbbb ",
            ),
            ("STRIPE_WEBHOOK_TOLERANCE_SECS", "120"),
            ("PUBLIC_URL", "https://ops.example.com/"),
        ])
        .unwrap();
        assert_eq!(c.stripe_api_key.as_ref().unwrap().mode(), StripeMode::Live);
        assert_eq!(c.stripe_webhook_secrets.len(), 2);
        assert_eq!(c.stripe_webhook_tolerance, Duration::from_secs(120));
        assert_eq!(c.public_url, "https://ops.example.com");
        assert!(c.serves_https());
        assert!(!format!("{c:?}").contains("abcdefghijklmnop"));
        let err = config(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "0")]).unwrap_err();
        assert_eq!(err.0[0].var, "STRIPE_WEBHOOK_TOLERANCE_SECS");
    }

    #[test]
    fn blank_values_fall_back_to_defaults() {
        let c = config(&[("APP_ENV", "  "), ("STRIPE_API_KEY", "")]).unwrap();
        assert_eq!(c.app_env, AppEnv::Development);
        assert!(c.stripe_api_key.is_none());
    }

    #[test]
    fn demo_mode_refuses_real_credentials_without_showing_them() {
        let c = config(&[
            ("DEMO_MODE", "true"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_demo_secret_1"),
        ])
        .unwrap();
        assert!(c.demo_mode && c.stripe_available());
        assert!(!config(&[]).unwrap().stripe_available());
        let err = config(&[
            ("DEMO_MODE", "true"),
            ("STRIPE_API_KEY", "sk_live_abcdefghijklmnop"),
            ("CRM_PROVIDER", "hubspot"),
            ("HUBSPOT_TOKEN", "pat-secret-token"),
        ])
        .unwrap_err();
        let demo = err
            .0
            .iter()
            .find(|e| e.var == "DEMO_MODE")
            .expect("demo refused");
        assert!(
            demo.expected.contains("STRIPE_API_KEY, HUBSPOT_TOKEN"),
            "{}",
            demo.expected
        );
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("abcdefghijklmnop") && !shown.contains("pat-secret"));
        let prod = config(&[("DEMO_MODE", "1"), ("APP_ENV", "production")]).unwrap_err();
        assert!(prod
            .0
            .iter()
            .any(|e| e.var == "DEMO_MODE" && e.expected.contains("APP_ENV=production")));
        assert_eq!(
            config(&[("DEMO_MODE", "maybe")]).unwrap_err().0[0].var,
            "DEMO_MODE"
        );
    }
}
