//! Installation facts kept in `app_meta`.

use crate::server::db::Db;

pub const INSTALLED_AT: &str = "installed_at";

/// Records when this database was first set up; later calls keep the first value.
pub async fn record_installed_at(db: &Db, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO app_meta (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
    )
    .bind(INSTALLED_AT)
    .bind(now_ms.to_string())
    .bind(now_ms)
    .execute(&mut *db.write().await?)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM app_meta WHERE key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await
}
