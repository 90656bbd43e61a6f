//! The durable job queue (issue 4 core): enqueue inside the caller's transaction, claim with
//! leases, retry with capped exponential back-off and full jitter, dead-letter permanent
//! failures and unknown kinds. Workers call `run_one` in a loop; tests call it directly.

mod backoff;
mod queue;
mod registry;
mod worker;

pub use backoff::{backoff_ms, RetryPolicy};
pub use queue::{claim, enqueue, finish, run_one, ClaimedJob, NewJob, RunOutcome};
pub use registry::{JobError, JobHandler, Registry};
pub use worker::{liveness, spawn_workers, WorkerConfig};

/// Handlers by kind. Each later feature (webhook processing, CRM sync, enrichment, refunds)
/// registers its kinds here, so this is the one list of what the queue can run.
pub fn registry() -> Registry {
    Registry::new()
}

/// Job statuses as stored.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED_RETRYING: &str = "failed_retrying";
    pub const DEAD: &str = "dead";
    pub const CANCELLED: &str = "cancelled";
}
