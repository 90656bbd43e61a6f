//! `ledgerline doctor`: reads the variables itself (not `load_config`), so a bad one is a
//! failed check in the report rather than the end of the run.

use app::domain::CheckStatus;
use app::server::views;
use std::process::ExitCode;

pub(super) async fn run() -> ExitCode {
    app::server::config::load_dotenv();
    let checks = views::doctor::run(&|var| std::env::var(var).ok()).await;
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
