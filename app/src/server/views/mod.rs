//! Read models: what the pages and status checks show, assembled across features (billing
//! mirror, CRM, tickets, the queue). They sit above every feature and below the wiring, so a
//! feature never imports one.

pub mod compare;
pub mod customers;
pub mod doctor;
pub mod health;
pub mod metrics;
pub mod overview;
