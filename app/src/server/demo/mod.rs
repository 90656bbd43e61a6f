//! Demo data: a deterministic, realistic history written through the same paths as real data —
//! Stripe-shaped events through webhook ingest and the event processor, tickets through the
//! intake service, replies through the inbox — so the demo shows what the product really does.

mod events;
mod planted;
mod published_password;
mod seed;
pub mod sim_crm;
pub mod sim_stripe;

pub use planted::Planted;
pub use published_password::{accounts_with_published_password, PUBLISHED_PASSWORD};
pub use seed::{seed, stripe_history, SeedError, SeedReport};
pub use sim_crm::SimCrm;
pub use sim_stripe::SimStripe;
