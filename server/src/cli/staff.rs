//! `ledgerline create-admin`, `create-staff` and `deactivate-demo-accounts`.

use super::{open_db, EXIT_CONFIG};
use app::domain::{Email, Role};
use app::server::actor::{Actor, RequestMeta};
use app::server::services::{self, staff::StaffError};
use std::process::ExitCode;

pub(super) async fn create(email: &str, name: &str, role: &str) -> ExitCode {
    let email = match Email::parse(email) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: --email: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let Ok(role) = role.parse::<Role>() else {
        eprintln!("error: --role: expected one of viewer, support, billing, admin");
        return ExitCode::from(EXIT_CONFIG);
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read the password: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let result = services::staff::create_with_password(
        &db,
        &Actor::System,
        &RequestMeta::default(),
        &email,
        name,
        role,
        &password,
    )
    .await;
    db.close().await;
    match result {
        Ok(staff) => {
            println!("created {} {} ({})", staff.role, staff.email, staff.id);
            ExitCode::SUCCESS
        }
        Err(e @ (StaffError::Db(_) | StaffError::Internal(_))) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

fn read_password() -> std::io::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12+ characters): ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if first != again {
            return Err(std::io::Error::other("the passwords do not match"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

pub(super) async fn deactivate_demo_accounts() -> ExitCode {
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let result = async {
        let mut done = Vec::new();
        for email in app::server::demo::accounts_with_published_password(&db).await? {
            let parsed = Email::parse(&email).map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
            let Some(staff) = services::staff::find_by_email(&db, &parsed).await? else {
                continue;
            };
            services::staff::set_active(
                &db,
                &Actor::System,
                &RequestMeta::default(),
                &staff.id,
                false,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
            done.push(email);
        }
        anyhow::Ok(done)
    }
    .await;
    db.close().await;
    match result {
        Ok(done) => {
            for email in &done {
                println!("deactivated {email}");
            }
            println!("{} account(s) deactivated", done.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
