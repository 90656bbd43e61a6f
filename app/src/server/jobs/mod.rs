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
