//! Stripe webhook deliveries as the Webhooks page shows them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored; processing is queued or retrying.
    Received,
    Processed,
    /// Processing gave up; replay after fixing the cause.
    Failed,
    /// A type Ledgerline does not mirror.
    Ignored,
    /// From the other Stripe mode than the API key.
    Rejected,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Failed,
        EventStatus::Rejected,
        EventStatus::Received,
        EventStatus::Processed,
        EventStatus::Ignored,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventStatus::Received => "received",
            EventStatus::Processed => "processed",
            EventStatus::Failed => "failed",
            EventStatus::Ignored => "ignored",
            EventStatus::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventStatus::Received => "Queued",
            EventStatus::Processed => "Processed",
            EventStatus::Failed => "Failed",
            EventStatus::Ignored => "Ignored",
            EventStatus::Rejected => "Rejected",
        }
    }

    pub fn tone(self) -> &'static str {
        match self {
            EventStatus::Processed => "ok",
            EventStatus::Failed | EventStatus::Rejected => "fail",
            EventStatus::Received => "warn",
            EventStatus::Ignored => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<EventStatus> {
        EventStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Only events we mirror, from the right mode, can be processed again.
    pub fn can_replay(self) -> bool {
        matches!(
            self,
            EventStatus::Processed | EventStatus::Failed | EventStatus::Received
        )
    }
}

/// Processed share of the events that needed processing in a window; None when there were none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SuccessRate {
    pub processed: i64,
    pub considered: i64,
}

impl SuccessRate {
    pub fn percent(self) -> Option<f64> {
        (self.considered > 0).then(|| self.processed as f64 * 100.0 / self.considered as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookStats {
    pub last_24h: SuccessRate,
    pub last_7d: SuccessRate,
    /// Events per status, all time.
    pub by_status: Vec<(EventStatus, i64)>,
    /// Redeliveries of events already stored, all time.
    pub duplicates_dropped: i64,
    /// Events refused for coming from the other Stripe mode, last 7 days.
    pub mode_mismatches_7d: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookFilter {
    pub status: Option<EventStatus>,
    /// Exact type, or a prefix ending in a dot (`invoice.`).
    pub event_type: Option<String>,
    pub stripe_customer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventView {
    pub id: String,
    pub event_type: String,
    pub status: EventStatus,
    pub status_reason: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub stripe_customer: Option<String>,
    pub livemode: bool,
    pub duplicates: i64,
    pub received_at_ms: i64,
    pub processed_at_ms: Option<i64>,
    pub job_id: Option<String>,
    pub attempts: Option<i64>,
    pub job_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPage {
    pub events: Vec<WebhookEventView>,
    pub next_before: Option<String>,
}

/// One resource's backfill position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillProgress {
    pub resource: String,
    pub done: bool,
    pub objects: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillView {
    pub progress: Vec<BackfillProgress>,
    /// A backfill job is queued or running.
    pub running: bool,
    /// The viewer may start one (settings.manage) and an API key is configured.
    pub can_start: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDetail {
    pub event: WebhookEventView,
    /// Pretty JSON, secret-looking values redacted.
    pub payload: String,
    pub api_version: Option<String>,
    pub can_replay: bool,
}
