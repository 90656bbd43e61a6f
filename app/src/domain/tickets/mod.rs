//! Support tickets as staff see them: queues, priorities, statuses, the account snapshot taken
//! when the ticket arrived, and the conversation.

pub mod routing;

pub use routing::{route, Routing, RoutingRules, Signals};

use super::Money;
use serde::{Deserialize, Serialize};

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal / $label:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }

            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|x| x.as_str() == s.trim())
            }
        }
    };
}

named_enum!(
    /// Where a ticket waits. Billing-urgent is for accounts whose money is at stake now.
    Queue {
        BillingUrgent = "billing_urgent" / "Billing — urgent",
        General = "general" / "General",
    }
);

named_enum!(
    /// Ordered: a later variant is more pressing.
    Priority {
        Normal = "normal" / "Normal",
        High = "high" / "High",
        Urgent = "urgent" / "Urgent",
    }
);

named_enum!(
    /// `received` until a person acts on it; then open, pending (waiting on the customer) or solved.
    TicketStatus {
        Received = "received" / "New",
        Open = "open" / "Open",
        Pending = "pending" / "Pending",
        Solved = "solved" / "Solved",
    }
);

named_enum!(
    /// What the product says the request is about (optional in the intake API).
    Category {
        Billing = "billing" / "Billing",
        Bug = "bug" / "Bug",
        Account = "account" / "Account",
        Question = "question" / "Question",
        FeatureRequest = "feature_request" / "Feature request",
        Other = "other" / "Other",
    }
);

impl TicketStatus {
    /// What staff can move a ticket to (`received` only comes from the intake).
    pub const SETTABLE: [TicketStatus; 3] = [
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Solved,
    ];

    /// Still waiting for us: counts toward the SLA.
    pub fn is_open(self) -> bool {
        matches!(self, TicketStatus::Received | TicketStatus::Open)
    }
}

/// One client-side error the product reports with the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientError {
    pub message: String,
    pub code: Option<String>,
    pub at_ms: Option<i64>,
}

/// Where the user was in the product when they asked for help.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppContext {
    pub page: Option<String>,
    pub app_version: Option<String>,
    pub errors: Vec<ClientError>,
}

/// A payment as the snapshot remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFact {
    pub status: String,
    pub amount: Money,
    pub at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingEventFact {
    pub at_ms: i64,
    pub kind: String,
    pub summary: String,
}

/// The account as it stood when the ticket arrived (and, re-read, as it stands now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
    /// How the ticket found its customer, or why it did not.
    pub identity: String,
    pub account_state: Option<String>,
    pub plan: Option<String>,
    pub price: Option<Money>,
    pub subscription_status: Option<String>,
    pub last_payment: Option<PaymentFact>,
    pub dunning: bool,
    pub failed_payment_recent: bool,
    pub open_dispute: bool,
    pub open_refunds: i64,
    pub open_disputes: i64,
    pub recent_events: Vec<BillingEventFact>,
    pub app_context: AppContext,
}

/// A ticket in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub queue: Queue,
    pub priority: Priority,
    pub status: TicketStatus,
    pub customer_id: Option<String>,
    /// The requester as staff recognise them: name, else email, else the product's user id.
    pub requester: String,
    pub assignee_id: Option<String>,
    pub assignee: Option<String>,
    pub sla_due_ms: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl TicketSummary {
    /// Still waiting for us after its SLA due time.
    pub fn overdue(&self, now_ms: i64) -> bool {
        self.status.is_open() && now_ms > self.sla_due_ms
    }
}

/// List filters; `assignee` is a staff id, "me" or "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFilter {
    pub queue: Option<Queue>,
    pub status: Option<TicketStatus>,
    /// Only tickets still waiting for us (new or open); the default view.
    pub open_only: bool,
    pub assignee: Option<String>,
    pub priority: Option<Priority>,
    pub overdue: bool,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCount {
    pub queue: Queue,
    pub open: i64,
    pub overdue: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketPage {
    pub items: Vec<TicketSummary>,
    pub next_cursor: Option<String>,
    pub queues: Vec<QueueCount>,
    /// When the page was read, so "overdue" agrees between server and browser.
    pub now_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Customer,
    Reply,
    Note,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Customer => "customer",
            MessageKind::Reply => "reply",
            MessageKind::Note => "note",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        [MessageKind::Customer, MessageKind::Reply, MessageKind::Note]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMessage {
    pub id: String,
    pub kind: MessageKind,
    pub author: String,
    pub body: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: String,
    pub name: String,
}

/// Everything the ticket page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDetail {
    pub ticket: TicketSummary,
    pub email: Option<String>,
    pub product_user_id: Option<String>,
    pub category: Option<Category>,
    pub reasons: Vec<String>,
    pub messages: Vec<TicketMessage>,
    pub snapshot: Snapshot,
    /// The same facts read now, for comparison; None when the ticket has no customer.
    pub live: Option<Snapshot>,
    pub helpdesk_id: Option<String>,
    pub can_write: bool,
    pub assignees: Vec<Assignee>,
    pub now_ms: i64,
}

/// What the intake API answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketReceipt {
    pub id: String,
    pub number: i64,
    pub status: TicketStatus,
    pub queue: Queue,
    pub priority: Priority,
    pub sla_due_ms: i64,
    pub customer_id: Option<String>,
}
