//! The Ledgerline binary: command line, HTTP router and start-up. Business rules live in
//! `app::server::services`; this crate wires them to the outside world.

pub mod cli;
pub mod extract;
pub mod middleware;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod telemetry;
