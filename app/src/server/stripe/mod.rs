//! Stripe: verified webhooks in, a local billing mirror, backfill, re-sync and refunds out.

pub mod api;
pub mod backfill;
pub mod event;
pub mod handled;
pub mod ingest;
pub mod mirror;
mod process;
pub mod refunds;
pub mod resync;
pub mod signature;
pub mod webhooks;

pub use event::{EventEnvelope, EventError, StripeEventId};
pub use ingest::{receive, Received, PROCESS_EVENT};
pub use process::ProcessEvent;
pub use signature::{sign, verify, SignatureError, SignatureHeader};
