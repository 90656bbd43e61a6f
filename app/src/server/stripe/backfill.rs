//! Backfill: page through Stripe's list APIs and apply every object to the mirror. Resumable
//! (the cursor is saved after each page, in the page's own transaction) and idempotent (the
//! same versioned upserts as webhooks, so a second run changes nothing).

use super::api::{ApiError, StripeApi};
use super::mirror::{self, objects::to_row};
use crate::server::db::Db;

/// In dependency order: charges before refunds, so refunds find their customer.
pub const RESOURCES: [&str; 5] = ["customer", "subscription", "invoice", "charge", "refund"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub resource: &'static str,
    pub pages: u64,
    /// Objects applied for this resource, across resumed runs.
    pub objects: i64,
    pub done: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Starts over: forgets every cursor. Without this, `run` resumes where the last run stopped.
pub async fn reset(db: &Db) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM stripe_backfill")
        .execute(db.pool())
        .await?;
    Ok(())
}

async fn position(
    db: &Db,
    resource: &str,
    now_ms: i64,
) -> Result<(Option<String>, bool, i64), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stripe_backfill (resource, cursor, done, objects, started_at, updated_at) \
         VALUES ($1, NULL, 0, 0, $2, $2) ON CONFLICT (resource) DO NOTHING",
    )
    .bind(resource)
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    let (cursor, done, objects): (Option<String>, i64, i64) =
        sqlx::query_as("SELECT cursor, done, objects FROM stripe_backfill WHERE resource = $1")
            .bind(resource)
            .fetch_one(db.pool())
            .await?;
    Ok((cursor, done != 0, objects))
}

/// Applies objects fetched from Stripe just now (so they count as the newest state) to the
/// mirror, linking customers and re-deriving their account state.
pub async fn apply_fetched(
    tx: &mut crate::server::db::Tx,
    resource: &str,
    objects: &[serde_json::Value],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    for object in objects {
        let row = to_row(object, now_ms / 1000);
        let stripe_customer = match resource {
            "customer" => object.get("id"),
            _ => object.get("customer"),
        }
        .and_then(|c| c.as_str().or_else(|| c.get("id").and_then(|i| i.as_str())));
        let (_, customer) = mirror::store(tx, row.as_ref(), stripe_customer, now_ms).await?;
        if let (Some(c), Some(id)) = (customer, object.get("id").and_then(|i| i.as_str())) {
            mirror::refresh_state(
                tx,
                &c,
                now_ms,
                &format!("tl_state_fetch_{id}_{now_ms}"),
                now_ms,
            )
            .await?;
        }
    }
    Ok(())
}

/// Applies one page and moves the cursor, together.
async fn apply_page(
    db: &Db,
    resource: &str,
    objects: &[serde_json::Value],
    has_more: bool,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    apply_fetched(&mut tx, resource, objects, now_ms).await?;
    let last = objects
        .last()
        .and_then(|o| o.get("id"))
        .and_then(|i| i.as_str());
    sqlx::query(
        "UPDATE stripe_backfill SET cursor = COALESCE($1, cursor), done = $2, objects = objects + $3, updated_at = $4 \
         WHERE resource = $5",
    )
    .bind(last)
    .bind(!has_more as i64)
    .bind(objects.len() as i64)
    .bind(now_ms)
    .bind(resource)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Runs (or resumes) the backfill. `on_page` sees progress after every page; `max_pages`
/// stops early (tests simulate an interruption with it). Returns each resource's progress.
pub async fn run(
    db: &Db,
    api: &StripeApi,
    page_size: u8,
    max_pages: Option<u64>,
    mut on_page: impl FnMut(&Progress),
) -> Result<Vec<Progress>, BackfillError> {
    let mut all = Vec::new();
    let mut budget = max_pages;
    for resource in RESOURCES {
        let now = chrono::Utc::now().timestamp_millis();
        let (mut cursor, done, objects) = position(db, resource, now).await?;
        let mut progress = Progress {
            resource,
            pages: 0,
            objects,
            done,
        };
        while !progress.done {
            if budget == Some(0) {
                all.push(progress);
                return Ok(all);
            }
            let (page, has_more) = api
                .list_page(resource, cursor.as_deref(), None, page_size)
                .await?;
            apply_page(
                db,
                resource,
                &page,
                has_more,
                chrono::Utc::now().timestamp_millis(),
            )
            .await?;
            cursor = page
                .last()
                .and_then(|o| o.get("id"))
                .and_then(|i| i.as_str())
                .map(str::to_string)
                .or(cursor);
            progress.pages += 1;
            progress.objects += page.len() as i64;
            progress.done = !has_more || page.is_empty();
            budget = budget.map(|b| b - 1);
            on_page(&progress);
        }
        all.push(progress);
    }
    Ok(all)
}
