//! Group commit for webhook ingest. Each delivery is verified and parsed on its own request
//! task, in parallel; storing is handed to a committer, which takes every delivery waiting at
//! that moment, stores them in one transaction (`receive_batch`) and answers each request only
//! after that commit. An acknowledged event is therefore always durable, exactly as with one
//! transaction per event, but a busy moment costs one commit instead of hundreds: on SQLite
//! every commit is a trip through the single writer, which on a SQLite file is a thread with a
//! connection of its own (`SqliteWriter`).

use super::ingest::{receive_batch, store_batch, Incoming, Received};
use crate::server::db::{Backend, Db, SqliteWriter};
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
    tx: mpsc::Sender<Waiting>,
}

impl IngestQueue {
    /// Starts the committers: on a SQLite file one thread driving its own connection
    /// (`SqliteWriter`), as SQLite has one writer anyway; on PostgreSQL four tasks on the
    /// current Tokio runtime, so one batch's commit overlaps the next one's inserts.
    pub fn start(db: Db) -> IngestQueue {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        match SqliteWriter::open(&db) {
            Some(Ok(writer)) => {
                std::thread::Builder::new()
                    .name("ingest-commit".into())
                    .spawn(move || sqlite_commit_loop(writer, rx))
                    .expect("a thread for the webhook committer");
                return IngestQueue { tx };
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "cannot open the webhook committer's SQLite connection; committing through the pool");
            }
            None => {}
        }
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

type Waiting = (Incoming, Reply);

/// Adds every delivery already waiting to `first`, up to `MAX_BATCH`.
fn fill(first: Waiting, rx: &mut mpsc::Receiver<Waiting>) -> Vec<Waiting> {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    batch
}

async fn commit_loop(db: Db, rx: Arc<Mutex<mpsc::Receiver<Waiting>>>) {
    let mut store = PoolStore(db);
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(first) => fill(first, &mut rx),
                None => return,
            }
        };
        answer(batch, &mut store).await;
    }
}

/// The committer thread on a SQLite file: waits for deliveries without the runtime, and stores
/// each batch in one transaction on its own connection. Ends when every `IngestQueue` is gone.
fn sqlite_commit_loop(mut writer: SqliteWriter, mut rx: mpsc::Receiver<Waiting>) {
    while let Some(first) = rx.blocking_recv() {
        let batch = fill(first, &mut rx);
        // Nothing awaited on this connection ever waits (each statement runs synchronously),
        // so the future completes on its first poll; block_on only drives it.
        futures::executor::block_on(answer(batch, &mut writer));
    }
}

/// Where a committer stores its batches: each batch in one transaction. The error is only
/// logged, so it comes as its text.
trait Store {
    async fn store(&mut self, items: &[Incoming]) -> Result<Vec<Received>, String>;
}

/// Through sqlx's pool (`receive_batch`).
struct PoolStore(Db);

impl Store for PoolStore {
    async fn store(&mut self, items: &[Incoming]) -> Result<Vec<Received>, String> {
        receive_batch(&self.0, items)
            .await
            .map_err(|e| e.to_string())
    }
}

impl Store for SqliteWriter {
    async fn store(&mut self, items: &[Incoming]) -> Result<Vec<Received>, String> {
        let stored = async {
            let mut tx = self.begin()?;
            let outcomes = store_batch(&mut tx, items).await?;
            tx.commit()?;
            Ok(outcomes)
        };
        stored.await.map_err(|e: rusqlite::Error| e.to_string())
    }
}

