//! Server functions, grouped by area. Each one is a thin door into the service layer:
//! (later: check the caller's permission) → call a service → return a DTO.

/// Where server functions are served; REST routes live elsewhere under /api/.
pub const SERVER_FN_PREFIX: &str = "/api/fn/";

pub mod system;

pub use system::{get_instance_info, get_system_status};
