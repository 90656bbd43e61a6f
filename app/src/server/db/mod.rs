//! The one database handle. sqlx's `Any` driver lets a single set of queries run on SQLite and
//! PostgreSQL: queries use `$1` placeholders (both accept them), portable types only
//! (BIGINT, TEXT, DOUBLE PRECISION; flags are BIGINT 0/1, times are BIGINT milliseconds since
//! the Unix epoch in UTC) and no backend-specific SQL outside this folder.

mod connect;
mod migrations;

pub use connect::DbError;
pub use migrations::{MigrationState, MIGRATOR};

use sqlx::{any::AnyPoolOptions, Any, AnyPool, Transaction};
use std::time::Duration;

use crate::server::config::DatabaseUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

pub type Tx = Transaction<'static, Any>;

impl Db {
    /// Opens the pool. SQLite files (and their folder) are created on first use.
    pub async fn connect(url: &DatabaseUrl) -> Result<Db, DbError> {
        connect::connect(url, AnyPoolOptions::new()).await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing
    /// when it upgrades a read snapshot that another writer has since made stale.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// A trivial round trip, timed, for health checks.
    pub async fn ping(&self) -> Result<Duration, sqlx::Error> {
        let started = std::time::Instant::now();
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(started.elapsed())
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        migrations::run(self).await
    }

    pub async fn migration_state(&self) -> Result<MigrationState, DbError> {
        migrations::state(self).await
    }

    /// The row-locking suffix for "take the next job" queries: PostgreSQL lets concurrent
    /// workers skip rows another worker holds; SQLite serializes writers, so it needs none.
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}
