//! HTTP routes that are not Leptos pages or server functions. Each handler parses the request,
//! calls one service and shapes the response: no SQL and no business rules here.

pub mod audit_export;
pub mod fallback;
pub mod health;
pub mod metrics;
pub mod plain_page;
pub mod stripe_webhook;
pub mod support_tickets;
