//! The demo's sign-in password is printed in the README and by `scripts/demo.sh`, so anyone can
//! read it. An account that still has it must never sit behind a real (non-demo) server.

use crate::server::db::Db;
use crate::server::services::auth::password;

/// The password `scripts/demo.sh` gives its accounts unless DEMO_PASSWORD says otherwise.
pub const PUBLISHED_PASSWORD: &str = "ledgerline-demo-2026";

/// Emails of active staff whose password is the published one. Every active account with a
/// password is checked (one argon2 verification each, bounded to one per core), not only the
/// demo's own addresses: an admin may have copied the demo's password for a real account.
pub async fn accounts_with_published_password(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT email, password_hash FROM staff WHERE active = 1 AND password_hash IS NOT NULL ORDER BY email",
    )
    .fetch_all(db.pool())
    .await?;
    let checks = rows.into_iter().map(|(email, hash)| async move {
        password::verify(PUBLISHED_PASSWORD.to_string(), Some(hash))
            .await
            .then_some(email)
    });
    Ok(futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect())
}
