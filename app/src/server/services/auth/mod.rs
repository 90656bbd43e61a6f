//! Signing in: password checks, throttling and the audit trail of every attempt.

pub mod login;
pub mod password;
pub mod throttle;
