//! The one database handle. sqlx's `Any` driver lets a single set of queries run on SQLite and
//! PostgreSQL: queries use `$1` placeholders (both accept them), portable types only
//! (BIGINT, TEXT, DOUBLE PRECISION; flags are BIGINT 0/1, times are BIGINT milliseconds since
//! the Unix epoch in UTC) and no backend-specific SQL outside this folder.

mod checkpoint;
mod connect;
pub mod keyset;
mod migrations;

pub use connect::DbError;
pub use migrations::{MigrationState, MIGRATOR};

mod write;

pub use write::{Tx, WriteConn};

mod placeholders;
pub use placeholders::Placeholders;

pub mod batch;
mod sqlite_writer;
pub use sqlite_writer::SqliteWriter;

use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;

use crate::server::config::database::DatabaseUrl;

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
    /// SQLite's writers' own connection (see `connect`); None on PostgreSQL.
    writer: Option<AnyPool>,
    backend: Backend,
    /// SQLite allows one writer at a time. Writers in this process queue here, first come first
    /// served, instead of in SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 …
    /// ms) and so turned a 2 ms wait into a 20 ms one. Other processes (the CLI) still meet the
    /// busy timeout. PostgreSQL has row locks and needs none.
    write_lock: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The database file, for connections made outside sqlx (`SqliteWriter`); None on
    /// PostgreSQL and for in-memory SQLite.
    sqlite_file: Option<std::path::PathBuf>,
}

impl Db {
    /// Opens the pool. SQLite files (and their folder) are created on first use.
    pub async fn connect(url: &DatabaseUrl) -> Result<Db, DbError> {
        connect::connect(url).await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. On SQLite it first queues for this process's write
    /// lock, then takes SQLite's up front (`BEGIN IMMEDIATE`), so a writer never fails when it
    /// upgrades a read snapshot that another writer has since made stale.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let guard = self.write_guard().await;
        let inner = match self.backend {
            Backend::Sqlite => self.write_pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx::new(inner, self.backend, guard))
    }

    /// A connection for one write statement outside a transaction (heartbeats, sessions):
    /// on SQLite it holds the same write lock as `begin`.
    pub async fn write(&self) -> Result<WriteConn, sqlx::Error> {
        let guard = self.write_guard().await;
        let conn = self.write_pool().acquire().await?;
        Ok(WriteConn::new(conn, guard))
    }

    fn write_pool(&self) -> &AnyPool {
        self.writer.as_ref().unwrap_or(&self.pool)
    }

    async fn write_guard(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
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
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await
    }
}
