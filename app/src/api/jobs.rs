//! The Jobs page: customer.read to look, jobs.retry to act.

use crate::domain::{JobCount, JobDetail, JobPage, JobSummary};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "job_counts")]
pub async fn get_job_counts() -> Result<Vec<JobCount>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::jobs::counts(&c.state.db, &c.actor)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Flat arguments so the form encoding stays plain `key=value`.
#[server(prefix = "/api/fn", endpoint = "job_list")]
pub async fn get_job_list(
    status: Option<String>,
    kind: Option<String>,
    customer_id: Option<String>,
    before: Option<String>,
) -> Result<JobPage, ServerFnError> {
    use crate::domain::{JobFilter, JobStatus, Permission};
    let c = crate::api::ctx::require(Permission::CustomerRead).await?;
    let status = match status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(JobStatus::parse(&s).ok_or_else(|| {
            crate::api::ctx::bad_input(format!(
                "Unknown status {:?}.",
                s.chars().take(30).collect::<String>()
            ))
        })?),
    };
    let filter = JobFilter {
        status,
        kind: kind.filter(|s| !s.is_empty()),
        customer_id: customer_id.filter(|s| !s.is_empty()),
    };
    crate::server::jobs::list(&c.state.db, &c.actor, &filter, before.as_deref(), 50)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "job_detail")]
pub async fn get_job_detail(id: String) -> Result<JobDetail, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::CustomerRead).await?;
    crate::server::jobs::detail(&c.state.db, &c.actor, &id)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "job_retry")]
pub async fn retry_job(id: String) -> Result<JobSummary, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::JobsRetry).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::jobs::retry_now(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "job_cancel")]
pub async fn cancel_job(id: String) -> Result<JobSummary, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::JobsRetry).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::jobs::cancel(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(crate::api::ctx::fail)
}
