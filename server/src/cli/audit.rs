//! `ledgerline audit verify`.

use super::open_db;
use app::server::services;
use std::process::ExitCode;

pub(super) async fn verify() -> ExitCode {
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let result = services::audit::verify(&db).await;
    db.close().await;
    match result {
        Ok(v) if v.ok => {
            println!("ok: {}", v.detail);
            ExitCode::SUCCESS
        }
        Ok(v) => {
            println!(
                "broken: {} (first bad entry: {})",
                v.detail,
                v.first_bad_seq.map(|s| s.to_string()).unwrap_or_default()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
