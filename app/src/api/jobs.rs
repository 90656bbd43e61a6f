//! The Jobs page: customer.read to look, jobs.retry to act (both declared in the access map).

use crate::domain::{JobCount, JobDetail, JobPage, JobSummary};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn job_error(e: crate::server::jobs::JobAdminError) -> ServerFnError {
    use crate::api::ctx::{internal, refuse};
    use crate::server::jobs::JobAdminError;
    match e {
        JobAdminError::NotFound => refuse(http::StatusCode::NOT_FOUND, e.to_string()),
        JobAdminError::WrongState(m) => refuse(http::StatusCode::CONFLICT, m),
        JobAdminError::Db(e) => internal("job operation", e),
    }
}

#[server(prefix = "/api/fn", endpoint = "job_counts")]
pub async fn get_job_counts() -> Result<Vec<JobCount>, ServerFnError> {
    let c = crate::api::ctx::ctx().await?;
    crate::server::jobs::counts(&c.state.db)
        .await
        .map_err(|e| crate::api::ctx::internal("job counts", e))
}

/// Flat arguments so the form encoding stays plain `key=value`.
#[server(prefix = "/api/fn", endpoint = "job_list")]
pub async fn get_job_list(
    status: Option<String>,
    kind: Option<String>,
    customer_id: Option<String>,
    before: Option<String>,
) -> Result<JobPage, ServerFnError> {
    use crate::domain::{JobFilter, JobStatus};
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
    let c = crate::api::ctx::ctx().await?;
    crate::server::jobs::list(&c.state.db, &filter, before.as_deref(), 50)
        .await
        .map_err(|e| crate::api::ctx::internal("job list", e))
}

#[server(prefix = "/api/fn", endpoint = "job_detail")]
pub async fn get_job_detail(id: String) -> Result<JobDetail, ServerFnError> {
    use crate::domain::Permission;
    let c = crate::api::ctx::ctx().await?;
    let can_act = c.actor.role().is_some_and(|r| r.can(Permission::JobsRetry));
    crate::server::jobs::detail(&c.state.db, &id, can_act)
        .await
        .map_err(job_error)
}

#[server(prefix = "/api/fn", endpoint = "job_retry")]
pub async fn retry_job(id: String) -> Result<JobSummary, ServerFnError> {
    let c = crate::api::ctx::ctx().await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::jobs::retry_now(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(job_error)
}

#[server(prefix = "/api/fn", endpoint = "job_cancel")]
pub async fn cancel_job(id: String) -> Result<JobSummary, ServerFnError> {
    let c = crate::api::ctx::ctx().await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::jobs::cancel(&c.state.db, &c.actor, &c.meta, &id, now)
        .await
        .map_err(job_error)
}
