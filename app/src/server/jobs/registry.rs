use crate::server::db::Db;
use async_trait::async_trait;
use std::{collections::HashMap, sync::Arc, time::Duration};

/// How a handler failed, which decides what happens next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// Retrying cannot help (bad request, not found, validation): straight to dead.
    #[error("{0}")]
    Permanent(String),
    /// Timeouts, 429s, 5xx: retried with back-off, no sooner than `retry_after`.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> Self {
        JobError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }
}

#[async_trait]
pub trait JobHandler: Send + Sync {
    /// The longest one run may take before it is abandoned as a transient failure.
    fn deadline(&self) -> Duration {
        Duration::from_secs(30)
    }
    async fn run(&self, db: &Db, job_id: &str, payload: serde_json::Value) -> Result<(), JobError>;

    /// Called once the job has given up (dead), so the handler can mark what it was working
    /// on as failed. Errors here are logged, not retried.
    async fn on_dead(
        &self,
        _db: &Db,
        _job_id: &str,
        _payload: serde_json::Value,
        _error: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Handlers by kind, registered in one place at start-up.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    pub fn register(mut self, kind: &'static str, handler: impl JobHandler + 'static) -> Self {
        self.handlers.insert(kind, Arc::new(handler));
        self
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }
}