/// Stores a batch and answers each delivery with its outcome.
async fn answer(batch: Vec<Waiting>, committer: &mut impl Store) {
    let (items, replies): (Vec<Incoming>, Vec<Reply>) = batch.into_iter().unzip();
    match committer.store(&items).await {
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
            for (item, reply) in items.iter().zip(replies) {
                let outcome = committer
                    .store(std::slice::from_ref(item))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::{database::DatabaseUrl, stripe::StripeMode};
    use crate::server::stripe::EventEnvelope;

    async fn fresh_db(dir: &std::path::Path, name: &str) -> Db {
        let url = DatabaseUrl::parse(&format!("sqlite://{}/{name}.db", dir.display())).unwrap();
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        db
    }

    fn incoming(id: &str, kind: &str, livemode: bool, customer: &str) -> Incoming {
        let raw = format!(
            r#"{{"id":"{id}","object":"event","type":"{kind}","created":1767225600,"livemode":{livemode},"api_version":"2024-06-20","data":{{"object":{{"id":"in_{id}","object":"invoice","customer":"{customer}"}}}}}}"#
        );
        Incoming {
            event: EventEnvelope::parse(raw.as_bytes()).unwrap(),
            raw,
            key_mode: Some(StripeMode::Test),
            now_ms: 1_767_225_600_000,
        }
    }

    /// Everything a stored batch leaves behind, without the random job ids.
    async fn dump(db: &Db) -> Vec<String> {
        let text = |sql: &'static str| async move {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_all(db.pool())
                .await
                .unwrap()
        };
        let mut out = text(
            "SELECT id || '|' || event_type || '|' || created || '|' || livemode || '|' || \
             COALESCE(object_type, '-') || '|' || COALESCE(object_id, '-') || '|' || \
             COALESCE(stripe_customer_id, '-') || '|' || payload || '|' || status || '|' || \
             COALESCE(status_reason, '-') || '|' || duplicate_count || '|' || (job_id IS NULL) \
             FROM stripe_events ORDER BY id",
        )
        .await;
        out.extend(
            text(
                "SELECT kind || '|' || payload || '|' || status || '|' || COALESCE(dedupe_key, '-') \
                 || '|' || max_attempts FROM jobs ORDER BY dedupe_key",
            )
            .await,
        );
        out.extend(
            text(
                "SELECT 'linked ' || COUNT(*) FROM stripe_events e JOIN jobs j ON j.id = e.job_id",
            )
            .await,
        );
        out
    }
    /// The committer's own SQLite connection binds and stores a batch exactly as sqlx does:
    /// new, repeated (in the batch and already stored), unhandled and other-mode events alike.
    #[tokio::test]
    async fn the_sqlite_committer_stores_a_batch_exactly_as_sqlx_does() {
        let dir = std::env::temp_dir().join(format!("ll-commit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (via_sqlx, via_writer) = (fresh_db(&dir, "a").await, fresh_db(&dir, "b").await);
        let earlier = vec![incoming("evt_seen", "invoice.paid", false, "cus_1")];
        let batch = vec![
            incoming("evt_new", "invoice.paid", false, "cus_2"),
            incoming("evt_seen", "invoice.paid", false, "cus_1"),
            incoming("evt_unmirrored", "invoice.upcoming", false, "cus_2"),
            incoming("evt_live", "invoice.paid", true, "cus_3"),
            incoming("evt_new", "invoice.paid", false, "cus_2"),
        ];

        let mut expected = Vec::new();
        for items in [&earlier, &batch] {
            expected.push(receive_batch(&via_sqlx, items).await.unwrap());
        }
        let writer_db = via_writer.clone();
        let (earlier_c, batch_c) = (earlier.clone(), batch.clone());
        let got = tokio::task::spawn_blocking(move || {
            let mut writer = SqliteWriter::open(&writer_db).unwrap().unwrap();
            [earlier_c, batch_c]
                .iter()
                .map(|items| futures::executor::block_on(writer.store(items)).unwrap())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();

        assert_eq!(
            expected[1],
            vec![
                Received::Queued,
                Received::Duplicate,
                Received::Ignored,
                Received::ModeMismatch,
                Received::Duplicate
            ]
        );
        assert_eq!(got, expected);
        let stored = dump(&via_sqlx).await;
        assert!(stored.len() > 5, "{stored:?}");
        assert_eq!(dump(&via_writer).await, stored);
        via_sqlx.close().await;
        via_writer.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
