//! Writing mirror rows. The version check lives inside the upsert (`WHERE stored.version <=
//! incoming.version`), so two workers applying snapshots of one object in any order end with
//! the newer one, without a read-then-write race.

use super::objects::{Row, Val};
use crate::server::db::Tx;

/// Upserts `row`; true when it was written (new, or not older than what was stored).
pub async fn upsert(tx: &mut Tx, row: &Row, now_ms: i64) -> Result<bool, sqlx::Error> {
    let names: Vec<&str> = row.cols.iter().map(|(c, _)| *c).collect();
    let placeholders: Vec<String> = (0..names.len() + 3)
        .map(|n| format!("${}", n + 1))
        .collect();
    let updates: Vec<String> = names
        .iter()
        .chain(["version", "updated_at"].iter())
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO {t} (id, {cols}, version, updated_at) VALUES ({ph}) \
         ON CONFLICT (id) DO UPDATE SET {updates} WHERE {t}.version <= excluded.version",
        t = row.table,
        cols = names.join(", "),
        ph = placeholders.join(", "),
        updates = updates.join(", "),
    );
    let mut q = sqlx::query(&sql).bind(&row.id);
    for (_, v) in &row.cols {
        q = match v {
            Val::S(s) => q.bind(s.clone()),
            Val::I(i) => q.bind(*i),
        };
    }
    let done = q.bind(&row.version).bind(now_ms).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}
