//! A synchronous SQLite connection for the webhook committer's own thread (SQLite files only).
//!
//! Through sqlx every statement is a message to the connection's worker thread and every
//! result row a message back, each of which can wake a parked thread; a webhook batch made a
//! dozen such hops, and on two cores the wake-ups cost more than any code of ours (the profile
//! is in BENCHMARKS.md, "A committer thread"). Driving the connection from one thread with no
//! hops leaves only SQLite's own work. It takes this process's write lock like every other
//! writer (`Db::begin`), so writes still queue in one line, and it runs the same SQL as sqlx
//! does (`BatchTx`).

use super::batch::{Arg, BatchTx};
use super::{connect, Backend, Db, Placeholders};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OpenFlags, ToSql, Transaction, TransactionBehavior};
use std::sync::Arc;

/// Distinct batch sizes each get their own statement text; this keeps every size prepared.
const STATEMENT_CACHE: usize = 512;

pub struct SqliteWriter {
    conn: Connection,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl SqliteWriter {
    /// Opens a writer on `db`'s file, with the pragmas every connection of ours gets. None
    /// where `db` is not a SQLite file (PostgreSQL, in-memory SQLite).
    pub fn open(db: &Db) -> Option<Result<SqliteWriter, rusqlite::Error>> {
        let path = db.sqlite_file.as_ref()?;
        let open = || -> Result<SqliteWriter, rusqlite::Error> {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.execute_batch(connect::SQLITE_PRAGMAS)?;
            conn.execute_batch(super::checkpoint::WRITER_PRAGMAS)?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            Ok(SqliteWriter {
                conn,
                lock: db.write_lock.clone(),
            })
        };
        Some(open())
    }

    /// Starts a `BEGIN IMMEDIATE` transaction, first taking the process's write lock. Blocks:
    /// call it off the async runtime. Dropped without `commit`, it rolls back.
    pub fn begin(&mut self) -> Result<SqliteWriteTx<'_>, rusqlite::Error> {
        let SqliteWriter { conn, lock } = self;
        let turn = lock.as_ref().map(|lock| lock.blocking_lock());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(SqliteWriteTx { tx, _turn: turn })
    }
}

/// A write transaction on the committer's connection.
pub struct SqliteWriteTx<'c> {
    tx: Transaction<'c>,
    // Released after `tx` commits or rolls back: fields drop in declaration order.
    _turn: Option<tokio::sync::MutexGuard<'c, ()>>,
}

impl SqliteWriteTx<'_> {
    pub fn commit(self) -> Result<(), rusqlite::Error> {
        self.tx.commit()
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Arg::Text(v) => v.to_sql(),
            Arg::OptText(v) => v.to_sql(),
            Arg::Int(v) => v.to_sql(),
        }
    }
}

impl BatchTx for SqliteWriteTx<'_> {
    type Error = rusqlite::Error;

    fn placeholders(&self) -> Placeholders {
        Placeholders::new(Backend::Sqlite)
    }

    async fn fetch_strings(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<String>, rusqlite::Error> {
        let mut statement = self.tx.prepare_cached(sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(args), |row| row.get(0))?;
        rows.collect()
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), rusqlite::Error> {
        self.tx
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(args))?;
        Ok(())
    }
}
