//! Handles that hold the SQLite write lock (see `Db::write_lock`) for as long as they live.
//! Both dereference to the connection, so queries run on them exactly as on sqlx's own types.

use sqlx::{pool::PoolConnection, Any, AnyConnection, Transaction};
use std::ops::{Deref, DerefMut};
use tokio::sync::OwnedMutexGuard;

use super::{Backend, Placeholders};

/// A write transaction. Dropped without `commit`, it rolls back (sqlx's rule).
pub struct Tx {
    inner: Transaction<'static, Any>,
    backend: Backend,
    // Released after `inner` commits or rolls back: fields drop in declaration order.
    _write: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub(super) fn new(
        inner: Transaction<'static, Any>,
        backend: Backend,
        write: Option<OwnedMutexGuard<()>>,
    ) -> Tx {
        Tx {
            inner,
            backend,
            _write: write,
        }
    }

    /// Placeholders for SQL generated inside this transaction (see `Placeholders`).
    pub fn placeholders(&self) -> Placeholders {
        Placeholders::new(self.backend)
    }

    /// The row-locking suffix for a read-then-write of one row in this transaction (a throttle
    /// counter): PostgreSQL locks the row until commit; SQLite's writer already holds the
    /// database.
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

/// One pooled connection for single write statements.
pub struct WriteConn {
    conn: PoolConnection<Any>,
    _write: Option<OwnedMutexGuard<()>>,
}

impl WriteConn {
    pub(super) fn new(conn: PoolConnection<Any>, write: Option<OwnedMutexGuard<()>>) -> WriteConn {
        WriteConn {
            conn,
            _write: write,
        }
    }
}

impl Deref for WriteConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}
