//! The CRM import: reads every contact into `crm_contacts` (resumable: the cursor is saved
//! with each page), then links them to customers by the identity rules, finds duplicates and
//! measures drift. It is both the CRM backfill and the duplicates/drift scan.

use super::contacts::remember;
use super::{drift, duplicates, identity, Crm, CrmError};
use crate::domain::Permission;
use crate::server::actor::{Actor, ReadError};
use crate::server::db::{Db, Tx};
use serde_json::Value;

pub const CRM_IMPORT_JOB: &str = "crm.import";
const ROW: &str = "contacts";

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Crm(#[from] CrmError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Where a run stands after each page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub pages: u64,
    pub contacts: i64,
    pub done: bool,
}

/// Starts a fresh run: the next `run` reads from the first page.
pub async fn reset(db: &Db, now_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    reset_in(&mut tx, now_ms).await?;
    tx.commit().await
}

async fn reset_in(tx: &mut Tx, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM crm_import")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO crm_import (id, cursor, phase, contacts, linked, conflicts, duplicates, drifted, started_at, updated_at) \
         VALUES ($1, NULL, 'importing', 0, 0, 0, 0, 0, $2, $2)",
    )
    .bind(ROW)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Runs or resumes the import. `max_pages` stops early (tests interrupt it so); `on_page`
/// sees progress after every page. A finished run does nothing until `reset`.
pub async fn run(
    db: &Db,
    crm: &dyn Crm,
    config: &crate::server::Config,
    page_size: u32,
    max_pages: Option<u64>,
    mut on_page: impl FnMut(&Progress),
) -> Result<Progress, ImportError> {
    let now = chrono::Utc::now().timestamp_millis();
    let row: Option<(Option<String>, String, i64, i64)> =
        sqlx::query_as("SELECT cursor, phase, contacts, started_at FROM crm_import WHERE id = $1")
            .bind(ROW)
            .fetch_optional(db.pool())
            .await?;
    let (mut cursor, phase, contacts, started) = match row {
        Some(r) => r,
        None => {
            reset(db, now).await?;
            (None, "importing".to_string(), 0, now)
        }
    };
    let mut progress = Progress {
        pages: 0,
        contacts,
        done: phase == "done",
    };
    let mut budget = max_pages;
    while !progress.done {
        if budget == Some(0) {
            return Ok(progress);
        }
        let (page, next) = crm.list(cursor.as_deref(), page_size).await?;
        let mut tx = db.begin().await?;
        for c in &page {
            remember(&mut tx, &c.id, &c.properties, started).await?;
        }
        sqlx::query(
            "UPDATE crm_import SET cursor = $1, contacts = contacts + $2, updated_at = $3 WHERE id = $4",
        )
        .bind(next.as_deref())
        .bind(page.len() as i64)
        .bind(chrono::Utc::now().timestamp_millis())
        .bind(ROW)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        progress.pages += 1;
        progress.contacts += page.len() as i64;
        progress.done = next.is_none();
        cursor = next;
        budget = budget.map(|b| b - 1);
        if progress.done {
            finish(db, config, started).await?;
        }
        on_page(&progress);
    }
    Ok(progress)
}

/// After the last page: forget contacts the CRM no longer has, link, and scan.
async fn finish(db: &Db, config: &crate::server::Config, started: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM crm_contacts WHERE seen_at < $1")
        .bind(started)
        .execute(&mut *db.write().await?)
        .await?;
    let now = chrono::Utc::now().timestamp_millis();
    let linked = identity::link_imported(db, now).await?;
    let drifted = drift::scan(db, config, now).await?;
    let groups = duplicates::groups_rows(db).await?.len() as i64;
    sqlx::query(
        "UPDATE crm_import SET phase = 'done', linked = $1, conflicts = $2, duplicates = $3, drifted = $4, \
         updated_at = $5, finished_at = $5 WHERE id = $6",
    )
    .bind(linked.linked)
    .bind(linked.conflicts)
    .bind(groups)
    .bind(drifted)
    .bind(now)
    .bind(ROW)
    .execute(&mut *db.write().await?)
    .await?;
    Ok(())
}

