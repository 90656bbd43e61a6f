//! The durable job queue (issue 4 core): enqueue inside the caller's transaction, claim with
//! leases, retry with capped exponential back-off and full jitter, dead-letter permanent
//! failures and unknown kinds. Workers call `run_one` in a loop; tests call it directly.

mod admin;
mod backoff;
mod queue;
mod registry;
mod worker;

pub use admin::{cancel, counts, depth_by_status, detail, list, retry_now, JobAdminError};
pub use backoff::{backoff_ms, RetryPolicy};
pub use queue::{
    claim, enqueue, enqueue_many, finish, pending, run_one, ClaimedJob, NewJob, RunOutcome,
};
pub use registry::{JobError, JobHandler, Registry};
pub use worker::{liveness, spawn_workers, WorkerConfig};

/// Handlers by kind. Each later feature (webhook processing, CRM sync, enrichment, refunds)
/// registers its kinds here, so this is the one list of what the queue can run.
/// `db` is where demo mode's simulated connectors keep their state.
pub fn registry(config: &crate::server::Config, db: &crate::server::db::Db) -> Registry {
    use crate::server::stripe;
    let registry = Registry::new()
        .register(stripe::PROCESS_EVENT, stripe::ProcessEvent::new(config, db))
        .register(
            stripe::backfill::BACKFILL_JOB,
            stripe::backfill::BackfillJob::new(config, db),
        )
        .register(
            stripe::refunds::REFUND_JOB,
            stripe::refunds::RefundJob::new(config, db),
        )
        .register(
            crate::server::services::cleanup::CLEANUP_JOB,
            crate::server::services::cleanup::Cleanup,
        );
    let registry = match crate::server::tickets::helpdesk::from_config(config) {
        Some(h) => registry.register(
            crate::server::tickets::intake::HELPDESK_COPY_JOB,
            crate::server::tickets::helpdesk::HelpdeskCopy::new(h),
        ),
        None => registry,
    };
    // Without a CRM no sync is ever enqueued; a stray one dies as "no handler" and says so.
    use crate::server::crm::{import, sync};
    match crate::server::crm::from_config(config, db) {
        Some(crm) => registry
            .register(sync::CRM_SYNC_JOB, sync::CrmSync::new(crm.clone(), config))
            .register(import::CRM_IMPORT_JOB, import::CrmImport::new(crm, config)),
        None => registry,
    }
}

/// Job statuses as stored (the names come from the one enum the UI shares).
pub mod status {
    use crate::domain::JobStatus;
    pub const QUEUED: &str = JobStatus::Queued.as_str();
    pub const RUNNING: &str = JobStatus::Running.as_str();
    pub const SUCCEEDED: &str = JobStatus::Succeeded.as_str();
    pub const FAILED_RETRYING: &str = JobStatus::FailedRetrying.as_str();
    pub const DEAD: &str = JobStatus::Dead.as_str();
    pub const CANCELLED: &str = JobStatus::Cancelled.as_str();
}
