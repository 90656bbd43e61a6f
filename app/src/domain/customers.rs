//! One customer as staff see them: identities, billing mirror, refunds and the timeline.

use super::{AccountState, Money, RefundRequestView};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub product_user_id: Option<String>,
    pub state: AccountState,
    pub updated_at_ms: i64,
}

impl CustomerSummary {
    /// What to call them: name, else email, else the id.
    pub fn title(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| self.id.clone())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFilter {
    /// Matches the start of an email or name, an exact id (internal, product user, Stripe, CRM
    /// contact) or a ticket number ("#1001").
    pub q: Option<String>,
    pub state: Option<AccountState>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPage {
    pub items: Vec<CustomerSummary>,
    pub next_cursor: Option<String>,
    /// Nothing matched exactly; `items` are near misses (one typo in the typed prefix).
    pub close_matches: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeIdentity {
    pub id: String,
    pub livemode: bool,
    pub deleted: bool,
}

impl StripeIdentity {
    /// The Stripe dashboard page for this customer, in the right mode.
    pub fn dashboard_url(&self) -> String {
        let mode = if self.livemode { "" } else { "test/" };
        format!("https://dashboard.stripe.com/{mode}customers/{}", self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub id: String,
    pub status: String,
    pub plan_name: Option<String>,
    pub price: Option<Money>,
    pub interval: Option<String>,
    pub quantity: Option<i64>,
    pub current_period_end_ms: Option<i64>,
    pub trial_end_ms: Option<i64>,
    pub cancel_at_period_end: bool,
    pub canceled_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub id: String,
    pub number: Option<String>,
    pub status: Option<String>,
    pub total: Option<Money>,
    pub amount_remaining: Option<Money>,
    pub attempt_count: i64,
    pub next_payment_attempt_ms: Option<i64>,
    pub hosted_url: Option<String>,
    pub created_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeView {
    pub id: String,
    pub amount: Money,
    pub refunded: i64,
    /// What a new refund request may still take: amount less refunded, executed and held.
    pub refundable: i64,
    pub status: Option<String>,
    pub disputed: bool,
    pub failure_message: Option<String>,
    pub created_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: String,
    pub at_ms: i64,
    /// billing | crm | ticket | staff | job
    pub source: String,
    pub kind: String,
    pub summary: String,
    pub amount: Option<Money>,
    /// What the entry is about (ticket, job, invoice…), for a link where the app has a page.
    pub ref_type: Option<String>,
    pub ref_id: Option<String>,
}

impl TimelineEntry {
    /// The page in this app about what the entry refers to, if there is one.
    pub fn href(&self) -> Option<String> {
        let id = self.ref_id.as_deref()?;
        match self.ref_type.as_deref()? {
            "ticket" => Some(format!("/tickets/{id}")),
            "job" => Some(format!("/jobs/{id}")),
            _ => None,
        }
    }
}

/// The timeline's sources as the filter offers them: (value, label).
pub const TIMELINE_SOURCES: [(&str, &str); 5] = [
    ("billing", "Billing"),
    ("crm", "CRM"),
    ("ticket", "Tickets"),
    ("staff", "Staff actions"),
    ("job", "Failed jobs"),
];

/// One page of a customer's timeline, newest first; `next_cursor` continues it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub next_cursor: Option<String>,
    /// The source filter applied, if any.
    pub source: Option<String>,
    /// When it was read, so "3 h ago" agrees between server and browser.
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub customer: CustomerSummary,
    pub stripe: Vec<StripeIdentity>,
    pub subscriptions: Vec<SubscriptionView>,
    pub invoices: Vec<InvoiceView>,
    pub charges: Vec<ChargeView>,
    pub refunds: Vec<RefundRequestView>,
    pub timeline: TimelinePage,
    /// Paid invoices, per currency.
    pub lifetime_paid: Vec<Money>,
    /// Monthly recurring revenue from active (or owed) subscriptions, per currency.
    pub mrr: Vec<Money>,
    pub actions: CustomerActions,
    pub crm: super::CrmPanel,
    /// The newest tickets from this customer.
    pub tickets: Vec<super::TicketSummary>,
    /// Jobs for this customer that gave up (newest first, at most 10).
    pub dead_jobs: Vec<super::JobSummary>,
}

/// What the viewer may do on the page (the server checks again on every action).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerActions {
    pub can_resync: bool,
    pub can_refund: bool,
    pub can_approve: bool,
    /// The viewer's single-refund limit in minor units; None = no limit.
    pub refund_limit: Option<i64>,
    /// Refunds need STRIPE_API_KEY.
    pub stripe_configured: bool,
    pub can_retry_jobs: bool,
}
