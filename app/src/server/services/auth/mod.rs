//! Signing in: password checks, throttling, known devices, and the audit trail.

pub mod accounts;
pub mod devices;
pub mod login;
pub mod password;
pub mod throttle;
