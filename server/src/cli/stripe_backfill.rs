//! `ledgerline stripe-backfill`.

use super::resumable::{self, Pause, Stopped};
use super::{open_db, EXIT_CONFIG};
use app::server::actor::Actor;
use app::server::stripe::backfill;
use std::process::ExitCode;

pub(super) async fn run(restart: bool, page_size: u8) -> ExitCode {
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    if config.stripe.api_key.is_none() {
        eprintln!("error: STRIPE_API_KEY is not set; the backfill reads from Stripe's API");
        return ExitCode::from(EXIT_CONFIG);
    }
    let Some(api) = app::server::wiring::Connectors::build(&config, &db).stripe else {
        eprintln!("error: the Stripe API client could not be built (see the log)");
        return ExitCode::FAILURE;
    };
    let options = app::server::stripe::mirror::Options::from_config(&config);
    if restart {
        if let Err(e) = backfill::reset(&db).await {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let bar = resumable::spinner();
    let on_page = |p: &backfill::Progress| {
        bar.set_message(format!(
            "{}: page {}, {} objects{}",
            p.resource,
            p.pages,
            p.objects,
            if p.done { " — done" } else { "" }
        ));
    };
    // Rate limits and outages pause and resume from the saved cursor; other errors stop.
    let result = resumable::run(
        &bar,
        || backfill::run(&db, &api, &options, page_size, None, &on_page),
        |e| match e {
            backfill::BackfillError::Api(e) if e.is_transient() => Some(Pause {
                message: e.to_string(),
                retry_after: None,
            }),
            _ => None,
        },
    )
    .await;
    bar.finish_and_clear();
    match result {
        Ok(all) => {
            if let Err(e) = backfill::audit_run(&db, &Actor::System, Ok(&all)).await {
                eprintln!("warning: the run is not in the audit log: {e}");
            }
            for p in all {
                println!("{:<13} {} objects", p.resource, p.objects);
            }
            ExitCode::SUCCESS
        }
        Err(Stopped::Failed(e)) => {
            let _ = backfill::audit_run(&db, &Actor::System, Err(&e.to_string())).await;
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(Stopped::GaveUp) => {
            let _ = backfill::audit_run(&db, &Actor::System, Err("Stripe kept refusing")).await;
            eprintln!("error: Stripe kept refusing; run again later to resume");
            ExitCode::FAILURE
        }
    }
}
