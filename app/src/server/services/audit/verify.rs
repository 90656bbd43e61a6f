use super::{chain::Canonical, GENESIS_HASH};
use crate::server::db::Db;
use sqlx::Row;

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub entries: i64,
    /// The first entry whose content, link or position is wrong.
    pub first_bad_seq: Option<i64>,
    pub detail: String,
    pub at_ms: i64,
}

const BATCH: i64 = 1000;

/// Walks every entry in order, in batches (constant memory), recomputing each hash and link,
/// then checks the head so that removing the newest entries is caught too. The result is
/// stored for /api/ready.
pub async fn verify(db: &Db) -> Result<Verification, sqlx::Error> {
    let result = walk(db).await?;
    sqlx::query(
        "INSERT INTO audit_verifications (id, at, ok, entries, first_bad_seq, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(format!("ver_{}", uuid::Uuid::new_v4().simple()))
    .bind(result.at_ms)
    .bind(result.ok as i64)
    .bind(result.entries)
    .bind(result.first_bad_seq)
    .bind(&result.detail)
    .execute(&mut *db.write().await?)
    .await?;
    Ok(result)
}

async fn walk(db: &Db) -> Result<Verification, sqlx::Error> {
    let at_ms = chrono::Utc::now().timestamp_millis();
    let broken = |seq: i64, entries: i64, detail: String| Verification {
        ok: false,
        entries,
        first_bad_seq: Some(seq),
        detail,
        at_ms,
    };
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    loop {
        let rows = sqlx::query(
            "SELECT seq, id, at, actor_kind, actor_id, actor_label, action, target_type, target_id, \
             customer_id, request_id, ip, user_agent, outcome, details, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected_seq)
        .bind(BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let entries = expected_seq - 1;
            if seq != expected_seq {
                return Ok(broken(
                    expected_seq,
                    entries,
                    format!("entry {expected_seq} is missing"),
                ));
            }
            let stored_prev: String = row.try_get("prev_hash")?;
            let stored_hash: String = row.try_get("hash")?;
            if stored_prev != prev_hash {
                return Ok(broken(
                    seq,
                    entries,
                    format!("entry {seq} does not link to entry {}", seq - 1),
                ));
            }
            let text = |name: &str| row.try_get::<String, _>(name);
            let opt = |name: &str| row.try_get::<Option<String>, _>(name);
            let (id, actor_kind, actor_label, action, outcome, details) = (
                text("id")?,
                text("actor_kind")?,
                text("actor_label")?,
                text("action")?,
                text("outcome")?,
                text("details")?,
            );
            let (actor_id, target_type, target_id, customer_id, request_id, ip, user_agent) = (
                opt("actor_id")?,
                opt("target_type")?,
                opt("target_id")?,
                opt("customer_id")?,
                opt("request_id")?,
                opt("ip")?,
                opt("user_agent")?,
            );
            let computed = Canonical {
                v: 1,
                seq,
                id: &id,
                at: row.try_get("at")?,
                actor_kind: &actor_kind,
                actor_id: actor_id.as_deref(),
                actor_label: &actor_label,
                action: &action,
                target_type: target_type.as_deref(),
                target_id: target_id.as_deref(),
                customer_id: customer_id.as_deref(),
                request_id: request_id.as_deref(),
                ip: ip.as_deref(),
                user_agent: user_agent.as_deref(),
                outcome: &outcome,
                details: &details,
                prev_hash: &stored_prev,
            }
            .hash();
            if computed != stored_hash {
                return Ok(broken(
                    seq,
                    entries,
                    format!("entry {seq} was changed after it was written"),
                ));
            }
            prev_hash = stored_hash;
            expected_seq += 1;
        }
    }
    let entries = expected_seq - 1;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    if head_seq != entries || head_hash != prev_hash {
        return Ok(broken(
            entries + 1,
            entries,
            format!("the log ends at entry {entries} but {head_seq} were written"),
        ));
    }
    Ok(Verification {
        ok: true,
        entries,
        first_bad_seq: None,
        detail: format!("{entries} entries, chain intact"),
        at_ms,
    })
}

/// The most recent stored verification, if any ran.
pub async fn last_verification(db: &Db) -> Result<Option<Verification>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT at, ok, entries, first_bad_seq, detail FROM audit_verifications ORDER BY at DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(Verification {
            at_ms: r.try_get("at")?,
            ok: r.try_get::<i64, _>("ok")? == 1,
            entries: r.try_get("entries")?,
            first_bad_seq: r.try_get("first_bad_seq")?,
            detail: r.try_get("detail")?,
        })
    })
    .transpose()
}
