//! `ledgerline serve` (also the default): the web app, refusing to start on a database where
//! the demo's published password still signs in.

use super::{load_config, shutdown_signal};
use crate::{startup::Application, telemetry};
use app::server::Db;
use std::process::ExitCode;

pub(super) async fn run() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(config.server.log_format);
    tracing::info!(env = %config.app_env, database = %config.database.url.redacted(), "starting");
    let demo_mode = config.demo_mode;
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start: {e:#}");
            eprintln!("error: cannot start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if !demo_mode {
        if let Err(code) = refuse_published_password(&app.state().db).await {
            return code;
        }
    }
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

/// Outside DEMO_MODE, accounts that still sign in with the demo's published password would let
/// anyone who read the README in: refuse to serve until they are removed or re-passworded.
async fn refuse_published_password(db: &Db) -> Result<(), ExitCode> {
    let found = match app::server::demo::accounts_with_published_password(db).await {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: cannot check staff passwords: {e}");
            return Err(ExitCode::FAILURE);
        }
    };
    if found.is_empty() {
        return Ok(());
    }
    tracing::error!(
        accounts = found.len(),
        "refusing to serve: demo password in use"
    );
    eprintln!(
        "error: refusing to serve outside DEMO_MODE: {} account(s) still use the demo's published password:",
        found.len()
    );
    for email in &found {
        eprintln!("  {email}");
    }
    eprintln!(
        "Run `ledgerline deactivate-demo-accounts` to deactivate them (create a real admin first\n\
         with `ledgerline create-admin` if they are the only admins). If this is a demo, start it\n\
         with DEMO_MODE=true instead."
    );
    Err(ExitCode::FAILURE)
}
