//! `ledgerline seed-demo`.

use super::open_db;
use std::process::ExitCode;

pub(super) async fn run(customers: usize, seed: u64) -> ExitCode {
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    let progress = |line: &str| eprintln!("  {line}");
    let registry = app::server::wiring::registry(
        &config,
        &app::server::wiring::Connectors::build(&config, &db),
    );
    match app::server::demo::seed(&db, &config, &registry, customers, seed, &progress).await {
        Ok(r) => {
            println!(
                "Seeded {} customers ({} Stripe events), {} tickets, {} replies, {} failed jobs in {:.0} s",
                r.customers,
                r.events,
                r.tickets,
                r.replies,
                r.dead_jobs,
                started.elapsed().as_secs_f64()
            );
            if config.demo_mode && r.crm_leads + r.planted.drifted > 0 {
                println!(
                    "Simulated CRM: {} hand-made leads, {} people entered twice, {} hand edits (drift), {} duplicated contacts, {} refused emails; {} Stripe changes whose webhook never came",
                    r.crm_leads,
                    r.crm_ambiguous,
                    r.planted.drifted,
                    r.planted.duplicated,
                    r.planted.refused_emails,
                    r.planted.missed_webhooks
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
