//! Types shared by the UI (compiled to WASM) and the server. Nothing here touches I/O.

pub mod access;
pub mod api_keys;
pub mod app_env;
pub mod audit;
pub mod billing;
pub mod compare;
pub mod crm;
pub mod customers;
pub mod email;
pub mod health;
pub mod jobs;
pub mod money;
pub mod overview;
pub mod refunds;
pub mod tickets;
pub mod time_fmt;
pub mod url;
pub mod webhooks;

pub use access::{Access, CurrentUser, OneTimeLink, Permission, Role, StaffView};
pub use api_keys::{ApiKeyView, NewApiKey, Scope};
pub use app_env::{AppEnv, InstanceInfo};
pub use audit::{AuditEntry, AuditFilter, AuditPage, Outcome};
pub use billing::AccountState;
pub use compare::{FieldComparison, SystemsComparison};
pub use crm::{
    ConflictView, ContactRef, CrmImportView, CrmPanel, CrmSyncView, DriftRow, DuplicateGroup,
};
pub use customers::{
    ChargeView, CustomerActions, CustomerFilter, CustomerPage, CustomerSummary, CustomerView,
    InvoiceView, StripeIdentity, SubscriptionView, TimelineEntry, TimelinePage, TIMELINE_SOURCES,
};
pub use email::Email;
pub use health::{Check, CheckStatus, Readiness};
pub use jobs::{JobAttemptView, JobCount, JobDetail, JobFilter, JobPage, JobStatus, JobSummary};
pub use money::{Money, MoneyError};
pub use overview::{AttentionGroup, AttentionItem, AttentionKind, OverviewData, Point};
pub use refunds::{RefundRequestView, RefundStatus, REFUND_REASONS};
pub use tickets::{
    Assignee, Category, Priority, Queue, QueueCount, Snapshot, TicketDetail, TicketFilter,
    TicketMessage, TicketPage, TicketReceipt, TicketStatus, TicketSummary,
};
pub use webhooks::{
    BackfillProgress, BackfillView, EventStatus, SuccessRate, WebhookDetail, WebhookEventView,
    WebhookFilter, WebhookPage, WebhookStats,
};
