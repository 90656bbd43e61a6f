//! tower-sessions storage in our own `sessions` table, so sessions survive restarts on both
//! backends and live in the one migrations folder.
//!
//! The table keeps only SHA-256 of each session id: the id is a bearer credential, and a copy
//! of the database (a backup, a read-only replica, an SQL injection elsewhere) must not be
//! enough to sign in as anyone. The cookie carries the id; every lookup hashes it first.

use crate::server::db::Db;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::{
    session::{Id, Record},
    session_store::{Error, ExpiredDeletion, Result},
    SessionStore,
};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        DbSessionStore { db }
    }
}

/// Database trouble, logged here with the request's span; what travels on (and could reach a
/// response) says nothing about the database.
fn backend(e: sqlx::Error) -> Error {
    tracing::error!(error = %e, "session store failed");
    Error::Backend("session store unavailable".into())
}

/// What the table stores for a session id.
fn stored_id(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are 128 random bits; on the astronomically unlikely collision, draw again.
        loop {
            let data =
                serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(stored_id(&record.id))
            .bind(data)
            .bind(expiry_ms(record))
            .execute(&mut *self.db.write().await.map_err(backend)?)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = $2, expires_at = $3",
        )
        .bind(stored_id(&record.id))
        .bind(data)
        .bind(expiry_ms(record))
        .execute(&mut *self.db.write().await.map_err(backend)?)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = chrono::Utc::now().timestamp_millis();
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(stored_id(id))
        .bind(now)
        .fetch_optional(self.db.pool())
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
                .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(stored_id(id))
            .execute(&mut *self.db.write().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&mut *self.db.write().await.map_err(backend)?)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
