//! The few statements webhook ingest writes, over either kind of write transaction: sqlx's
//! (`Tx`, both backends) or the SQLite committer's own synchronous connection
//! (`sqlite_writer`). Ingest's logic and SQL are written once against `BatchTx`; only the
//! binding of values differs.

use super::{Placeholders, Tx};
use sqlx::{any::AnyArguments, Arguments};

/// One bound value.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
}

/// A write transaction that ingest can run its statements in.
// Implemented only for this crate's two transaction types, whose callers know which one they
// hold; the futures' Send-ness follows from the concrete type, so the trait need not name it.
#[allow(async_fn_in_trait)]
pub trait BatchTx {
    type Error: std::fmt::Display;

    /// Placeholders for SQL built for this transaction's backend.
    fn placeholders(&self) -> Placeholders;

    /// Runs `sql` and returns the first column of every row (e.g. `RETURNING id`).
    async fn fetch_strings(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<String>, Self::Error>;

    /// Runs `sql`, which returns no rows.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), Self::Error>;
}

fn any_args<'q>(args: &[Arg<'q>]) -> Result<AnyArguments<'q>, sqlx::Error> {
    let mut out = AnyArguments::default();
    for arg in args {
        match *arg {
            Arg::Text(v) => out.add(v),
            Arg::OptText(v) => out.add(v),
            Arg::Int(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

impl BatchTx for Tx {
    type Error = sqlx::Error;

    fn placeholders(&self) -> Placeholders {
        Tx::placeholders(self)
    }

    async fn fetch_strings(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar_with(sql, any_args(args)?)
            .fetch_all(&mut **self)
            .await
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<(), sqlx::Error> {
        sqlx::query_with(sql, any_args(args)?)
            .execute(&mut **self)
            .await?;
        Ok(())
    }
}
