//! The top of the server side: what every request and worker shares (`AppState`), the
//! connectors to third parties, built once per process, and the one list of job kinds the
//! queue can run. Lower layers never import this module; they are handed what it builds.

mod connectors;
mod jobs;
mod state;

pub use connectors::Connectors;
pub use jobs::registry;
pub use state::{AppState, Shared};
