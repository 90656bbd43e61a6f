//! The command line. Every subcommand reads the same configuration and calls the same
//! services as the web app.

use crate::{startup::Application, telemetry};
use app::domain::CheckStatus;
use app::server::{config::Config, services, Db};
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
            Command::Serve => serve().await,
            Command::Migrate => migrate().await,
            Command::Doctor => doctor().await,
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

async fn serve() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(config.log_format);
    tracing::info!(env = %config.app_env, database = %config.database_url.redacted(), "starting");
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start: {e:#}");
            eprintln!("error: cannot start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(config.log_format);
    let result = async {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let state = db.migration_state().await?;
        db.close().await;
        anyhow::Ok(state)
    }
    .await;
    match result {
        Ok(state) => {
            println!(
                "migrations: {state:?} on {}",
                config.database_url.redacted()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn doctor() -> ExitCode {
    app::server::config::load_dotenv();
    let checks = services::doctor::run(&|var| std::env::var(var).ok()).await;
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &checks {
        println!("{:<5} {:<width$}  {}", c.status.as_str(), c.name, c.detail);
    }
    let fails = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    let warns = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Warn)
        .count();
    println!(
        "{} checks: {} ok, {warns} warn, {fails} fail",
        checks.len(),
        checks.len() - fails - warns
    );
    if fails > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
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
