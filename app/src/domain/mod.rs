//! Types shared by the UI (compiled to WASM) and the server. Nothing here touches I/O.

pub mod app_env;
pub mod health;

pub use app_env::{AppEnv, InstanceInfo};
pub use health::{Check, CheckStatus, Readiness};
