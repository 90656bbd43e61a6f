//! The home page's figures: KPIs, three charts' series and the accounts that need a person.

use super::{Money, SuccessRate};
use serde::{Deserialize, Serialize};

/// A point of a chart: the start of its bucket (ms, UTC) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub at_ms: i64,
    pub value: i64,
}

/// Why an account is on the attention list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    Dunning,
    IdentityConflict,
    Drift,
    DeadJob,
}

impl AttentionKind {
    pub fn label(self) -> &'static str {
        match self {
            AttentionKind::Dunning => "In dunning",
            AttentionKind::IdentityConflict => "Identity conflict",
            AttentionKind::Drift => "CRM drift",
            AttentionKind::DeadJob => "Failed job",
        }
    }

    /// Where the whole list of this kind lives.
    pub fn list_href(self) -> &'static str {
        match self {
            AttentionKind::Dunning => "/customers?state=past_due",
            AttentionKind::IdentityConflict => "/crm?tab=conflicts",
            AttentionKind::Drift => "/crm?tab=drift",
            AttentionKind::DeadJob => "/jobs?status=dead",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionItem {
    pub kind: AttentionKind,
    pub customer_id: String,
    pub title: String,
    pub detail: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionGroup {
    pub kind: AttentionKind,
    /// How many in all; `items` holds the newest few.
    pub total: i64,
    pub items: Vec<AttentionItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewData {
    pub now_ms: i64,
    /// Per currency, from subscriptions being paid for (or owed) now.
    pub mrr: Vec<Money>,
    /// The same 30 days ago, from subscription start and end dates at today's prices.
    pub mrr_30d_ago: Vec<Money>,
    pub active_subscriptions: i64,
    pub dunning_accounts: i64,
    pub failed_payments_today: i64,
    pub refunds_7d: Vec<Money>,
    pub refunds_7d_count: i64,
    pub urgent_tickets_open: i64,
    pub webhooks_24h: SuccessRate,
    pub jobs_waiting: i64,
    pub jobs_dead: i64,
    /// The chart's currency (the largest MRR now), and MRR at the end of each of the last 90 days.
    pub mrr_currency: Option<String>,
    pub mrr_daily: Vec<Point>,
    /// Failed payments per day, last 30 days (oldest first).
    pub failed_daily: Vec<Point>,
    /// Webhook success per hour, last 24 hours: value = percent × 10 (None-free: hours without
    /// events are left out).
    pub webhooks_hourly: Vec<Point>,
    pub attention: Vec<AttentionGroup>,
}

impl OverviewData {
    /// Whether Stripe has told us anything at all (else the page explains how to connect it).
    pub fn has_billing(&self) -> bool {
        !self.mrr.is_empty()
            || self.active_subscriptions > 0
            || self.webhooks_24h.considered > 0
            || self.dunning_accounts > 0
            || !self.mrr_daily.iter().all(|p| p.value == 0)
    }
}
