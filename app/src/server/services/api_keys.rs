//! API keys: created (shown once, stored as a SHA-256), listed, revoked — each change audited —
//! and checked on every API call, which records when the key was last used.

use crate::domain::{ApiKeyView, NewApiKey, Outcome, Permission, Scope};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::Db;
use crate::server::services::audit;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every key starts with, so a leaked one is recognisable (and secret scanners can match it).
pub const KEY_PREFIX: &str = "llk_";
/// last_used_at is written at most this often per key: one write per request would make every
/// API call a write.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("Give the key a name (1 to 80 characters).")]
    BadName,
    #[error("Choose at least one known scope.")]
    BadScopes,
    #[error("No such API key.")]
    NotFound,
    #[error("That key is already revoked.")]
    AlreadyRevoked,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(KeyError {
    denied: Denied,
    internal: [Db],
    Self::NotFound => NOT_FOUND,
    Self::AlreadyRevoked => CONFLICT,
    _ => UNPROCESSABLE_ENTITY,
});

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);
const COLUMNS: &str = "id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at";

fn view(r: Row) -> ApiKeyView {
    let (id, name, prefix, scopes, created_by, created_at_ms, last_used_at_ms, revoked_at_ms) = r;
    ApiKeyView {
        id,
        name,
        prefix,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        created_by,
        created_at_ms,
        last_used_at_ms,
        revoked_at_ms,
    }
}

/// Creates a key. The returned `key` is the only copy anywhere.
pub async fn create(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    name: &str,
    scopes: &[String],
    now_ms: i64,
) -> Result<NewApiKey, KeyError> {
    actor.require(Permission::ApikeysManage)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(KeyError::BadName);
    }
    let mut parsed: Vec<Scope> = Vec::new();
    for s in scopes {
        let scope = Scope::parse(s).ok_or(KeyError::BadScopes)?;
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    if parsed.is_empty() {
        return Err(KeyError::BadScopes);
    }
    let scopes = parsed
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let id = format!("key_{}", uuid::Uuid::new_v4().simple());
    let prefix = format!("{}…", &key[..KEY_PREFIX.len() + 6]);
    let created_by = actor.label();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(name)
    .bind(&prefix)
    .bind(hash(&key))
    .bind(&scopes)
    .bind(&created_by)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    let entry = audit::NewEntry::new(actor, meta, "apikey.created", Outcome::Ok)
        .target("api_key", &id)
        .details(serde_json::json!({ "name": name, "scopes": scopes, "prefix": prefix }));
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(NewApiKey {
        view: ApiKeyView {
            id,
            name: name.to_string(),
            prefix,
            scopes: scopes.split(' ').map(str::to_string).collect(),
            created_by: Some(created_by),
            created_at_ms: now_ms,
            last_used_at_ms: None,
            revoked_at_ms: None,
        },
        key,
    })
}

/// Every key, live ones first, newest first.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<ApiKeyView>, ReadError> {
    actor.require(Permission::ApikeysManage)?;
    Ok(list_rows(db).await?)
}

async fn list_rows(db: &Db) -> Result<Vec<ApiKeyView>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Revokes a key at once: its next call is refused.
pub async fn revoke(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    now_ms: i64,
) -> Result<ApiKeyView, KeyError> {
    actor.require(Permission::ApikeysManage)?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms)
    .bind(actor.label())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(KeyError::NotFound);
    };
    if changed == 0 {
        return Err(KeyError::AlreadyRevoked);
    }
    let entry = audit::NewEntry::new(actor, meta, "apikey.revoked", Outcome::Ok)
        .target("api_key", id)
        .details(serde_json::json!({ "name": row.1 }));
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(view(row))
}

/// Why a call's key was refused. The messages are what the caller reads.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("Send an API key: Authorization: Bearer llk_…")]
    Missing,
    #[error("This API key is not valid.")]
    Unknown,
    #[error("This API key was revoked.")]
    Revoked,
    #[error("This API key lacks the scope {0}.")]
    Scope(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks the bearer value of an API call for `scope`; returns the acting key.
pub async fn check(
    db: &Db,
    bearer: Option<&str>,
    scope: Scope,
    now_ms: i64,
) -> Result<Actor, CheckError> {
    let key = bearer
        .map(str::trim)
        .filter(|k| k.starts_with(KEY_PREFIX))
        .ok_or(Refused::Missing)?;
    type Found = (String, String, String, Option<i64>, Option<i64>);
    let row: Option<Found> = sqlx::query_as(
        "SELECT id, name, scopes, revoked_at, last_used_at FROM api_keys WHERE key_hash = $1",
    )
    .bind(hash(key))
    .fetch_optional(db.pool())
    .await?;
    let (id, name, scopes, revoked, last_used) = row.ok_or(Refused::Unknown)?;
    if revoked.is_some() {
        return Err(Refused::Revoked.into());
    }
    if !scopes.split_whitespace().any(|s| s == scope.as_str()) {
        return Err(Refused::Scope(scope.as_str()).into());
    }
    if last_used.is_none_or(|t| now_ms - t >= LAST_USED_GRANULARITY_MS) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(&id)
            .execute(&mut *db.write().await?)
            .await?;
    }
    Ok(Actor::ApiKey { id, name })
}
