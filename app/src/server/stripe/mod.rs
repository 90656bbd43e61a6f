//! Stripe: verified webhooks in, a local billing mirror, backfill, re-sync and refunds out.

pub mod api;
pub mod backfill;
pub mod event;
mod group_commit;
pub mod handled;
pub mod ingest;
pub mod mirror;
mod process;
pub mod refunds;
pub mod resync;
pub mod signature;
pub mod webhooks;

pub use event::{EventEnvelope, EventError, StripeEventId};
pub use group_commit::{IngestError, IngestQueue};
pub use ingest::{receive, receive_batch, Incoming, Received, PROCESS_EVENT};
pub use process::ProcessEvent;
pub use signature::{sign, verify, SignatureError, SignatureHeader};
