//! Group commit for webhook ingest. Each delivery is verified and parsed on its own request
//! task, in parallel; storing is handed to a committer, which takes every delivery waiting at
//! that moment, stores them in one transaction (`receive_batch`) and answers each request only
//! after that commit. An acknowledged event is therefore always durable, exactly as with one
//! transaction per event, but a busy moment costs one commit instead of hundreds: on SQLite
//! every commit is a trip through the single writer.

use super::ingest::{receive_batch, Incoming, Received};
use crate::server::db::{Backend, Db};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Most deliveries stored in one transaction. Beyond this a batch only adds latency.
const MAX_BATCH: usize = 128;
/// Deliveries waiting for a committer before new ones are told to come back later (503).
const QUEUE_DEPTH: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store failed; nothing of this delivery was kept.
    #[error("the event could not be stored")]
    Store,
    /// More deliveries are waiting than the committers can take; nothing was kept.
    #[error("too many deliveries are waiting to be stored")]
    Busy,
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Closed,
}

type Reply = oneshot::Sender<Result<Received, IngestError>>;

/// A handle to the committers; cloning it is cheap. Committers stop when every handle is gone.
#[derive(Clone, Debug)]
pub struct IngestQueue {
    tx: mpsc::Sender<(Incoming, Reply)>,
}

impl IngestQueue {
    /// Starts the committers on the current Tokio runtime: one on SQLite, which has one writer
    /// anyway; four on PostgreSQL, so one batch's commit overlaps the next one's inserts.
    pub fn start(db: Db) -> IngestQueue {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let rx = Arc::new(Mutex::new(rx));
        let committers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..committers {
            tokio::spawn(commit_loop(db.clone(), rx.clone()));
        }
        IngestQueue { tx }
    }

    /// Stores one delivery and returns once it is committed (or known not to be).
    pub async fn submit(&self, incoming: Incoming) -> Result<Received, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.tx.try_send((incoming, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => IngestError::Busy,
            mpsc::error::TrySendError::Closed(_) => IngestError::Closed,
        })?;
        answer.await.unwrap_or(Err(IngestError::Closed))
    }
}

async fn commit_loop(db: Db, rx: Arc<Mutex<mpsc::Receiver<(Incoming, Reply)>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let (items, replies): (Vec<Incoming>, Vec<Reply>) = batch.into_iter().unzip();
        match receive_batch(&db, &items).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A requester that gave up (client gone) does not need an answer.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) if items.len() > 1 => {
                // One bad row must not fail its neighbours forever (Stripe would redeliver the
                // whole batch's events into new batches): store each on its own.
                tracing::warn!(error = %e, size = items.len(), "a webhook batch failed; storing its events one by one");
                for (item, reply) in items.into_iter().zip(replies) {
                    let outcome = receive_batch(&db, std::slice::from_ref(&item))
                        .await
                        .map(|o| o[0])
                        .map_err(|e| {
                            tracing::error!(error = %e, event = item.event.id.as_str(), "could not store a stripe event");
                            IngestError::Store
                        });
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, event = items[0].event.id.as_str(), "could not store a stripe event");
                for reply in replies {
                    let _ = reply.send(Err(IngestError::Store));
                }
            }
        }
    }
}
