//! Layers applied to every request.

mod api_errors;
pub mod csrf;
mod guard;
mod request_context;
pub mod security_headers;

pub use api_errors::json_errors_for_api;
pub use csrf::csrf;
pub use guard::guard;
pub use request_context::request_context;
pub use security_headers::security_headers;
