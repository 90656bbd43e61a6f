//! Configuration from environment variables (and an optional `.env`), parsed once at start-up
//! into typed values, one section per concern. A bad value is reported as one line naming the
//! variable and what was expected; a secret's value is never echoed back.

pub mod crm;
pub mod database;
mod demo;
pub mod jobs;
mod reader;
pub mod refunds;
pub mod server;
pub mod sessions;
pub mod stripe;
#[cfg(test)]
mod tests;
pub mod tickets;

use crate::domain::AppEnv;
use reader::{quoted, Reader};

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database: database::DatabaseConfig,
    pub server: server::ServerConfig,
    pub stripe: stripe::StripeConfig,
    pub crm: crm::CrmConfig,
    pub sessions: sessions::SessionConfig,
    pub jobs: jobs::JobsConfig,
    pub refunds: refunds::RefundConfig,
    pub tickets: tickets::TicketsConfig,
    /// DEMO_MODE: Stripe and the CRM are simulated in-process (never with real credentials).
    pub demo_mode: bool,
}

/// One variable that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {expected}")]
pub struct ConfigError {
    pub var: &'static str,
    pub expected: String,
}

/// Every bad variable at once, so an operator fixes them in one round.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl Config {
    /// Reads the process environment, after loading `.env` if one exists.
    pub fn from_env() -> Result<Config, ConfigErrors> {
        load_dotenv();
        Config::from_lookup(&|var| std::env::var(var).ok())
    }

    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut r = Reader::new(lookup);
        // A report lists bad variables in the order they are read. That order is kept as one
        // list here, so it does not depend on how the sections are split into files: hence
        // METRICS_TOKEN and TRUSTED_PROXIES are read apart from the rest of `server`, and
        // DEMO_MODE, read near the end, reaches `stripe` and `crm` only when they are assembled.
        let app_env = r.parse("APP_ENV", "development", |v| {
            v.parse::<AppEnv>().map_err(|_| {
                format!(
                    "expected one of development, test, staging, production, got {}",
                    quoted(v)
                )
            })
        });
        let database = database::DatabaseConfig::read(&mut r);
        let server = server::ServerConfig::read(&mut r);
        let stripe = stripe::StripeConfig::read(&mut r);
        let crm = crm::CrmConfig::read(&mut r);
        let sessions = sessions::SessionConfig::read(&mut r);
        let jobs = jobs::JobsConfig::read(&mut r);
        let refunds = refunds::RefundConfig::read(&mut r);
        let metrics_token = server::read_metrics_token(&mut r);
        let tickets = tickets::TicketsConfig::read(&mut r);
        let demo_mode = demo::read(&mut r, app_env);
        let trusted_proxies = server::read_trusted_proxies(&mut r);

        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        // Every section parsed (an error above would have returned), so these are all Some.
        let demo_mode = demo_mode.expect("parsed");
        Ok(Config {
            app_env: app_env.expect("parsed"),
            database: database.expect("parsed"),
            server: server::ServerConfig {
                metrics_token,
                trusted_proxies: trusted_proxies.expect("parsed"),
                ..server.expect("parsed")
            },
            stripe: stripe::StripeConfig {
                simulated: demo_mode,
                ..stripe.expect("parsed")
            },
            crm: crm::CrmConfig {
                simulated: demo_mode,
                ..crm.expect("parsed")
            },
            sessions: sessions.expect("parsed"),
            jobs: jobs.expect("parsed"),
            refunds: refunds.expect("parsed"),
            tickets: tickets.expect("parsed"),
            demo_mode,
        })
    }
}

/// Loads `.env` from the working directory if there is one; real environment variables win.
pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}
