//! Refund requests as staff see them.

use serde::{Deserialize, Serialize};

/// Stripe's refund reasons, with how the form shows them.
pub fn reason_label(reason: &str) -> &str {
    match reason {
        "requested_by_customer" => "Requested by the customer",
        "duplicate" => "Duplicate payment",
        "fraudulent" => "Fraudulent",
        other => other,
    }
}

/// Stripe's refund reasons.
pub const REFUND_REASONS: [&str; 3] = ["requested_by_customer", "duplicate", "fraudulent"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    PendingApproval,
    /// Approved (or within the requester's limit) and queued for Stripe.
    Approved,
    Executed,
    Failed,
    Rejected,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 5] = [
        RefundStatus::PendingApproval,
        RefundStatus::Approved,
        RefundStatus::Executed,
        RefundStatus::Failed,
        RefundStatus::Rejected,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RefundStatus::PendingApproval => "pending_approval",
            RefundStatus::Approved => "approved",
            RefundStatus::Executed => "executed",
            RefundStatus::Failed => "failed",
            RefundStatus::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RefundStatus::PendingApproval => "Waiting for approval",
            RefundStatus::Approved => "Approved, sending",
            RefundStatus::Executed => "Refunded",
            RefundStatus::Failed => "Failed",
            RefundStatus::Rejected => "Rejected",
        }
    }

    pub fn tone(self) -> &'static str {
        match self {
            RefundStatus::PendingApproval | RefundStatus::Approved => "warn",
            RefundStatus::Executed => "ok",
            RefundStatus::Failed => "fail",
            RefundStatus::Rejected => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<RefundStatus> {
        RefundStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Still counts against what is left to refund on the charge.
    pub fn holds_amount(self) -> bool {
        matches!(self, RefundStatus::PendingApproval | RefundStatus::Approved)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequestView {
    pub id: String,
    pub customer_id: Option<String>,
    pub charge_id: String,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub note: String,
    pub status: RefundStatus,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub stripe_refund_id: Option<String>,
    pub error: Option<String>,
    pub created_at_ms: i64,
}
