//! Demo data: a deterministic, realistic history written through the same paths as real data —
//! Stripe-shaped events through webhook ingest and the event processor, tickets through the
//! intake service, replies through the inbox — so the demo shows what the product really does.

mod events;
mod seed;

pub use seed::{seed, SeedReport};
