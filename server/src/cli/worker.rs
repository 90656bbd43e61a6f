//! `ledgerline worker`: job workers without the web server.

use super::{open_db, shutdown_signal};
use std::process::ExitCode;

pub(super) async fn run(count: usize) -> ExitCode {
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut handles = app::server::jobs::spawn_workers(
        db.clone(),
        std::sync::Arc::new(app::server::wiring::registry(
            &config,
            &app::server::wiring::Connectors::build(&config, &db),
        )),
        app::server::jobs::WorkerConfig::with_count(count.max(1)),
        stopped.clone(),
    );
    handles.push(app::server::maintenance::cleanup::schedule(
        db.clone(),
        stopped,
    ));
    shutdown_signal().await;
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    db.close().await;
    ExitCode::SUCCESS
}
