//! The command line. Every subcommand reads the same configuration and calls the same
//! services as the web app.

mod api_key;
mod audit;
mod crm_import;
mod doctor;
mod migrate;
mod resumable;
mod seed_demo;
mod serve;
mod staff;
mod stripe_backfill;
mod worker;

use crate::telemetry;
use app::server::{config::Config, Db};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ledgerline",
    version,
    about = "Back-office for subscription businesses"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check configuration and connectivity; exits 1 if any check fails.
    Doctor,
    /// Create an admin account. The password is read from standard input (a prompt on a
    /// terminal), never from the command line, where other users could see it.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Create a staff account with any role (password from standard input, as for
    /// create-admin). Day-to-day, admins invite staff from the web UI instead.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "Staff member")]
        name: String,
    },
    /// Deactivate every account that still signs in with the demo's published password, so a
    /// database that once ran the demo can be served for real.
    DeactivateDemoAccounts,
    /// Run job workers only (no web server), e.g. extra processes sharing one PostgreSQL.
    Worker {
        /// Number of worker loops in this process.
        #[arg(long, default_value_t = 2)]
        count: usize,
    },
    /// Copy customers, subscriptions, invoices, charges and refunds from Stripe into the
    /// mirror. Resumes an interrupted run where it stopped; running it again changes nothing.
    StripeBackfill {
        /// Forget saved positions and start from the first page.
        #[arg(long)]
        restart: bool,
        /// Objects per list request (Stripe allows 1 to 100).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
        page_size: u8,
    },
    /// Import every CRM contact, link them to customers by the identity rules, then find
    /// duplicates and drift. Resumes an interrupted run unless --restart.
    CrmImport {
        /// Start from the first page.
        #[arg(long)]
        restart: bool,
    },
    /// Fill the database with a deterministic demo history (Stripe events through the webhook
    /// path, tickets through the intake service). Running it again adds nothing.
    SeedDemo {
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        customers: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// API keys for the product's backend (audited like the admin page).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key and print it once; only its hash is kept.
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do (repeatable): tickets:write.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id; its next call is refused.
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first broken link; exits 1 if the chain is broken.
    Verify,
}

/// Exit code for configuration errors, distinct from runtime failures (1).
const EXIT_CONFIG: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::run().await,
            Command::Migrate => migrate::run().await,
            Command::Doctor => doctor::run().await,
            Command::CreateAdmin { email, name } => staff::create(&email, &name, "admin").await,
            Command::CreateStaff { email, role, name } => staff::create(&email, &name, &role).await,
            Command::DeactivateDemoAccounts => staff::deactivate_demo_accounts().await,
            Command::Worker { count } => worker::run(count).await,
            Command::StripeBackfill { restart, page_size } => {
                stripe_backfill::run(restart, page_size).await
            }
            Command::CrmImport { restart } => crm_import::run(restart).await,
            Command::SeedDemo { customers, seed } => seed_demo::run(customers as usize, seed).await,
            Command::Audit {
                command: AuditCommand::Verify,
            } => audit::verify().await,
            Command::ApiKey { command } => api_key::run(command).await,
        }
    })
}

/// Loads configuration or prints one line per bad variable.
fn load_config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|errors| {
        for e in &errors.0 {
            eprintln!("error: {e}");
        }
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Connects and migrates, for commands that work on the database.
async fn open_db() -> Result<(Config, Db), ExitCode> {
    let config = load_config()?;
    telemetry::init(config.server.log_format);
    let db = async {
        let db = Db::connect(&config.database.url).await?;
        db.migrate().await?;
        anyhow::Ok(db)
    }
    .await
    .map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })?;
    Ok((config, db))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
