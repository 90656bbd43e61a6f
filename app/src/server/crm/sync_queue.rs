//! Asking for a `crm.sync` of one customer. Billing changes, sign-ups, identity decisions and
//! the import's links all ask here, inside their own transaction; the job itself is `sync`.

use crate::server::db::Tx;
use crate::server::jobs::{self, NewJob};
use serde_json::json;

pub const CRM_SYNC_JOB: &str = "crm.sync";

/// Asks for a sync of `customer_id` inside the caller's transaction. While one waits, this is a
/// no-op (it will read the newest facts when it runs); while one is running (it may have read
/// the facts already), one more is queued behind it.
pub async fn enqueue(
    tx: &mut Tx,
    customer_id: &str,
    cause: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    for key in [
        format!("{CRM_SYNC_JOB}:{customer_id}"),
        format!("{CRM_SYNC_JOB}:{customer_id}:next"),
    ] {
        let pending: Option<String> = sqlx::query_scalar(
            "SELECT status FROM jobs WHERE dedupe_key = $1 AND status IN ('queued', 'running', 'failed_retrying')",
        )
        .bind(&key)
        .fetch_optional(&mut **tx)
        .await?;
        match pending.as_deref() {
            None => {
                let mut job = NewJob::new(
                    CRM_SYNC_JOB,
                    json!({ "customer_id": customer_id, "cause": cause }),
                    now_ms,
                );
                job.dedupe_key = Some(key);
                job.customer_id = Some(customer_id.to_string());
                // Idempotent and cheap to repeat: keep trying through a long CRM outage
                // (back-off is capped at an hour, so 25 attempts span about a day).
                job.max_attempts = 25;
                jobs::enqueue(tx, job, now_ms).await?;
                return Ok(());
            }
            Some("running") => continue,
            Some(_) => return Ok(()),
        }
    }
    Ok(())
}
