//! `ledgerline migrate`.

use super::load_config;
use crate::telemetry;
use app::server::Db;
use std::process::ExitCode;

pub(super) async fn run() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(config.server.log_format);
    let result = async {
        let db = Db::connect(&config.database.url).await?;
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
                config.database.url.redacted()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
