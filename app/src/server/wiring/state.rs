use super::Connectors;
use crate::server::{config::Config, db::Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Shared by every request: the axum router state and, through Leptos context, every server
/// function (`expect_context::<AppState>()`). Every middleware and extractor clones it, so it
/// is one `Arc`: cloning the fields one by one (Leptos' options alone hold several `Arc<str>`)
/// cost about 7 % of the webhook route's CPU in a profile.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub leptos_options: LeptosOptions,
    /// Stripe, the CRM and the help desk: one client each for every request and job.
    pub connectors: Connectors,
    /// Group commit for webhook deliveries.
    pub ingest: crate::server::stripe::IngestQueue,
    /// Per-key rate limit of the intake API.
    pub intake_limiter: Arc<crate::server::tickets::IntakeLimiter>,
    /// What strangers may still try (per address), and their refusals counted for the audit log.
    pub refusals: Arc<crate::server::services::refusals::Refusals>,
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
