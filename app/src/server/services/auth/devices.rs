//! Known devices: browsers a staff member has signed in from before. After each successful
//! sign-in the browser gets a long-lived random token (cookie `ll_device`; the table keeps its
//! SHA-256). It is not a credential, it signs no one in: it only tells the throttle that this
//! attempt comes from the account's own browser, which the account-wide key then leaves alone.

use crate::server::db::Db;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "ll_device";
/// A browser unused this long is forgotten (and its cookie expires with it).
pub const LIFETIME_MS: i64 = 180 * 86_400_000;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The device token a request carries, if its cookie is well formed.
pub fn from_cookie_header(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `token` is a device `staff_id` signed in from (and not yet forgotten).
pub async fn is_known(
    db: &Db,
    token: &str,
    staff_id: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT staff_id FROM staff_devices WHERE token_hash = $1 AND last_seen_at > $2",
    )
    .bind(hash(token))
    .bind(now_ms - LIFETIME_MS)
    .fetch_optional(db.pool())
    .await?;
    Ok(found.as_deref() == Some(staff_id))
}

/// Records a successful sign-in from this browser: refreshes a known token, or issues a new
/// one. Returns the token for the cookie.
pub async fn signed_in(
    db: &Db,
    staff_id: &str,
    presented: Option<&str>,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    if let Some(token) = presented {
        let touched = sqlx::query(
            "UPDATE staff_devices SET last_seen_at = $1 WHERE token_hash = $2 AND staff_id = $3",
        )
        .bind(now_ms)
        .bind(hash(token))
        .bind(staff_id)
        .execute(&mut *db.write().await?)
        .await?;
        if touched.rows_affected() == 1 {
            return Ok(token.to_string());
        }
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    sqlx::query(
        "INSERT INTO staff_devices (token_hash, staff_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(hash(&token))
    .bind(staff_id)
    .bind(now_ms)
    .execute(&mut *db.write().await?)
    .await?;
    Ok(token)
}

/// The `Set-Cookie` value for `token`. Sent only to server functions, where sign-in lives.
pub fn cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/api/fn; Max-Age={}; HttpOnly; SameSite=Lax{}",
        LIFETIME_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

/// Forgets every device of a staff member (deactivation).
pub async fn forget_all(tx: &mut crate::server::db::Tx, staff_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM staff_devices WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Devices unused for `LIFETIME_MS` (the cleanup job).
pub async fn delete_stale(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM staff_devices WHERE last_seen_at <= $1")
            .bind(now_ms - LIFETIME_MS)
            .execute(&mut *db.write().await?)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_token_is_read_from_the_cookies() {
        let token = "ab".repeat(32);
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            format!("ll_session=x; {COOKIE}={token}").parse().unwrap(),
        );
        assert_eq!(from_cookie_header(&h), Some(token));
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            format!("{COOKIE}=short").parse().unwrap(),
        );
        assert_eq!(from_cookie_header(&h), None);
        assert!(cookie("t", true).ends_with("; Secure"));
        assert!(cookie("t", false).contains("HttpOnly; SameSite=Lax"));
    }
}
