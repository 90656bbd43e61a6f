//! `ledgerline crm-import`.

use super::resumable::{self, Pause, Stopped};
use super::{open_db, EXIT_CONFIG};
use app::server::actor::{Actor, RequestMeta};
use app::server::crm::import::{self, ImportError};
use app::server::crm::CrmError;
use app::server::services;
use std::process::ExitCode;

pub(super) async fn run(restart: bool) -> ExitCode {
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let Some(crm) = app::server::wiring::Connectors::build(&config, &db).crm else {
        eprintln!("error: no CRM is configured (CRM_PROVIDER=hubspot and HUBSPOT_TOKEN)");
        return ExitCode::from(EXIT_CONFIG);
    };
    let now = chrono::Utc::now().timestamp_millis();
    let status = match import::status(&db, &Actor::System).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A finished run is not resumed: "run it again" means a fresh scan.
    if restart || status.phase == "done" {
        if let Err(e) = import::reset(&db, now).await {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let bar = resumable::spinner();
    let on_page = |p: &import::Progress| {
        bar.set_message(format!(
            "page {}, {} contacts{}",
            p.pages,
            p.contacts,
            if p.done {
                " — linking and scanning"
            } else {
                ""
            }
        ));
    };
    let result = resumable::run(
        &bar,
        || import::run(&db, crm.as_ref(), &config, 100, None, &on_page),
        |e| match e {
            ImportError::Crm(CrmError::Transient {
                message,
                retry_after,
            }) => Some(Pause {
                message: message.clone(),
                retry_after: *retry_after,
            }),
            _ => None,
        },
    )
    .await;
    bar.finish_and_clear();
    match result {
        Ok(_) => {
            let s = import::status(&db, &Actor::System)
                .await
                .unwrap_or_default();
            // The page's "start" is audited; a run from the command line is too.
            let meta = RequestMeta::default();
            let entry = services::audit::NewEntry::new(
                &Actor::System,
                &meta,
                "crm.import_run",
                app::domain::Outcome::Ok,
            )
            .details(serde_json::json!({
                "contacts": s.contacts, "linked": s.linked, "conflicts": s.conflicts,
                "duplicates": s.duplicates, "drifted": s.drifted,
            }));
            if let Err(e) = services::audit::append_now(&db, entry).await {
                eprintln!("warning: the run is not in the audit log: {e}");
            }
            println!(
                "{} contacts read, {} linked, {} new identity conflicts, {} duplicate groups, {} customers drifted",
                s.contacts, s.linked, s.conflicts, s.duplicates, s.drifted
            );
            ExitCode::SUCCESS
        }
        Err(Stopped::Failed(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(Stopped::GaveUp) => {
            eprintln!("error: the CRM kept refusing; run again later to resume");
            ExitCode::FAILURE
        }
    }
}
