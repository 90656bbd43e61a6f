//! Server-only code: configuration, storage, the service layer and HTTP plumbing.
//! Only this module touches sqlx, HTTP clients or the environment.

pub mod actor;
pub mod auth;
pub mod config;
pub mod crm;
pub mod db;
pub mod demo;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod http;
pub mod jobs;
pub mod maintenance;
pub mod metrics;
pub mod redact;
pub mod secret;
pub mod services;
pub mod stripe;
pub mod tickets;
pub mod views;
pub mod wiring;

pub use config::Config;
pub use db::Db;
pub use error::AppError;
pub use wiring::AppState;
