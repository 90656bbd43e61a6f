//! Backfill: page through Stripe's list APIs and apply every object to the mirror. Resumable
//! (the cursor is saved after each page, in the page's own transaction) and idempotent (the
//! same versioned upserts as webhooks, so a second run changes nothing).

use super::api::{ApiError, StripeApi};
use super::mirror::{self, apply_fetched};
use crate::domain::Permission;
use crate::server::actor::{Actor, ReadError};
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
        .execute(&mut *db.write().await?)
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
    .execute(&mut *db.write().await?)
    .await?;
    let (cursor, done, objects): (Option<String>, i64, i64) =
        sqlx::query_as("SELECT cursor, done, objects FROM stripe_backfill WHERE resource = $1")
            .bind(resource)
            .fetch_one(db.pool())
            .await?;
    Ok((cursor, done != 0, objects))
}

/// Applies one page and moves the cursor, together.
async fn apply_page(
    db: &Db,
    options: &mirror::Options,
    resource: &str,
    objects: &[serde_json::Value],
    has_more: bool,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    apply_fetched(&mut tx, objects, options, now_ms).await?;
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
    options: &mirror::Options,
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
                options,
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

pub const BACKFILL_JOB: &str = "stripe.backfill";

/// Where each resource stands, for the Webhooks page.
pub async fn status(
    db: &Db,
    actor: &Actor,
) -> Result<Vec<crate::domain::BackfillProgress>, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(status_rows(db).await?)
}

async fn status_rows(db: &Db) -> Result<Vec<crate::domain::BackfillProgress>, sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> =
        sqlx::query_as("SELECT resource, done, objects, updated_at FROM stripe_backfill")
            .fetch_all(db.pool())
            .await?;
    Ok(RESOURCES
        .iter()
        .filter_map(|r| rows.iter().find(|row| row.0 == *r))
        .map(
            |(resource, done, objects, updated)| crate::domain::BackfillProgress {
                resource: resource.clone(),
                done: *done != 0,
                objects: *objects,
                updated_at_ms: *updated,
            },
        )
        .collect())
}

/// A backfill job is queued, running or waiting to retry.
pub async fn running(db: &Db, actor: &Actor) -> Result<bool, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(running_rows(db).await?)
}

async fn running_rows(db: &Db) -> Result<bool, sqlx::Error> {
    crate::server::jobs::pending(db, BACKFILL_JOB).await
}

/// Records a backfill run made outside the job (the CLI): who, outcome, objects per resource.
pub async fn audit_run(
    db: &Db,
    actor: &crate::server::actor::Actor,
    result: Result<&[Progress], &str>,
) -> Result<(), sqlx::Error> {
    use crate::domain::Outcome;
    use crate::server::services::audit;
    let (outcome, details) = match result {
        Ok(all) => (
            Outcome::Ok,
            serde_json::json!({ "objects": all.iter().map(|p| (p.resource, p.objects)).collect::<std::collections::BTreeMap<_, _>>() }),
        ),
        Err(e) => (Outcome::Failed, serde_json::json!({ "error": e })),
    };
    let meta = crate::server::actor::RequestMeta::default();
    let entry =
        audit::NewEntry::new(actor, &meta, "billing.backfill_run", outcome).details(details);
    audit::append_now(db, entry).await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("Set STRIPE_API_KEY first: the backfill reads from Stripe's API.")]
    NotConfigured,
    #[error("A backfill is already running.")]
    AlreadyRunning,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(StartError {
    denied: Denied,
    internal: [Db],
    _ => CONFLICT,
});

/// Queues a full backfill from the first page (audited). Refused without an API key and while
/// one is pending. Returns the job id.
pub async fn start(
    db: &Db,
    api_configured: bool,
    actor: &crate::server::actor::Actor,
    meta: &crate::server::actor::RequestMeta,
    now_ms: i64,
) -> Result<String, StartError> {
    actor.require(Permission::SettingsManage)?;
    use crate::server::jobs::{self, NewJob};
    if !api_configured {
        return Err(StartError::NotConfigured);
    }
    let mut tx = db.begin().await?;
    let mut job = NewJob::new(BACKFILL_JOB, serde_json::json!({ "restart": true }), now_ms);
    job.dedupe_key = Some(BACKFILL_JOB.into());
    // Hours of paging may hit many 429s; give it room.
    job.max_attempts = 50;
    let id = jobs::enqueue(&mut tx, job, now_ms)
        .await?
        .ok_or(StartError::AlreadyRunning)?;
    sqlx::query("DELETE FROM stripe_backfill")
        .execute(&mut *tx)
        .await?;
    let entry = crate::server::services::audit::NewEntry::new(
        actor,
        meta,
        "billing.backfill_started",
        crate::domain::Outcome::Ok,
    )
    .target("job", &id);
    crate::server::services::audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(id)
}

/// The `stripe.backfill` job: runs (resumes) the backfill; a rate limit or outage hands the
/// job back to the queue's back-off with the cursor kept.
pub struct BackfillJob {
    api: Option<StripeApi>,
    options: mirror::Options,
}

impl BackfillJob {
    pub fn new(api: Option<StripeApi>, options: mirror::Options) -> Self {
        BackfillJob { api, options }
    }
}

#[async_trait::async_trait]
impl crate::server::jobs::JobHandler for BackfillJob {
    fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }

    async fn run(
        &self,
        db: &Db,
        _job_id: &str,
        _payload: serde_json::Value,
    ) -> Result<(), crate::server::jobs::JobError> {
        use crate::server::jobs::JobError;
        let api = self
            .api
            .as_ref()
            .ok_or_else(|| JobError::Permanent("STRIPE_API_KEY is not set".into()))?;
        match run(db, api, &self.options, 100, None, |_| {}).await {
            Ok(_) => Ok(()),
            Err(BackfillError::Api(e)) if e.is_transient() => {
                Err(JobError::transient(e.to_string()))
            }
            Err(BackfillError::Api(e)) => Err(JobError::Permanent(e.to_string())),
            Err(BackfillError::Db(e)) => Err(JobError::transient(format!("database: {e}"))),
        }
    }
}
