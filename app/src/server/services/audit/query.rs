use crate::domain::{AuditEntry, AuditFilter, AuditPage, Outcome, Permission};
use crate::server::actor::Actor;
use crate::server::db::Db;
use sqlx::{any::AnyRow, Row};

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(ListError {
    denied: Denied,
    internal: [Db],
    _ => INTERNAL_SERVER_ERROR,
});

const COLUMNS: &str =
    "seq, id, at, actor_kind, actor_id, actor_label, action, target_type, target_id, \
     customer_id, request_id, ip, user_agent, outcome, details";

/// Conditions shared by the page and the export. Each filter is "unset or equal", so one
/// statement serves every combination; `seq` keyset pagination means no OFFSET scans.
const WHERE: &str = "($1 IS NULL OR actor_label = $1) \
     AND ($2 IS NULL OR action = $2 OR action LIKE $3) \
     AND ($4 IS NULL OR customer_id = $4) \
     AND ($5 IS NULL OR outcome = $5) \
     AND ($6 IS NULL OR at >= $6) \
     AND ($7 IS NULL OR at < $7)";

fn clean(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Newest first; `before` is the `seq` to continue below.
pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<AuditPage, ListError> {
    actor.require(Permission::AuditRead)?;
    let limit = limit.clamp(1, 200);
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE {WHERE} AND ($8 IS NULL OR seq < $8) ORDER BY seq DESC LIMIT $9"
    );
    let rows = bind_filter(sqlx::query(&sql), filter)
        .bind(before)
        .bind(limit + 1)
        .fetch_all(db.pool())
        .await?;
    let mut entries = rows
        .iter()
        .map(entry_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let next_before = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        next_before,
    })
}

/// Oldest first after `after`, for streaming exports in batches (audit.export).
pub async fn page_after(
    db: &Db,
    actor: &Actor,
    filter: &AuditFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, ListError> {
    actor.require(Permission::AuditExport)?;
    let sql =
        format!("SELECT {COLUMNS} FROM audit_log WHERE {WHERE} AND seq > $8 ORDER BY seq LIMIT $9");
    let rows = bind_filter(sqlx::query(&sql), filter)
        .bind(after)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .iter()
        .map(entry_from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

fn bind_filter<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    f: &AuditFilter,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let action = clean(&f.action);
    let action_prefix = action
        .as_ref()
        .map(|a| format!("{}.%", a.replace('%', "").replace('_', "\\_")));
    q.bind(clean(&f.actor).map(|a| a.to_lowercase()))
        .bind(action)
        .bind(action_prefix)
        .bind(clean(&f.customer_id))
        .bind(f.outcome.map(|o| o.as_str().to_string()))
        .bind(f.from_ms)
        .bind(f.to_ms)
}

fn entry_from_row(r: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
    let outcome: String = r.try_get("outcome")?;
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        at_ms: r.try_get("at")?,
        actor_kind: r.try_get("actor_kind")?,
        actor_id: r.try_get("actor_id")?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        target_type: r.try_get("target_type")?,
        target_id: r.try_get("target_id")?,
        customer_id: r.try_get("customer_id")?,
        request_id: r.try_get("request_id")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failed),
        details: r.try_get("details")?,
    })
}
