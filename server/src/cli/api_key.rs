//! `ledgerline api-key create|list|revoke`.

use super::{open_db, ApiKeyCommand};
use app::server::actor::Actor;
use app::server::services::api_keys;
use std::process::ExitCode;

pub(super) async fn run(command: ApiKeyCommand) -> ExitCode {
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (actor, meta) = (Actor::System, app::server::actor::RequestMeta::default());
    let now = chrono::Utc::now().timestamp_millis();
    let result = match command {
        ApiKeyCommand::Create { name, scopes } => {
            api_keys::create(&db, &actor, &meta, &name, &scopes, now)
                .await
                .map(|k| {
                    eprintln!(
                        "Created {} ({}). Store it now; it is not shown again:",
                        k.view.name, k.view.id
                    );
                    println!("{}", k.key);
                })
        }
        ApiKeyCommand::List => api_keys::list(&db, &Actor::System)
            .await
            .map_err(|e| match e {
                app::server::actor::ReadError::Denied(d) => api_keys::KeyError::Denied(d),
                app::server::actor::ReadError::Db(e) => api_keys::KeyError::Db(e),
            })
            .map(|keys| {
                for k in keys {
                    println!(
                        "{}  {:<24} {:<16} {:<14} last used {}{}",
                        k.id,
                        k.name,
                        k.prefix,
                        k.scopes.join(","),
                        k.last_used_at_ms
                            .map(app::domain::time_fmt::utc)
                            .unwrap_or_else(|| "never".into()),
                        if k.revoked_at_ms.is_some() {
                            "  REVOKED"
                        } else {
                            ""
                        }
                    );
                }
            }),
        ApiKeyCommand::Revoke { id } => api_keys::revoke(&db, &actor, &meta, &id, now)
            .await
            .map(|k| println!("revoked {} ({})", k.id, k.name)),
    };
    db.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