/// The import's state for the CRM page.
pub async fn status(db: &Db, actor: &Actor) -> Result<crate::domain::CrmImportView, ReadError> {
    actor.require(Permission::CustomerRead)?;
    Ok(status_rows(db).await?)
}

async fn status_rows(db: &Db) -> Result<crate::domain::CrmImportView, sqlx::Error> {
    type Row = (String, i64, i64, i64, i64, i64, i64, i64, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT phase, contacts, linked, conflicts, duplicates, drifted, started_at, updated_at, finished_at \
         FROM crm_import WHERE id = $1",
    )
    .bind(ROW)
    .fetch_optional(db.pool())
    .await?;
    let mut v = crate::domain::CrmImportView {
        running: crate::server::jobs::pending(db, CRM_IMPORT_JOB).await?,
        phase: "never".into(),
        ..Default::default()
    };
    if let Some((
        phase,
        contacts,
        linked,
        conflicts,
        duplicates,
        drifted,
        started,
        updated,
        finished,
    )) = row
    {
        v.phase = phase;
        v.contacts = contacts;
        v.linked = linked;
        v.conflicts = conflicts;
        v.duplicates = duplicates;
        v.drifted = drifted;
        v.started_at_ms = Some(started);
        v.updated_at_ms = Some(updated);
        v.finished_at_ms = finished;
    }
    Ok(v)
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No CRM is configured (CRM_PROVIDER).")]
    NotConfigured,
    #[error("An import is already running.")]
    AlreadyRunning,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(StartError {
    denied: Denied,
    internal: [Db],
    _ => CONFLICT,
});

/// Queues an import from the first page (audited). Returns the job id.
pub async fn start(
    db: &Db,
    configured: bool,
    actor: &crate::server::actor::Actor,
    meta: &crate::server::actor::RequestMeta,
    now_ms: i64,
) -> Result<String, StartError> {
    actor.require(Permission::SettingsManage)?;
    use crate::server::jobs::{self, NewJob};
    use crate::server::services::audit;
    if !configured {
        return Err(StartError::NotConfigured);
    }
    let mut tx = db.begin().await?;
    let mut job = NewJob::new(CRM_IMPORT_JOB, serde_json::json!({}), now_ms);
    job.dedupe_key = Some(CRM_IMPORT_JOB.into());
    job.max_attempts = 50;
    let id = jobs::enqueue(&mut tx, job, now_ms)
        .await?
        .ok_or(StartError::AlreadyRunning)?;
    reset_in(&mut tx, now_ms).await?;
    let entry = audit::NewEntry::new(
        actor,
        meta,
        "crm.import_started",
        crate::domain::Outcome::Ok,
    )
    .target("job", &id);
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(id)
}

/// The `crm.import` job: runs (resumes) the import; rate limits and outages go to the queue's
/// back-off with the cursor kept.
pub struct CrmImport {
    crm: std::sync::Arc<dyn Crm>,
    config: std::sync::Arc<crate::server::Config>,
}

impl CrmImport {
    pub fn new(crm: std::sync::Arc<dyn Crm>, config: &crate::server::Config) -> Self {
        CrmImport {
            crm,
            config: std::sync::Arc::new(config.clone()),
        }
    }
}

#[async_trait::async_trait]
impl crate::server::jobs::JobHandler for CrmImport {
    fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }

    async fn run(
        &self,
        db: &Db,
        _job_id: &str,
        _payload: Value,
    ) -> Result<(), crate::server::jobs::JobError> {
        use crate::server::jobs::JobError;
        match run(db, self.crm.as_ref(), &self.config, 100, None, |_| {}).await {
            Ok(_) => Ok(()),
            Err(ImportError::Crm(e)) => Err(e.into()),
            Err(ImportError::Db(e)) => Err(JobError::transient(format!("database: {e}"))),
        }
    }
}
