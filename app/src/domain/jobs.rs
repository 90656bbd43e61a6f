//! Background jobs as the Jobs page shows them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    FailedRetrying,
    Dead,
    Succeeded,
    Cancelled,
}

impl JobStatus {
    /// In the order the page lists them: what needs attention first.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Dead,
        JobStatus::FailedRetrying,
        JobStatus::Running,
        JobStatus::Queued,
        JobStatus::Succeeded,
        JobStatus::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::FailedRetrying => "failed_retrying",
            JobStatus::Dead => "dead",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::FailedRetrying => "Retrying",
            JobStatus::Dead => "Dead",
            JobStatus::Succeeded => "Succeeded",
            JobStatus::Cancelled => "Cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|j| j.as_str() == s)
    }

    /// The badge colour class: ok, warn or fail.
    pub fn tone(self) -> &'static str {
        match self {
            JobStatus::Succeeded => "ok",
            JobStatus::Dead => "fail",
            JobStatus::FailedRetrying => "warn",
            JobStatus::Queued | JobStatus::Running | JobStatus::Cancelled => "neutral",
        }
    }

    /// Staff may run it again now: it failed, gave up, or was cancelled, or is waiting.
    pub fn can_retry(self) -> bool {
        matches!(
            self,
            JobStatus::Dead | JobStatus::FailedRetrying | JobStatus::Cancelled | JobStatus::Queued
        )
    }

    /// Staff may cancel it: it has not started this attempt and has not finished.
    pub fn can_cancel(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::FailedRetrying)
    }
}

/// Jobs per kind and status, for the counts table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCount {
    pub kind: String,
    pub status: JobStatus,
    pub count: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    pub customer_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: String,
    pub kind: String,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it runs next (queued, retrying) or last became due; ms since epoch, UTC.
    pub run_at_ms: i64,
    pub last_error: Option<String>,
    pub customer_id: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<JobSummary>,
    /// Pass back as `before` for the next (older) page; None when there is no more.
    pub next_before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAttemptView {
    pub attempt: i64,
    pub worker_id: String,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    /// succeeded | retry | dead
    pub outcome: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: JobSummary,
    /// Pretty JSON with secret-looking values replaced by "[redacted]".
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub locked_by: Option<String>,
    pub lease_expires_at_ms: Option<i64>,
    pub attempts: Vec<JobAttemptView>,
    /// Whether the viewer holds jobs.retry (the server checks again on every action).
    pub can_act: bool,
}
